/**
 * Offline stand-ins for the images critest v1.29.0 pulls, pushed to a
 * registry (`berth registry` on loopback) under the repository paths critest
 * asks for. The daemon under test maps the hosts critest names (`gcr.io`,
 * `registry.k8s.io`) to that registry (its registry mirrors), so the image
 * names critest compares stay the real ones. Every image is one layer: a
 * busybox-static rootfs (tests/fixtures/busybox.ts) with the passwd/group of
 * the busybox image and what the upstream Dockerfile (cri-tools images/) adds.
 *
 * The one image that cannot be stood in for is
 * `gcr.io/k8s-staging-cri-tools/test-image-digest@sha256:9700f9…`: its digest
 * is fixed, so that spec fails for every runtime pulling from here.
 *
 * Usage: `deno run -A tools/critest/images.ts http://127.0.0.1:5000 [PAUSE_REF]`
 * (docs/cri.md "critest and crictl").
 * @module
 */
import { createHash } from "node:crypto";
import { busyboxRootfs } from "../../tests/fixtures/busybox.ts";
import { pauseElf } from "../../modes/daemon/cri/pause.ts";

/** /etc/passwd and /etc/group of busybox:1.36 (the base of cri-tools' test images). */
const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "bin:x:2:2:bin:/bin:/bin/false",
  "sys:x:3:3:sys:/dev:/bin/false",
  "sync:x:4:100:sync:/bin:/bin/sync",
  "mail:x:8:8:mail:/var/spool/mail:/bin/false",
  "www-data:x:33:33:www-data:/var/www:/bin/false",
  "operator:x:37:37:Operator:/var:/bin/false",
  "nobody:x:65534:65534:nobody:/home:/bin/false",
];
const GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "bin:x:2:",
  "sys:x:3:",
  "adm:x:4:",
  "tty:x:5:",
  "disk:x:6:",
  "wheel:x:10:root",
  "mail:x:12:",
  "www-data:x:33:",
  "operator:x:37:",
  "staff:x:50:",
  "audio:x:29:",
  "users:x:100:",
  "nogroup:x:65534:",
];

interface Stand {
  /** repository path (no host) and its tags */
  repo: string;
  tags: string[];
  /** files added to the rootfs (path → content) */
  files?: Record<string, string>;
  user?: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: string[];
  passwd?: string[];
  group?: string[];
  /** a rootfs of only these files (no busybox) */
  bare?: Record<string, Uint8Array>;
  /** more to do in the rootfs (after the files) */
  build?: (root: string) => Promise<void>;
}

/** e2e-test-images/nonewprivs: a setuid-root program printing its effective uid. */
const NNP_C = `#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\\n", (int)geteuid()); return 0; }
`;

async function buildNnp(root: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "critest-nnp-" });
  try {
    await Deno.writeTextFile(`${dir}/nnp.c`, NNP_C);
    await run(["gcc", "-static", "-Os", "-o", `${dir}/nnp`, `${dir}/nnp.c`]);
    await Deno.mkdir(`${root}/usr/local/bin`, { recursive: true });
    await Deno.copyFile(`${dir}/nnp`, `${root}/usr/local/bin/nnp`);
    await Deno.chown(`${root}/usr/local/bin/nnp`, 0, 0);
    await Deno.chmod(`${root}/usr/local/bin/nnp`, 0o4755);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * e2e-test-images/httpd's start as critest reads it from the log (Apache's
 * "Command line" notice), then busybox httpd on :80.
 */
const HTTPD = `#!/bin/sh
echo "[core:notice] AH00094: Command line: 'httpd -D FOREGROUND' (berth critest stand-in)" >&2
exec httpd -f -p 80 -h /usr/local/apache2/htdocs
`;

const INDEX = "<html><body>berth critest stand-in</body></html>\n";

/**
 * Applets the busybox image has and Debian's busybox-static lacks, as scripts
 * (critest runs `pgrep sleep` and `ipcs -m`).
 */
