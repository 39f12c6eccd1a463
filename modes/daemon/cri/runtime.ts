/**
 * The CRI RuntimeService's runtime-wide methods: Version, Status (is the
 * pod network usable: the CNI config parses and its plugins are there),
 * UpdateRuntimeConfig and RuntimeConfig (the cgroup driver). Pods are ./pods.ts, containers ./containers.ts.
 * @module
 */
import { BERTH_VERSION } from "../../../core/version.ts";
import type { DaemonConfig } from "../config.ts";
import type { Msg, Unary } from "./types.ts";
import { Cni, cniBinDirs, cniConfFiles, parseCniConf } from "./cni.ts";
import { messageOf } from "../../../core/errdefs/mod.ts";

export function runtimeHandlers(s: { config: DaemonConfig }): Record<string, Unary> {
  return {
    Version: () =>
      Promise.resolve({
        version: "0.1.0", // the CRI's own kubelet-facing version, as containerd says
        runtime_name: "berth",
        runtime_version: BERTH_VERSION,
        runtime_api_version: "v1",
      }),
    // kubelet sends the node's pod CIDR; containerd fills a CNI config template with it when
    // one is configured. berth has no template: the conf dir is the administrator's.
    UpdateRuntimeConfig: () => Promise.resolve({}),
    // kubelet (1.28+) and critest ask which cgroup driver to name cgroup parents for: berth
    // takes `cgroup_parent` as a cgroupfs path (docs/cri.md)
    RuntimeConfig: () => Promise.resolve({ linux: { cgroup_driver: "CGROUPFS" } }),
    async Status(req: Msg) {
      const dir = s.config.cniConfDir ?? "/etc/cni/net.d";
      const conf = (await cniConfFiles(dir))[0];
      let problem = conf ? "" : `cni plugin not initialized (no network config in ${dir})`;
      if (conf) {
        // what RunPodSandbox would do: parse the first file, find its plugins
        try {
          const net = parseCniConf(conf, await Deno.readTextFile(conf));
          await new Cni(cniBinDirs(s.config.cniBinDir)).checkPlugins(net);
        } catch (e) {
          problem = `cni config load failed: ${messageOf(e)}`;
        }
      }
      const network = !problem ? { type: "NetworkReady", status: true, reason: "", message: "" } : {
        type: "NetworkReady",
        status: false,
        reason: "NetworkPluginNotReady",
        message: `Network plugin returns error: ${problem}`,
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
              cniBinDirs: cniBinDirs(s.config.cniBinDir),
              root: s.config.root,
            }),
          }
          : {},
      };
    },
  };
}
