/**
 * Docker 20.10 compatibility of networks, images and volumes through real
 * clients (the docker CLI and the Docker SDK for Python): network names,
 * IPAM.Options, `GET /images/{id}/get` tags, anonymous volumes and prune.
 * Where the expected values come from: docs/compat.md.
 */
import { assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import { hasPyDocker, py } from "./fixtures/pydocker.ts";

Deno.test("compat: networks, images, volumes as Docker 20.10", async (t) => {
  const d = await containerDaemon();
  const k = (args: string[]) => d.docker(args, { timeoutMs: 30000 });
  const sdk = await hasPyDocker();
  try {
    await t.step("networks: a name with a space or a slash is accepted and usable", async () => {
      expectCode(await k(["network", "create", "test 01"]), 0);
      const r = expectCode(
        await k(["run", "--rm", "--network", "test 01", "busybox", "hostname", "-i"]),
        0,
      );
      assertStringIncludes(r.stdout, ".");
      assertEquals(
        expectCode(await k(["network", "inspect", "-f", "{{.Name}}", "test 01"]), 0).stdout,
        "test 01\n",
      );
      expectCode(await k(["network", "rm", "test 01"]), 0);
      // a slash too: moby's routes take the rest of the path as the network
      expectCode(await k(["network", "create", "team/a"]), 0);
      const c = expectCode(await k(["create", "--name", "slashy", "busybox", "true"]), 0).stdout
        .trim();
      expectCode(await k(["network", "connect", "team/a", c]), 0);
      assertEquals(
        expectCode(
          await k(["network", "inspect", "-f", "{{range .Containers}}{{.Name}}{{end}}", "team/a"]),
          0,
        ).stdout,
        "\n", // a created container has no endpoint yet
      );
      expectCode(await k(["network", "disconnect", "team/a", c]), 0);
      expectCode(await k(["rm", c]), 0);
      expectCode(await k(["network", "rm", "team/a"]), 0);
      const bad = expectCode(await k(["network", "create", " "]), 1);
      assertStringIncludes(bad.stderr, "invalid name");
    });

    await t.step({
      name: "networks: IPAM.Options is null unless given (python SDK)",
      ignore: !sdk,
      fn: async () => {
        const r = await py(
          d,
          `
import docker.types
a = client.create_network("ipam-none")["Id"]
b = client.create_network("ipam-opts", ipam=docker.types.IPAMConfig(options={"x": "1"}))["Id"]
print(json.dumps(client.inspect_network(a)["IPAM"]["Options"]))
print(json.dumps(client.inspect_network(b)["IPAM"]["Options"]))
client.remove_network(a); client.remove_network(b)
`,
        );
        assertEquals(r.stdout, 'null\n{"x": "1"}\n', r.stderr);
      },
    });

    await t.step({
      name: "images: GET /images/{id}/get carries no tags, by name it does (python SDK)",
      ignore: !sdk,
      fn: async () => {
        expectCode(await k(["tag", "busybox", "busybox:other"]), 0);
        const r = await py(
          d,
          `
import io, tarfile
def tags(name):
    data = b"".join(client.get_image(name))
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        m = json.load(tf.extractfile("manifest.json"))
    return json.dumps(m[0]["RepoTags"])
iid = client.inspect_image("busybox")["Id"]
print(tags(iid))
print(tags(iid[7:19]))
print(tags("busybox:other"))
print(tags("busybox"))
`,
        );
        assertEquals(
          r.stdout,
          'null\nnull\n["busybox:other"]\n["busybox:latest", "busybox:other"]\n',
          r.stderr,
        );
        expectCode(await k(["rmi", "busybox:other"]), 0);
      },
    });

    await t.step(
      "images: several reference filters are ORed; only matching tags shown",
      async () => {
        for (const v of ["v1", "v2", "v3", "v4"]) {
          expectCode(await k(["tag", "busybox", `myimage:${v}`]), 0);
        }
        const r = expectCode(
          await k([
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "--filter",
            "reference=myimage:v1",
            "--filter",
            "reference=myimage:v2",
            "--filter",
            "reference=myimage:v3",
          ]),
          0,
        );
        assertEquals(r.stdout.trim().split("\n").sort(), [
          "myimage:v1",
          "myimage:v2",
          "myimage:v3",
        ]);
        if (sdk) {
          const p = await py(
            d,
            `
imgs = client.images(filters={"reference": ["myimage:v1", "myimage:v2", "myimage:v3"]})
print(len(imgs), sorted(imgs[0]["RepoTags"]))
print(len(client.images(filters={"reference": "myimage"})[0]["RepoTags"]))
`,
          );
          assertEquals(p.stdout, "1 ['myimage:v1', 'myimage:v2', 'myimage:v3']\n4\n", p.stderr);
        }
        for (const v of ["v1", "v2", "v3", "v4"]) {
          expectCode(await k(["rmi", `myimage:${v}`]), 0);
        }
      },
    );

    await t.step({
      name: "networks: network connect with a MacAddress sets it (python SDK, live and stopped)",
      ignore: !sdk,
      fn: async () => {
        const r = await py(
          d,
          `
n = client.create_network("macnet")["Id"]
def connect(c, mac):
    r = client._post_json(client._url("/networks/{0}/connect", n),
        data={"Container": c, "EndpointConfig": {"MacAddress": mac}})
    client._raise_for_status(r)
live = client.create_container("busybox", "sleep 100")["Id"]
client.start(live)
connect(live, "02:42:ac:11:00:99")
e = client.exec_create(live, "cat /sys/class/net/eth1/address")
print(client.exec_start(e).decode().strip())
print(client.inspect_container(live)["NetworkSettings"]["Networks"]["macnet"]["MacAddress"])
off = client.create_container("busybox", "cat /sys/class/net/eth1/address")["Id"]
connect(off, "02:42:ac:11:00:98")
client.start(off); client.wait(off)
print(client.logs(off).decode().strip())
client.remove_container(live, force=True); client.remove_container(off, force=True)
client.remove_network(n)
`,
        );
        assertEquals(r.code, 0, r.stderr);
        assertEquals(
          r.stdout,
          "02:42:ac:11:00:99\n02:42:ac:11:00:99\n02:42:ac:11:00:98\n",
        );
      },
    });

    await t.step("volumes: one created without a name is anonymous; prune removes it", async () => {
      const anon = expectCode(await k(["volume", "create"]), 0).stdout.trim();
      expectCode(await k(["volume", "create", "keepme"]), 0);
      const r = expectCode(await k(["volume", "prune", "-f"]), 0);
      assertStringIncludes(r.stdout, anon);
      const left = expectCode(await k(["volume", "ls", "-q"]), 0).stdout;
      assertEquals(left, "keepme\n");
      if (sdk) {
        const p = await py(
          d,
          `
v = client.create_volume()["Name"]
print(client.prune_volumes()["VolumesDeleted"] == [v])
# below API 1.42 every unused volume goes, named ones too (Docker 20.10)
res = client._post(client.base_url + "/v1.41/volumes/prune")
print(client._result(res, True)["VolumesDeleted"])
`,
        );
        assertEquals(p.stdout, "True\n['keepme']\n", p.stderr);
      }
    });
  } finally {
    await d.stop();
  }
});
