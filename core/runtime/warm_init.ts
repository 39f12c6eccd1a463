/**
 * A pre-booted `init` for the built-in runtime. Booting init's Deno runtime
 * (exec of `unshare`, Deno start-up, module load) and the first spawn of a
 * process cost ≈ 20 ms of every container create. A warm shim pays that while
 * nobody waits: it spawns one init ahead of need, in a new pid, uts, ipc and
 * network namespace, with all three stdio streams piped, and init blocks on
 * its sync socket until create() sends the InitConfig. Its mount namespace is
 * made only then (InitConfig.unshareMount, on init's main thread): one made at
 * spawn would be a copy of the host's mounts from before the container's
 * rootfs was mounted.
 *
 * create() takes it when the container's namespaces can be reached from
 * there: the pid namespace must be a new one (pid 1 is fixed at spawn); a
 * uts/ipc/network namespace that is a path, or the host's, is joined with
 * setns on init's main thread (the only thread that execs); unused stdio
 * streams are closed on our side and replaced by /dev/null in init
 * (InitConfig.nullStdio).
 * @module
 */

import type { OciSpec } from "../oci/runtime_types.ts";
import { exitStatus, spawnInPidNs } from "./proc.ts";
import type { ExitStatus } from "./runtime.ts";
import { peerGone, tempLeftover } from "../errdefs/ignore.ts";

export interface WarmInit {
  child: Deno.ChildProcess;
  listener: Deno.Listener;
  syncSocket: string;
  status: Promise<ExitStatus>;
  /** set once init has exited (it cannot be used then) */
  exited: boolean;
}

/** Spawn an init that waits on `syncSocket` (a path the caller owns) for its config. */
export function prewarmInit(initArgv: string[], syncSocket: string): WarmInit {
  try {
    Deno.removeSync(syncSocket);
  } catch { /* none */ }
  const listener = Deno.listen({ transport: "unix", path: syncSocket });
  let child: Deno.ChildProcess;
  try {
    child = spawnInPidNs("unshare", {
      args: ["--uts", "--ipc", "--net", "--", ...initArgv, "create", syncSocket],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }, { kind: "new" });
  } catch (e) {
    listener.close();
    throw e;
  }
  const w: WarmInit = {
    child,
    listener,
    syncSocket,
    status: child.status.then(exitStatus),
    exited: false,
  };
  w.status.then(() => w.exited = true);
  return w;
}

/** Let a warm init go (it exits when its sync socket closes). */
export async function discardWarmInit(w: WarmInit): Promise<void> {
  w.listener.close();
  try {
    w.child.kill("SIGKILL");
  } catch { /* gone */ }
  await w.status;
  await w.child.stdout.cancel().catch(peerGone);
  await w.child.stderr.cancel().catch(peerGone);
  await w.child.stdin.close().catch(peerGone);
  await Deno.remove(w.syncSocket).catch(tempLeftover);
}

const HOST_NS: Record<string, string> = { uts: "uts", ipc: "ipc", network: "net" };

/**
 * The namespaces a warm init must join for `spec` (host ones through
 * `/proc/<our pid>/ns/…`), or null when a warm init cannot serve it.
 */
export function warmJoins(spec: OciSpec): { type: string; path: string }[] | null {
  const nss = spec.linux?.namespaces ?? [];
  const pid = nss.find((n) => n.type === "pid");
  if (!pid || pid.path) return null;
  if (nss.some((n) => n.type === "user" || n.type === "time")) return null;
  if (nss.some((n) => n.type === "mount" && n.path)) return null;
  const joins: { type: string; path: string }[] = [];
  for (const [type, name] of Object.entries(HOST_NS)) {
    const n = nss.find((x) => x.type === type);
    if (!n) joins.push({ type: name, path: `/proc/${Deno.pid}/ns/${name}` });
  }
  return joins;
}
