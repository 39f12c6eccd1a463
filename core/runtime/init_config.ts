/**
 * What the built-in runtime (builtin.ts, in the caller's process) tells the
 * `init` personality (init_main.ts): the first JSON line on the sync socket,
 * and the messages init sends back. Types only: nothing here is loaded at run
 * time.
 * @module
 */

import type { OciProcess } from "../oci/runtime_types.ts";

/** One hierarchy to show under the container's /sys/fs/cgroup. */
export interface CgroupMount {
  /** directory name under /sys/fs/cgroup ("memory", "unified"); "" = cgroup v2 at the top */
  name: string;
  /** host directory of the container's cgroup in that hierarchy */
  source: string;
}

export interface InitConfig {
  mode: "create" | "exec";
  /** unix socket the caller listens on for InitMessage lines */
  syncSocket: string;
  /** create: the bundle (config.json is read from there); exec: unused */
  bundle: string;
  /** exec: the process to run */
  process?: OciProcess;
  /** absolute host path of the rootfs (create) */
  rootfs: string;
  /** create: the fifo start() opens (runc's exec.fifo) */
  execFifo?: string;
  /** tty slave to use (host path) */
  ttyPath?: string;
  /** unix socket to send the pty master to, when init allocates the pty */
  consoleSocket?: string;
  /** host paths of cgroup.procs files to join (write "0") */
  cgroupProcs: string[];
  /** create: what to bind under the container's /sys/fs/cgroup */
  cgroupMounts: CgroupMount[];
  /** host /sys/fs/cgroup symlinks to recreate (name → target), e.g. cpuacct → cpu,cpuacct */
  cgroupLinks: [string, string][];
  /** unshare(CLONE_NEWCGROUP) after joining the cgroup */
  newCgroupNs: boolean;
  noPivot?: boolean;
  /** exec: host pid of the container's init, whose namespaces are joined */
  targetPid?: number;
  /** create: the nice value to exec with (a warm init boots at a lower priority) */
  nice?: number;
  /** create: unshare(CLONE_NEWNS) first (a warm init was spawned in the host's mount namespace) */
  unshareMount?: boolean;
  /** create: which of fds 0, 1, 2 to replace with /dev/null before exec (a warm init's pipes) */
  nullStdio?: [boolean, boolean, boolean];
  /**
   * a pid namespace to fork the process into, once everything else is set up
   * (exec mode; create with a joined pid namespace): init_exec.ts
   */
  joinPidNs?: string;
  /** namespaces to join with setns: type is "ipc" | "uts" | "net" | "cgroup" | "mnt" */
  joinNs?: { type: string; path: string }[];
  /**
   * create: the caller's (the host's) net, ipc and uts namespaces as "dev:ino";
   * init refuses sysctls of any of them it still shares (core/oci/sysctl.ts)
   */
  hostNs?: Record<"net" | "ipc" | "uts", string>;
  /** the compiled seccomp filter to load before execve (seccomp_prepare.ts) */
  seccomp?: InitSeccomp;
}

/** A compiled seccomp filter: base64 of the sock_filter array, seccomp(2) flags. */
export interface InitSeccomp {
  program: string;
  flags: number;
}

/** One JSON line from init to the caller on the sync socket. */
export type InitMessage =
  | { pid: number }
  | { warn: string }
  | { ok: true }
  | { error: string; exitCode: number };
