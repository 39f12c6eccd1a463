/**
 * `HostConfig.Sysctls` at create: only sysctls of a namespace the container
 * has for itself (core/oci/sysctl.ts); a container that shares the host's
 * network (`host`, or `container:X` where X does) may set no net.*, one that
 * shares the host's IPC namespace none of the IPC ones. Refused with 400
 * before anything is recorded; the built-in runtime's init checks again.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { type OwnNamespaces, sysctlsError } from "../../../core/oci/sysctl.ts";
import type { HostConfig } from "../../../core/api/types.ts";

type Modes = Pick<HostConfig, "NetworkMode" | "IpcMode" | "UTSMode">;

/** The namespaces a container with this HostConfig owns; `other` resolves `container:X`. */
export function ownNamespaces(
  hc: Partial<Modes>,
  other: (ref: string) => { HostConfig: Partial<Modes> } | undefined,
): OwnNamespaces {
  const own = (field: keyof Modes, mode: unknown, depth = 0): boolean => {
    if (mode === "host") return false;
    if (typeof mode === "string" && mode.startsWith("container:") && depth < 8) {
      const o = other(mode.slice("container:".length));
      return o ? own(field, o.HostConfig?.[field], depth + 1) : true;
    }
    return true;
  };
  const net = own("NetworkMode", hc.NetworkMode);
  const ipc = own("IpcMode", hc.IpcMode);
  const uts = own("UTSMode", hc.UTSMode);
  return { net, ipc, uts };
}

export function checkSysctls(
  hc: Partial<Modes> & Pick<HostConfig, "Sysctls">,
  other: (ref: string) => { HostConfig: Partial<Modes> } | undefined,
): void {
  if (!hc.Sysctls) return;
  const e = sysctlsError(hc.Sysctls, ownNamespaces(hc, other));
  if (e) throw new InvalidArgument(e);
}
