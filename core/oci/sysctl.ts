/**
 * Which sysctls a container may set: only those of a kernel namespace the
 * container has for itself (runc's rule, libcontainer/configs/validate):
 * the IPC ones (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) with its
 * own IPC namespace, net.* with its own network namespace, kernel.domainname
 * with its own UTS namespace. Anything else in /proc/sys is the host's.
 * Checked at create by the daemon and again by the built-in runtime's init.
 * No imports: init's module graph stays tiny.
 *
 * @example
 * ```ts
 * import { sysctlError } from "./sysctl.ts";
 * sysctlError("kernel.printk", { net: true, ipc: true, uts: true });
 * // 'sysctl "kernel.printk" is not in a separate kernel namespace'
 * ```
 * @module
 */

/** Which namespaces the container has for itself (false: it shares the host's). */
export interface OwnNamespaces {
  net: boolean;
  ipc: boolean;
  uts: boolean;
}

const IPC_SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** A dotted name: no "/" (it would walk out of /proc/sys/<ns part>), no empty part. */
const KEY_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** Why `key` may not be set (runc's wording), or undefined when it may. */
export function sysctlError(key: string, own: OwnNamespaces): string | undefined {
  if (!KEY_RE.test(key)) return `invalid sysctl ${JSON.stringify(key)}`;
  const q = JSON.stringify(key);
  if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) {
    return own.ipc ? undefined : `sysctl ${q} is not allowed in the hosts ipc namespace`;
  }
  if (key.startsWith("net.")) {
    return own.net ? undefined : `sysctl ${q} not allowed in host network namespace`;
  }
  if (own.uts && key === "kernel.domainname") return undefined;
  if (own.uts && key === "kernel.hostname") {
    return `sysctl ${q} is not allowed as it conflicts with the OCI "hostname" field`;
  }
  return `sysctl ${q} is not in a separate kernel namespace`;
}

/** A namespace of `proc` (default: this thread) as "dev:ino", the target of `/proc/<proc>/ns/<type>`. */
export function nsId(type: string, proc = "thread-self"): string {
  const st = Deno.statSync(`/proc/${proc}/ns/${type}`);
  return `${st.dev}:${st.ino}`;
}

/** The first refusal for a set of sysctls (values must be strings), or undefined. */
export function sysctlsError(sysctls: unknown, own: OwnNamespaces): string | undefined {
  if (sysctls === undefined || sysctls === null) return undefined;
  if (typeof sysctls !== "object" || Array.isArray(sysctls)) {
    return "Sysctls must be a map of strings";
  }
  for (const [k, v] of Object.entries(sysctls)) {
    if (typeof v !== "string") return `invalid value for sysctl ${JSON.stringify(k)}: not a string`;
    const e = sysctlError(k, own);
    if (e) return e;
  }
  return undefined;
}
