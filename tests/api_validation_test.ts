/**
 * Every request body is validated at the router (modes/daemon/api): bad types
 * and bad values are a 400 with Docker's words and nothing is stored; Go's
 * decoding rules (names fold case, null is absent); bodies are bounded (413).
 * Issue 11 items 7 and 8, issue 16 (null, error words), issue 17 (JSON decoding).
 */
import { assertEquals } from "../core/testing/assert.ts";
import { http1 } from "../modes/client/http1.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import type { TestDaemon } from "./fixtures/daemon.ts";

const enc = new TextEncoder();

async function call(
  d: TestDaemon,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await http1(
    d.socket,
    method,
    `/v1.41${path}`,
    body === undefined ? {} : { "Content-Type": "application/json" },
    body === undefined ? undefined : enc.encode(body),
  );
  const text = new TextDecoder().decode(r.body);
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { raw: text };
  }
  return { status: r.status, json };
}

/** Nothing was stored, and every client can still list containers. */
async function nothingStored(d: TestDaemon): Promise<void> {
  const list = await call(d, "GET", "/containers/json?all=1");
  assertEquals([list.status, list.json], [200, []]);
  assertEquals(expectCode(await d.docker(["ps", "-a", "-q"]), 0, "docker ps -a").stdout, "");
  assertEquals(expectCode(await d.berth(["ps", "-a", "-q"]), 0, "berth ps -a").stdout, "");
}

/** Bodies from issue 11 item 7 → dockerd's message (read from dockerd 20.10 itself). */
const BAD_CREATES: [string, string][] = [
  [
    '{"Image":"busybox","Cmd":5}',
    "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string",
  ],
  [
    '{"Image":5}',
    "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image of type string",
  ],
  [
    '{"Image":"busybox","Labels":{"a":5}}',
    "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string",
  ],
  [
    '{"Image":"busybox","HostConfig":{"PortBindings":"x"}}',
    "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.PortBindings of type nat.PortMap",
  ],
  [
    '{"Image":"busybox","HostConfig":{"Memory":"64m"}}',
    "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64",
  ],
  [
    '{"Image":"busybox","HostConfig":{"Memory":1e300}}',
    "json: cannot unmarshal number 1e300 into Go struct field HostConfig.HostConfig.Memory of type int64",
  ],
  [
    '{"Image":"busybox","Env":"A=1"}',
    "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string",
  ],
  [
    '{"Image":"busybox","HostConfig":"x"}',
    "json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig of type container.HostConfig",
  ],
  ['{"Image":"busybox","HostConfig":{"Memory":-5}}', "Minimum memory limit allowed is 6MB"],
  [
    '{"Image":"busybox","HostConfig":{"CpuShares":-5}}',
    "invalid CPU shares (-5): value must be a positive integer",
  ],
  [
    '{"Image":"busybox","HostConfig":{"CapAdd":["CAP_BOGUS"]}}',
    'invalid CapAdd: unknown capability: "CAP_BOGUS"',
  ],
  [
    '{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"bogus":"1"}}}}',
    "unknown log opt 'bogus' for json-file log driver",
  ],
  [
    '{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"abc"}}}}',
    "invalid size: 'abc'",
  ],
  [
    '{"Image":"busybox","HostConfig":{"SecurityOpt":["seccomp={bad"]}}',
    "Decoding seccomp profile failed: invalid character 'b' looking for beginning of object key string",
  ],
  // issue 16: the validations Docker's integration tests expect
  ['{"Image":"busybox","Env":["=A"]}', "invalid environment variable: =A"],
  [
    '{"Image":"busybox","Healthcheck":{"Test":["CMD","true"],"Interval":100}}',
    "Interval in Healthcheck cannot be less than 1ms",
  ],
  [
    '{"Image":"busybox","Healthcheck":{"Test":["CMD","true"],"Retries":-1}}',
    "Retries in Healthcheck cannot be negative",
  ],
  [
    '{"Image":"busybox","HostConfig":{"Tmpfs":{"rel":""}}}',
    "invalid mount path: 'rel' mount path must be absolute",
  ],
  [
    '{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"rel"}]}}',
    `invalid mount config for type "tmpfs": invalid mount path: 'rel' mount path must be absolute`,
  ],
  [
    '{"Image":"busybox","HostConfig":{"VolumesFrom":["nonexist"]}}',
    "No such container: nonexist",
  ],
  [
    '{"Image":"busybox","HostConfig":{"Links":["nonexist:a"]}}',
    "could not get container for nonexist: No such container: nonexist",
  ],
  [
    '{"Image":"busybox","HostConfig":{"PortBindings":{"abc/tcp":[{"HostPort":"80"}]}}}',
    'invalid port specification: "abc"',
  ],
  ["{invalid", "invalid character 'i' looking for beginning of object key string"],
  ["", "got EOF while reading request body"],
];

