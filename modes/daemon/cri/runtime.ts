/**
 * The CRI RuntimeService methods built so far: Version and Status. Pods,
 * containers, streaming and stats come next (docs/cri.md); ./server.ts
 * answers UNIMPLEMENTED for them.
 * @module
 */
import { BERTH_VERSION } from "../../../core/version.ts";
import type { Services } from "../services.ts";
import type { Msg, Unary } from "./types.ts";

/**
 * A network config the CNI would use: the first `.conf`, `.conflist` or
 * `.json` file of the conf dir in name order, as containerd (libcni's
 * ConfFiles) picks it. Undefined when there is none.
 */
export async function cniConfig(dir: string): Promise<string | undefined> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if ((e.isFile || e.isSymlink) && /\.(conf|conflist|json)$/.test(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  names.sort();
  return names[0] && `${dir}/${names[0]}`;
}

export function runtimeHandlers(s: Services): Record<string, Unary> {
  return {
    Version: () =>
      Promise.resolve({
        version: "0.1.0", // the CRI's own kubelet-facing version, as containerd says
        runtime_name: "berth",
        runtime_version: BERTH_VERSION,
        runtime_api_version: "v1",
      }),
    async Status(req: Msg) {
      const dir = s.config.cniConfDir ?? "/etc/cni/net.d";
      const conf = await cniConfig(dir);
      const network = conf ? { type: "NetworkReady", status: true, reason: "", message: "" } : {
        type: "NetworkReady",
        status: false,
        reason: "NetworkPluginNotReady",
        message:
          `Network plugin returns error: cni plugin not initialized (no network config in ${dir})`,
      };
      return {
        status: {
          conditions: [{ type: "RuntimeReady", status: true, reason: "", message: "" }, network],
        },
        info: req.verbose
          ? {
            config: JSON.stringify({
              cniConfDir: dir,
              cniConfig: conf ?? null,
              root: s.config.root,
            }),
          }
          : {},
      };
    },
  };
}
