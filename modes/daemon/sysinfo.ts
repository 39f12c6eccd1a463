/**
 * What the host's cgroups support, for `/info` (MemoryLimit, SwapLimit), as
 * moby's pkg/sysinfo decides it (v20.10.24 cgroup2_linux.go, sysinfo_linux.go):
 * v1: `memory.limit_in_bytes` / `memory.memsw.limit_in_bytes` in the memory
 * hierarchy; v2: the `memory` controller, and `memory.swap.max` in the
 * daemon's own cgroup (or, at the root, in a child cgroup).
 * @module
 */
import { layout } from "../../core/runtime/cgroups.ts";
import { existsSync } from "../../core/errdefs/ignore.ts";

export interface MemorySupport {
  memoryLimit: boolean;
  swapLimit: boolean;
}

function ownV2Path(): string {
  try {
    const m = /^0::(.*)$/m.exec(Deno.readTextFileSync("/proc/self/cgroup"));
    return m ? m[1].replace(/\/+$/, "") : "";
  } catch {
    return "";
  }
}

export function memorySupport(): MemorySupport {
  const l = layout();
  const v1 = l.hierarchies.find((h) => !h.v2 && h.controllers.includes("memory"));
  if (v1) {
    return {
      memoryLimit: existsSync(`${v1.mountpoint}/memory.limit_in_bytes`),
      swapLimit: existsSync(`${v1.mountpoint}/memory.memsw.limit_in_bytes`),
    };
  }
  const v2 = l.hierarchies.find((h) => h.v2);
  if (!v2) return { memoryLimit: false, swapLimit: false };
  let controllers = "";
  try {
    controllers = Deno.readTextFileSync(`${v2.mountpoint}/cgroup.controllers`);
  } catch {
    return { memoryLimit: false, swapLimit: false };
  }
  if (!controllers.split(/\s+/).includes("memory")) return { memoryLimit: false, swapLimit: false };
  const own = ownV2Path();
  let swap = own !== "" && existsSync(`${v2.mountpoint}${own}/memory.swap.max`);
  if (!swap && own === "") {
    try {
      for (const e of Deno.readDirSync(v2.mountpoint)) {
        if (e.isDirectory && existsSync(`${v2.mountpoint}/${e.name}/memory.swap.max`)) {
          swap = true;
          break;
        }
      }
    } catch { /* unreadable root: no swap accounting known */ }
  }
  return { memoryLimit: true, swapLimit: swap };
}