const MISSING_APPLETS: Record<string, string> = {
  "usr/bin/pgrep": `#!/bin/sh
# stand-in for pgrep PATTERN: the pids whose name matches
for d in /proc/[0-9]*; do
  n=$(cat "$d/comm" 2>/dev/null) || continue
  echo "$n" | grep -qE -- "$1" && echo "\${d#/proc/}"
done
exit 0
`,
  "usr/bin/ipcs": `#!/bin/sh
# stand-in for ipcs -m: the shared memory segments of this IPC namespace
echo "------ Shared Memory Segments --------"
cat /proc/sysvipc/shm
`,
};

/**
 * The nginx stand-in: a process named nginx whose command line says "master
 * process" (critest's pid-namespace specs look for both), its pid in
 * /var/run/nginx.pid, serving / on $PORT with busybox httpd.
 */
const NGINX = `#!/bin/sh
echo $$ > /var/run/nginx.pid
httpd -f -p "\${PORT:-80}" -h /usr/share/nginx/html &
trap 'kill $!; exit 0' TERM INT
wait
`;
const STAGING = "k8s-staging-cri-tools";
const E2E = "e2e-test-images";

/** The images critest v1.29.0 uses (pkg/validate/consts.go, pkg/framework/util.go). */
export function standIns(pauseRepo = "pause", pauseTag = "3.9"): Stand[] {
  const testImage = (name: string, tags: string[]): Stand => ({
    repo: `${STAGING}/${name}`,
    tags,
    files: { [name]: "" },
  });
  return [
    { repo: `${E2E}/busybox`, tags: ["1.29-2"], cmd: ["sh"] },
    {
      repo: `${E2E}/nginx`,
      tags: ["1.14-2"],
      files: { "usr/share/nginx/html/index.html": INDEX, "usr/sbin/nginx": NGINX },
      cmd: ["nginx", "master process"],
    },
    {
      // images/hostnet-nginx: nginx listening on 12003
      repo: `${STAGING}/hostnet-nginx-amd64`,
      tags: ["latest"],
      files: { "usr/share/nginx/html/index.html": INDEX, "usr/sbin/nginx": NGINX },
      cmd: ["nginx", "master process"],
      env: ["PORT=12003"],
    },
    {
      repo: `${E2E}/httpd`,
      tags: ["2.4.39-4"],
      files: {
        "usr/local/apache2/htdocs/index.html": INDEX,
        "usr/local/bin/httpd-foreground": HTTPD,
      },
      cmd: ["httpd-foreground"],
    },
    {
      repo: `${E2E}/nonewprivs`,
      tags: ["1.3"],
      entrypoint: ["/usr/local/bin/nnp"],
      build: buildNnp,
    },
    { repo: `${STAGING}/test-image-user-uid`, tags: ["latest"], user: "1002" },
    { repo: `${STAGING}/test-image-user-username`, tags: ["latest"], user: "www-data" },
    { repo: `${STAGING}/test-image-user-uid-group`, tags: ["latest"], user: "1003:1004" },
    {
      repo: `${STAGING}/test-image-user-username-group`,
      tags: ["latest"],
      user: "www-data:1004",
    },
    {
      // adduser -u 1000 -D default-user; addgroup -g 50000 group-defined-in-image; USER 1000
      repo: `${STAGING}/test-image-predefined-group`,
      tags: ["latest"],
      user: "1000",
      passwd: [...PASSWD, "default-user:x:1000:1000::/home/default-user:/bin/sh"],
      group: [...GROUP, "default-user:x:1000:", "group-defined-in-image:x:50000:default-user"],
    },
    testImage("test-image-1", ["latest"]),
    testImage("test-image-2", ["latest"]),
    testImage("test-image-3", ["latest"]),
    testImage("test-image-latest", ["latest"]),
    testImage("test-image-tag", ["test", "all"]),
    testImage("test-image-digest", ["latest"]),
    { repo: `${STAGING}/test-image-tags`, tags: ["1", "2", "3"], files: { "same-image": "" } },
    {
      repo: pauseRepo,
      tags: [pauseTag],
      bare: { pause: pauseElf() },
      entrypoint: ["/pause"],
    },
  ];
}

