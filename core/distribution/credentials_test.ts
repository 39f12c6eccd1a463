import { assertEquals } from "../testing/assert.ts";
import {
  credentialKey,
  DOCKER_HUB_KEY,
  getCredentials,
  hostnameOf,
  removeCredentials,
  saveCredentials,
} from "./credentials.ts";

Deno.test("credentials: docker config.json compatible", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const opts = { configDir: dir };
    // A file as the docker CLI writes it, with other settings to keep.
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: btoa("hub:hubpw") },
          "http://old.example:5000/v2/": { auth: btoa("o:p") },
        },
        psFormat: "table {{.ID}}",
      }),
    );
    assertEquals(credentialKey("docker.io"), DOCKER_HUB_KEY);
    assertEquals(credentialKey("localhost:5000"), "localhost:5000");
    assertEquals(hostnameOf("https://a.example:1/v2/"), "a.example:1");
    assertEquals(await getCredentials("docker.io", opts), { username: "hub", password: "hubpw" });
    assertEquals(await getCredentials("old.example:5000", opts), { username: "o", password: "p" });
    assertEquals(await getCredentials("nope", opts), undefined);
    await saveCredentials("localhost:5000", { username: "ü", password: "p:w" }, opts);
    assertEquals(await getCredentials("localhost:5000", opts), { username: "ü", password: "p:w" });
    await saveCredentials("old.example:5000", { identityToken: "refresh" }, opts);
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assertEquals(cfg.psFormat, "table {{.ID}}");
    assertEquals(cfg.auths["old.example:5000"], { identitytoken: "refresh" });
    assertEquals(cfg.auths["http://old.example:5000/v2/"], undefined);
    assertEquals((await Deno.stat(`${dir}/config.json`)).mode! & 0o777, 0o600);
    assertEquals(await removeCredentials("docker.io", opts), true);
    assertEquals(await removeCredentials("docker.io", opts), false);
    assertEquals(await getCredentials("docker.io", opts), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("credentials: missing file and helper fallback", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await getCredentials("x", { configDir: dir }), undefined);
    // A credsStore whose helper is not installed: the file is used.
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ credsStore: "berth-test-none" }),
    );
    await saveCredentials("h:1", { username: "u", password: "p" }, { configDir: dir });
    assertEquals(await getCredentials("h:1", { configDir: dir }), { username: "u", password: "p" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