Deno.test("bad create bodies: 400 with Docker's words, nothing stored, clients unharmed", async () => {
  const d = await containerDaemon();
  try {
    for (const [body, msg] of BAD_CREATES) {
      const r = await call(d, "POST", "/containers/create", body);
      assertEquals([r.status, r.json.message], [400, msg], body);
    }
    const p = await call(d, "POST", "/containers/create?platform=bogus", '{"Image":"busybox"}');
    assertEquals([p.status, p.json.message], [
      400,
      '"bogus": unknown operating system or architecture: invalid argument',
    ]);
    await nothingStored(d);
  } finally {
    await d.stop();
  }
});

Deno.test("bad bodies of the other routes: Go's words, no 500, nothing made", async () => {
  const d = await containerDaemon();
  try {
    const cases: [string, string, string, string][] = [
      ["POST", "/volumes/create", "", "got EOF while reading request body"],
      [
        "POST",
        "/volumes/create",
        '{"Labels":{"a":5}}',
        "json: cannot unmarshal number into Go struct field VolumeCreateBody.Labels of type string",
      ],
      [
        "POST",
        "/networks/create",
        '{"Name":"n","IPAM":{"Config":"x"}}',
        "json: cannot unmarshal string into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig",
      ],
      [
        "POST",
        "/networks/bridge/connect",
        '{"Container":5}',
        "json: cannot unmarshal number into Go struct field NetworkConnect.Container of type string",
      ],
      [
        "POST",
        "/networks/bridge/disconnect",
        '{"Container":"x","Force":"yes"}',
        "json: cannot unmarshal string into Go struct field NetworkDisconnect.Force of type bool",
      ],
      [
        "POST",
        "/auth",
        '{"username":5}',
        "json: cannot unmarshal number into Go struct field AuthConfig.username of type string",
      ],
      [
        "POST",
        "/build?buildargs=5",
        "",
        "error reading build args: json: cannot unmarshal number into Go value of type map[string]*string",
      ],
    ];
    for (const [method, path, body, msg] of cases) {
      const r = await call(d, method, path, body);
      assertEquals([r.status, r.json.message], [400, msg], `${path} ${body}`);
    }
    const vols = await call(d, "GET", "/volumes");
    assertEquals(vols.json.Volumes, []);
    const nets = await call(d, "GET", "/networks");
    assertEquals((nets.json as unknown as { Name: string }[]).some((n) => n.Name === "n"), false);
    // exec: a running container, a bad exec body, then Go's case-folded names
    const cid = expectCode(await d.berth(["run", "-d", "busybox", "sleep", "60"]), 0).stdout.trim();
    const bad = await call(d, "POST", `/containers/${cid}/exec`, '{"Cmd":"ls"}');
    assertEquals([bad.status, bad.json.message], [
      400,
      "json: cannot unmarshal string into Go struct field ExecConfig.Cmd of type []string",
    ]);
    const ok = await call(
      d,
      "POST",
      `/containers/${cid}/exec`,
      '{"cmd":["true"],"detachKeys":"ctrl-x"}',
    );
    assertEquals(ok.status, 201);
    const ex = await call(d, "GET", `/exec/${ok.json.Id}/json`);
    assertEquals(ex.json.DetachKeys, "ctrl-x");
    const start = await call(d, "POST", `/exec/${ok.json.Id}/start`, '{"Detach":"x"}');
    assertEquals([start.status, start.json.message], [
      400,
      "json: cannot unmarshal string into Go struct field ExecStartCheck.Detach of type bool",
    ]);
  } finally {
    await d.stop();
  }
});