async function run(cmd: string[]): Promise<void> {
  const r = await new Deno.Command(cmd[0], { args: cmd.slice(1), stderr: "piped" }).output();
  if (!r.success) {
    throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * The busybox image's applets are hard links to /bin/busybox, not symlinks:
 * critest masks /bin/ls (a bind of /dev/null), which through a symlink would
 * mask busybox itself.
 */
async function hardLinkApplets(root: string): Promise<void> {
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin"]) {
    for await (const e of Deno.readDir(`${root}/${d}`)) {
      if (!e.isSymlink) continue;
      const p = `${root}/${d}/${e.name}`;
      if (!(await Deno.readLink(p)).endsWith("busybox")) continue;
      await Deno.remove(p);
      await Deno.link(`${root}/bin/busybox`, p);
    }
  }
}

/**
 * A busybox tree from a dynamically linked busybox (`$CRITEST_BUSYBOX`:
 * Debian's `busybox` package, `apt-get download busybox`, run.sh does it)
 * and the libraries it loads. Debian's busybox-static has a "standalone"
 * shell (its applets run in-process, never through /bin), unlike the
 * busybox image critest expects: its MaskedPaths spec masks /bin/ls and
 * wants `sh -c ls` to fail.
 */
async function dynamicBusyboxRootfs(root: string, bin: string): Promise<void> {
  await busyboxRootfs(root); // the directories, /etc, and the static applets' names
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin"]) {
    for await (const e of Deno.readDir(`${root}/${d}`)) {
      if (e.isSymlink) await Deno.remove(`${root}/${d}/${e.name}`);
    }
  }
  await Deno.remove(`${root}/bin/busybox`);
  await Deno.copyFile(bin, `${root}/bin/busybox`);
  await Deno.chmod(`${root}/bin/busybox`, 0o755);
  const out = await new Deno.Command(bin, { args: ["--list-full"], stdout: "piped" }).output();
  for (const p of new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)) {
    if (p === "bin/busybox") continue;
    await Deno.mkdir(`${root}/${p.slice(0, p.lastIndexOf("/")) || "."}`, { recursive: true });
    await Deno.remove(`${root}/${p}`).catch(() => {/* not a static applet's name */});
    await Deno.link(`${root}/bin/busybox`, `${root}/${p}`);
  }
  const ldd = await new Deno.Command("ldd", { args: [bin], stdout: "piped" }).output();
  for (const line of new TextDecoder().decode(ldd.stdout).split("\n")) {
    const lib = /(?:=>\s*)?(\/\S+)\s+\(/.exec(line)?.[1];
    if (!lib) continue;
    await Deno.mkdir(`${root}${lib.slice(0, lib.lastIndexOf("/"))}`, { recursive: true });
    await Deno.copyFile(await Deno.realPath(lib), `${root}${lib}`);
  }
}

