/**
 * Types of the OCI runtime spec (config.json, runtime-spec v1.1), the subset
 * berth generates and its built-in runtime understands. runc/crun accept the
 * same document.
 * @module
 */

export interface OciUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface OciCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface OciRlimit {
  /** e.g. "RLIMIT_NOFILE" */
  type: string;
  soft: number;
  hard: number;
}

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciRoot {
  path: string;
  readonly?: boolean;
}

export type OciNamespaceType =
  | "pid"
  | "network"
  | "mount"
  | "ipc"
  | "uts"
  | "user"
  | "cgroup"
  | "time";

export interface OciNamespace {
  type: OciNamespaceType;
  /** join an existing namespace (e.g. /proc/123/ns/net) instead of creating one */
  path?: string;
}

export interface OciDevice {
  type: "c" | "b" | "u" | "p";
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceCgroup {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number | null;
  minor?: number | null;
  access?: string;
}

export interface OciResources {
  devices?: OciDeviceCgroup[];
  memory?: {
    limit?: number;
    reservation?: number;
    swap?: number;
    kernel?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: number;
    quota?: number;
    period?: number;
    realtimeRuntime?: number;
    realtimePeriod?: number;
    cpus?: string;
    mems?: string;
  };
  pids?: { limit: number };
  blockIO?: { weight?: number };
}

/**
 * A uint64 of a seccomp argument rule: a number, a bigint (read with
 * seccomp_profile.ts parseExactJson) or a `JSON.rawJSON` (written exactly).
 */
export type OciSeccompValue = number | bigint | { readonly rawJSON: string };

export interface OciSeccompArg {
  index: number;
  value: OciSeccompValue;
  valueTwo?: OciSeccompValue;
  /** SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE, _MASKED_EQ */
  op: string;
}

export interface OciSyscall {
  names: string[];
  /** SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_PROCESS, _TRAP, _TRACE, _LOG, … */
  action: string;
  errnoRet?: number;
  args?: OciSeccompArg[] | null;
}

export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_X86_64, SCMP_ARCH_X86, … (the native one is always included) */
  architectures?: string[];
  /** SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW, _TSYNC */
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: OciSyscall[];
}

export interface OciLinux {
  namespaces?: OciNamespace[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: OciResources;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  sysctl?: Record<string, string>;
  seccomp?: OciSeccomp;
  mountLabel?: string;
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** The whole config.json. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: OciRoot;
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: Record<string, OciHook[]>;
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

/** The OCI `state` document (what `runc state` prints). */
export interface OciState {
  ociVersion: string;
  id: string;
  status: "creating" | "created" | "running" | "stopped" | "paused";
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}