Deno.test("Go's decoding rules: names fold case, null is absent (bodies and queries)", async () => {
  const d = await containerDaemon();
  try {
    const c = await call(
      d,
      "POST",
      "/containers/create",
      '{"image":"busybox","cmd":["true"],"labels":null,"hostconfig":{"memory":10000000,"binds":null},"Unknown":1}',
    );
    assertEquals(c.status, 201, JSON.stringify(c.json));
    const ins = await call(d, "GET", `/containers/${c.json.Id}/json`);
    const hc = ins.json.HostConfig as Record<string, unknown>;
    assertEquals(hc.Memory, 10000000);
    assertEquals((ins.json.Config as Record<string, unknown>).Cmd, ["true"]);
    // filters=null (a Go client's nil filter map)
    const list = await call(d, "GET", "/containers/json?all=1&filters=null");
    assertEquals([list.status, (list.json as unknown as unknown[]).length], [200, 1]);
    // a volume from a body of null is an ordinary anonymous create, as on Docker
    const v = await call(d, "POST", "/volumes/create", "null");
    assertEquals(v.status, 201);
    // POST /build with buildargs=null&labels=null, as the Go client sends nil maps
    const tar = await contextTar("FROM busybox\nARG A\nLABEL x=y\n");
    const r = await http1(
      d.socket,
      "POST",
      "/v1.41/build?t=nulls:1&buildargs=null&labels=null",
      { "Content-Type": "application/x-tar" },
      tar,
    );
    const out = new TextDecoder().decode(r.body);
    assertEquals(r.status, 200, out);
    assertEquals(out.includes('"errorDetail"'), false, out);
    assertEquals(out.includes("Successfully tagged nulls:1"), true, out);
  } finally {
    await d.stop();
  }
});

/** A build context tar holding one Dockerfile. */
async function contextTar(dockerfile: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/Dockerfile`, dockerfile);
    const r = await new Deno.Command("tar", { args: ["-C", dir, "-cf", "-", "Dockerfile"] })
      .output();
    return r.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Send a request head, then up to `send` bytes of body in the background; read the answer. */
async function bigRequest(
  d: TestDaemon,
  head: string,
  body: (write: (b: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<{ status: number; text: string; ms: number }> {
  const conn = await Deno.connect({ transport: "unix", path: d.socket });
  const t0 = performance.now();
  const write = async (b: Uint8Array) => {
    for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
  };
  await write(enc.encode(head));
  // The daemon may answer and close before it has read everything: ignore write errors.
  const writing = body(write).catch(() => {});
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    const text = new TextDecoder().decode(chunks.at(-1));
    if (text.includes("\r\n\r\n") && text.includes("}\n")) break;
  }
  const ms = performance.now() - t0;
  try {
    conn.close();
  } catch { /* closed by the daemon */ }
  await writing;
  const text = new TextDecoder().decode(
    chunks.reduce((a, c) => {
      const o = new Uint8Array(a.length + c.length);
      o.set(a);
      o.set(c, a.length);
      return o;
    }, new Uint8Array(0)),
  );
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), text, ms };
}

Deno.test("request size: a 100 MB label is refused (413) before it is read; chunked too", async () => {
  const d = await containerDaemon();
  try {
    // a valid body: {"Image":"busybox","Cmd":["true"],"Labels":{"a":"aaaa…"}} of 100 MB
    const prefix = enc.encode('{"Image":"busybox","Cmd":["true"],"Labels":{"a":"');
    const suffix = enc.encode('"}}');
    const label = 100 << 20;
    const r = await bigRequest(
      d,
      `POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${prefix.length + label + suffix.length}\r\n\r\n`,
      async (write) => {
        await write(prefix);
        const mb = new Uint8Array(1 << 20).fill(0x61);
        for (let i = 0; i < 100; i++) await write(mb);
        await write(suffix);
      },
    );
    assertEquals(r.status, 413, r.text.slice(0, 300));
    assertEquals(r.text.includes("request body too large"), true);
    // chunked (no Content-Length): refused once past the limit
    const c = await bigRequest(
      d,
      `POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n`,
      async (write) => {
        const chunk = new Uint8Array(1 << 20).fill(0x61);
        const sizeLine = enc.encode(`${chunk.length.toString(16)}\r\n`);
        await write(enc.encode(`${prefix.length.toString(16)}\r\n`));
        await write(prefix);
        await write(enc.encode("\r\n"));
        for (let i = 0; i < 8; i++) {
          await write(sizeLine);
          await write(chunk);
          await write(enc.encode("\r\n"));
        }
        await write(enc.encode("0\r\n\r\n"));
      },
    );
    assertEquals(c.status, 413, c.text.slice(0, 300));
    // a large but allowed label (1 MB) still works, and listing stays fast
    const big = await call(
      d,
      "POST",
      "/containers/create",
      JSON.stringify({ Image: "busybox", Cmd: ["true"], Labels: { a: "b".repeat(1 << 20) } }),
    );
    assertEquals(big.status, 201);
    const t0 = performance.now();
    expectCode(await d.berth(["ps", "-aq"]), 0);
    expectCode(await d.docker(["ps", "-aq"]), 0);
    const ms = performance.now() - t0;
    assertEquals(ms < 20000, true, `ps took ${ms} ms`);
  } finally {
    await d.stop();
  }
});