/** A layer tar of a stand-in (deterministic: sorted, mtime 0, numeric owners). */
async function layerOf(s: Stand, work: string): Promise<Uint8Array> {
  const root = `${work}/rootfs`;
  await Deno.remove(work, { recursive: true }).catch(() => {});
  await Deno.mkdir(root, { recursive: true });
  if (s.bare) {
    for (const [p, b] of Object.entries(s.bare)) {
      await Deno.writeFile(`${root}/${p}`, b, { mode: 0o755 });
    }
  } else {
    const dyn = Deno.env.get("CRITEST_BUSYBOX");
    if (dyn) await dynamicBusyboxRootfs(root, dyn);
    else await busyboxRootfs(root);
    await Deno.remove(`${root}/home/alice`, { recursive: true });
    await Deno.writeTextFile(`${root}/etc/passwd`, (s.passwd ?? PASSWD).join("\n") + "\n");
    await Deno.writeTextFile(`${root}/etc/group`, (s.group ?? GROUP).join("\n") + "\n");
    await Deno.mkdir(`${root}/var/run`, { recursive: true });
    for (const [p, content] of Object.entries({ ...MISSING_APPLETS, ...s.files })) {
      const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "";
      if (dir) await Deno.mkdir(`${root}/${dir}`, { recursive: true });
      // an applet's symlink (a busybox that has it) is replaced, not written through
      await Deno.remove(`${root}/${p}`).catch(() => {/* not there */});
      await Deno.writeTextFile(`${root}/${p}`, content, {
        mode: content.startsWith("#!") ? 0o755 : 0o644,
      });
    }
    await s.build?.(root);
    await hardLinkApplets(root);
  }
  await run([
    "tar",
    "--sort=name",
    "--mtime=@0",
    "--numeric-owner",
    "--format=posix",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
    "-C",
    root,
    "-cf",
    `${work}/layer.tar`,
    ".",
  ]);
  const tar = await Deno.readFile(`${work}/layer.tar`);
  await Deno.remove(work, { recursive: true });
  return tar;
}

async function pushBlob(reg: string, repo: string, b: Uint8Array): Promise<string> {
  const digest = sha(b);
  const head = await fetch(`${reg}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
  await head.body?.cancel();
  if (head.ok) return digest;
  const start = await fetch(`${reg}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await start.body?.cancel();
  if (start.status !== 202) throw new Error(`upload ${repo}: ${start.status}`);
  const loc = new URL(start.headers.get("location")!, reg);
  loc.searchParams.set("digest", digest);
  const put = await fetch(loc, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: b as Uint8Array<ArrayBuffer>,
  });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`upload ${repo} ${digest}: ${put.status}`);
  return digest;
}

/** Build every stand-in and push it to `reg` (http://host:port); returns the refs pushed. */
export async function pushStandIns(reg: string, stands = standIns()): Promise<string[]> {
  const pushed: string[] = [];
  const work = await Deno.makeTempDir({ prefix: "critest-images-" });
  try {
    for (const s of stands) {
      const layer = await layerOf(s, `${work}/l`);
      const config = new TextEncoder().encode(JSON.stringify({
        architecture: "amd64",
        os: "linux",
        created: "2024-01-01T00:00:00Z",
        config: {
          Env: [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ...s.env ?? [],
          ],
          ...(s.cmd ? { Cmd: s.cmd } : {}),
          ...(s.entrypoint ? { Entrypoint: s.entrypoint } : {}),
          ...(s.user ? { User: s.user } : {}),
        },
        rootfs: { type: "layers", diff_ids: [sha(layer)] },
        history: [{ created: "2024-01-01T00:00:00Z", created_by: `berth critest stand-in` }],
      }));
      const manifest = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: await pushBlob(reg, s.repo, config),
          size: config.length,
        },
        layers: [{
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: await pushBlob(reg, s.repo, layer),
          size: layer.length,
        }],
      }));
      for (const tag of s.tags) {
        const r = await fetch(`${reg}/v2/${s.repo}/manifests/${tag}`, {
          method: "PUT",
          headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
          body: manifest,
        });
        await r.body?.cancel();
        if (r.status !== 201) throw new Error(`manifest ${s.repo}:${tag}: ${r.status}`);
        pushed.push(`${s.repo}:${tag}`);
      }
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return pushed;
}

if (import.meta.main) {
  const [reg, pause = "pause:3.9"] = Deno.args;
  if (!reg) {
    console.error("usage: images.ts http://127.0.0.1:PORT [PAUSE_REPO:TAG]");
    Deno.exit(2);
  }
  const i = pause.lastIndexOf(":");
  for (const r of await pushStandIns(reg, standIns(pause.slice(0, i), pause.slice(i + 1)))) {
    console.log(r);
  }
}
