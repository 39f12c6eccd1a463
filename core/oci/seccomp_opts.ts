/**
 * `HostConfig.SecurityOpt` the way Docker reads it (daemon parseSecurityOpt):
 * `no-new-privileges[=bool]`, `seccomp=unconfined|builtin|<profile JSON>`,
 * `apparmor=…`, `label=…` (`k:v` is the deprecated spelling). Plus the
 * seccomp a container gets: its profile (Docker's default unless told), none
 * with `seccomp=unconfined` or `--privileged`.
 *
 * @example
 * ```ts
 * parseSecurityOpt(["no-new-privileges", "seccomp=unconfined"]);
 * // { noNewPrivileges: true, seccomp: "unconfined", labels: [] }
 * ```
 * @module
 */

import type { OciSeccomp } from "./runtime_types.ts";
import { InvalidArgument } from "../errdefs/mod.ts";
import { defaultProfile } from "./seccomp_default.ts";
import { parseProfile, resolveProfile, type SeccompEnv } from "./seccomp_profile.ts";

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "" (daemon default), "builtin", "unconfined" or a profile's JSON text */
  seccomp: string;
  apparmor?: string;
  labels: string[];
}

const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE = ["0", "f", "F", "FALSE", "false", "False"];

/** Parse SecurityOpt; throws InvalidArgument with Docker's messages. */
export function parseSecurityOpt(opts: readonly string[] | null | undefined): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: "", labels: [] };
  for (const opt of opts ?? []) {
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === "disable") {
      out.labels.push("disable");
      continue;
    }
    const sep = opt.includes("=") ? "=" : opt.includes(":") ? ":" : "";
    if (!sep) throw new InvalidArgument(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const k = opt.slice(0, opt.indexOf(sep)), v = opt.slice(opt.indexOf(sep) + 1);
    if (k === "label") out.labels.push(v);
    else if (k === "apparmor") out.apparmor = v;
    else if (k === "seccomp") out.seccomp = v;
    else if (k === "no-new-privileges" && (TRUE.includes(v) || FALSE.includes(v))) {
      out.noNewPrivileges = TRUE.includes(v);
    } else throw new InvalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
  }
  return out;
}

/**
 * What Docker stores in SecurityOpt when none was given (adaptContainerSettings):
 * `label=disable` for privileged containers and host pid/ipc namespaces.
 */
export function defaultSecurityOpt(
  hc: { Privileged?: boolean; IpcMode?: string; PidMode?: string },
): string[] | null {
  const ipc = hc.IpcMode ?? "", pid = hc.PidMode ?? "";
  if (!hc.Privileged && ipc !== "host" && pid !== "host") return null;
  // sharing another container's namespace copies its (empty, no SELinux) label
  if (ipc.startsWith("container:") || pid.startsWith("container:")) return null;
  return ["label=disable"];
}

const cache = new Map<string, OciSeccomp | null>();

/**
 * The OCI `linux.seccomp` of a container: undefined when unconfined or
 * privileged. `env.caps` is the container's bounding set. The resolved
 * default profile is cached per capability set.
 */
export function seccompFor(
  o: SecurityOptions,
  privileged: boolean,
  env: SeccompEnv,
): OciSeccomp | undefined {
  if (privileged || o.seccomp === "unconfined") return undefined;
  if (o.seccomp === "" || o.seccomp === "builtin") {
    const key = `${env.arch ?? ""}|${env.kernel ?? ""}|${[...env.caps].sort().join(",")}`;
    let r = cache.get(key);
    if (r === undefined) {
      if (cache.size > 64) cache.clear();
      r = resolveProfile(defaultProfile(), env);
      cache.set(key, r);
    }
    return r ? structuredClone(r) : undefined;
  }
  return resolveProfile(parseProfile(o.seccomp), env) ?? undefined;
}
