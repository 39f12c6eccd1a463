/**
 * Test helpers for the runtime tests: a busybox rootfs built from the host's
 * busybox-static, a bundle with a Docker-like config.json, and cleanup.
 * @module
 */

import { generateSpec, type HostConfigInput, type MountInput } from "../oci/runtime_spec.ts";
import type { OciSpec } from "../oci/runtime_types.ts";

/** Build a minimal rootfs with /bin/busybox and its applets as symlinks. */
export async function makeBusyboxRootfs(dir: string): Promise<void> {
  for (const d of ["bin", "etc", "tmp", "root", "home/user", "proc", "sys", "dev"]) {
    await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  }
  await Deno.chmod(`${dir}/tmp`, 0o1777);
  await Deno.copyFile("/bin/busybox", `${dir}/bin/busybox`);
  await Deno.chmod(`${dir}/bin/busybox`, 0o755);
  const out = await new Deno.Command("/bin/busybox", { args: ["--list"] }).output();
  for (const app of new TextDecoder().decode(out.stdout).split("\n")) {
    if (app && app !== "busybox") await Deno.symlink("busybox", `${dir}/bin/${app}`);
  }
  await Deno.writeTextFile(
    `${dir}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n" +
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  await Deno.writeTextFile(
    `${dir}/etc/group`,
    "root:x:0:\nwheel:x:10:root,user\nuser:x:1000:\naudio:x:29:user\nnogroup:x:65534:\n",
  );
  await Deno.writeTextFile(`${dir}/etc/noexec`, "#!/bin/sh\n");
}

/** Is runc installed (where Debian puts it)? The runc variants of the tests need it. */
export const hasRunc = (() => {
  try {
    return Deno.statSync("/usr/sbin/runc").isFile;
  } catch {
    return false;
  }
})();

/** cgroup parent of the test containers: one per test process, so parallel runs do not meet. */
export const CGROUP_PARENT = `/berth-test-${Deno.pid}`;

export interface BundleOptions {
  cmd: string[];
  tty?: boolean;
  host?: HostConfigInput;
  mounts?: MountInput[];
  env?: string[];
  user?: { uid: number; gid: number; additionalGids: number[]; home: string };
  hostname?: string;
  hostCaps?: readonly string[];
  init?: string;
  edit?: (s: OciSpec) => void;
}

/** Write `<bundle>/config.json` for `rootfs`; returns the spec. */
export async function writeBundle(
  bundle: string,
  id: string,
  rootfs: string,
  o: BundleOptions,
): Promise<OciSpec> {
  await Deno.mkdir(bundle, { recursive: true });
  const spec = generateSpec({
    id,
    rootfs,
    config: { Cmd: o.cmd, Tty: o.tty, Env: o.env ?? ["PATH=/bin"], Hostname: o.hostname },
    host: { NetworkMode: "none", ...o.host },
    mounts: o.mounts,
    user: o.user,
    cgroupsPath: `${CGROUP_PARENT}/${id}`,
    hostCaps: o.hostCaps,
    init: o.init,
  });
  o.edit?.(spec);
  await Deno.writeTextFile(`${bundle}/config.json`, JSON.stringify(spec, null, 2));
  return spec;
}

/** argv prefix that runs berth from this checkout (init then runs as `… main.ts init`). */
export function berthArgv(): string[] {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  return [Deno.execPath(), "run", "-A", "--quiet", "--no-prompt", "--no-check", main];
}

export async function readAll(s: ReadableStream<Uint8Array> | undefined): Promise<string> {
  return s ? await new Response(s).text() : "";
}
