/**
 * /_ping, /version, /info, /events (minimal), /system/df.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { API_VERSION, MIN_API_VERSION } from "../context.ts";
import { BERTH_VERSION } from "../../../core/version.ts";
import { memorySupport } from "../sysinfo.ts";
import { cmpVersion } from "../api_version.ts";

async function kernelVersion(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/sys/kernel/osrelease")).trim();
  } catch {
    return "unknown";
  }
}

async function osName(): Promise<string> {
  try {
    const t = await Deno.readTextFile("/etc/os-release");
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(t);
    return m ? m[1] : "Linux";
  } catch {
    return "Linux";
  }
}

function memTotal(): number {
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return 0;
  }
}

export function register(r: ApiRouter): void {
  r.add("GET", "/_ping", (ctx) => {
    const res = ctx.res!;
    res.setHeader("Builder-Version", "1");
    res.setHeader("Swarm", "inactive");
    res.setHeader("Cache-Control", "no-cache, no-store, must-revalidate");
    res.setHeader("Pragma", "no-cache");
    if (ctx.req.method === "HEAD") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": "0" });
      res.end();
      return;
    }
    ctx.text(200, "OK");
  });

  r.add("GET", "/version", async (ctx) => {
    const kv = await kernelVersion();
    const details = {
      ApiVersion: API_VERSION,
      Arch: "amd64",
      BuildTime: "",
      Experimental: "false",
      GitCommit: "",
      GoVersion: `deno${Deno.version.deno}`,
      KernelVersion: kv,
      MinAPIVersion: MIN_API_VERSION,
      Os: "linux",
    };
    ctx.send(200, {
      Platform: { Name: "berth" },
      Components: [{ Name: "Engine", Version: BERTH_VERSION, Details: details }],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: "",
      GoVersion: `deno${Deno.version.deno}`,
      Os: "linux",
      Arch: Deno.build.arch === "x86_64" ? "amd64" : "arm64",
      KernelVersion: kv,
      Experimental: false,
      BuildTime: "",
    });
  });

  r.add("GET", "/info", async (ctx) => {
    const s = ctx.daemon;
    const containers = s.containers.counts();
    const mem = memorySupport();
    const info: Record<string, unknown> = {
      ID: "berth",
      Containers: containers.total,
      ContainersRunning: containers.running,
      ContainersPaused: containers.paused,
      ContainersStopped: containers.stopped,
      Images: s.images.list().length,
      Driver: "overlay2",
      DriverStatus: [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
      Plugins: {
        Volume: ["local"],
        Network: ["bridge", "host", "null"],
        Authorization: null,
        Log: ["json-file"],
      },
      MemoryLimit: mem.memoryLimit,
      SwapLimit: mem.swapLimit,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: s.config.logLevel === "debug",
      NFd: 0,
      OomKillDisable: false,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: "json-file",
      CgroupDriver: "cgroupfs",
      CgroupVersion: await cgroupVersion(),
      NEventsListener: 0,
      KernelVersion: await kernelVersion(),
      OperatingSystem: await osName(),
      OSVersion: "",
      OSType: "linux",
      Architecture: Deno.build.arch,
      IndexServerAddress: "https://index.docker.io/v1/",
      RegistryConfig: {
        InsecureRegistryCIDRs: ["127.0.0.0/8", "::1/128"],
        IndexConfigs: {},
        Mirrors: [],
      },
      NCPU: navigator.hardwareConcurrency,
      MemTotal: memTotal(),
      DockerRootDir: s.config.root,
      HttpProxy: "",
      HttpsProxy: "",
      NoProxy: "",
      Name: Deno.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(
        [
          ["berth", { path: "berth" }],
          ["runc", { path: "runc" }], // always accepted (from $PATH), as dockerd's
          ...Object.entries(s.config.runtimes).map((
            [k, v],
          ) => [k, { path: v }]),
        ],
      ),
      DefaultRuntime: s.config.defaultRuntime,
      Swarm: {
        NodeID: "",
        NodeAddr: "",
        LocalNodeState: "inactive",
        ControlAvailable: false,
        Error: "",
        RemoteManagers: null,
      },
      LiveRestoreEnabled: true,
      Isolation: "",
      InitBinary: "",
      SecurityOptions: ["name=seccomp,profile=builtin"],
      Warnings: [],
    };
    if (cmpVersion(ctx.apiVersion, "1.25") < 0) {
      // api/server/router/system/system_routes.go getInfo: callers below 1.25
      // get ExecutionDriver and the security options' names only.
      info.ExecutionDriver = "<not supported>";
      info.SecurityOptions = ["seccomp"];
    }
    ctx.send(200, info);
  });
}

async function cgroupVersion(): Promise<string> {
  try {
    await Deno.stat("/sys/fs/cgroup/cgroup.controllers");
    const t = await Deno.readTextFile("/sys/fs/cgroup/cgroup.controllers");
    return t.trim() ? "2" : "1";
  } catch {
    return "1";
  }
}
