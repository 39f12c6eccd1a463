/**
 * Entry of the program for `deno compile` and for the single file
 * (tools/bundle.ts, where each literal import below becomes a chunk of its
 * own): installs a registry of literal imports for every lazily loaded module
 * (core/sys/lazy.ts), so the bundler includes them, then runs main.ts. Keep
 * this list in step with the lazy() call sites (a missing one fails loudly at
 * run time; tests/bundle_test.ts builds the single file and runs containers
 * from it).
 * @module
 */
(globalThis as { __berthModules?: Record<string, () => Promise<unknown>> }).__berthModules = {
  "modes/daemon/main.ts": () => import("../modes/daemon/main.ts"),
  "modes/daemon/serve.ts": () => import("../modes/daemon/serve.ts"),
  "modes/registry/main.ts": () => import("../modes/registry/main.ts"),
  "core/shim/main.ts": () => import("../core/shim/main.ts"),
  "core/runtime/init_main.ts": () => import("../core/runtime/init_main.ts"),
  "modes/client/main.ts": () => import("../modes/client/main.ts"),
  "modes/client/commands/images.ts": () => import("../modes/client/commands/images.ts"),
  "modes/client/commands/system.ts": () => import("../modes/client/commands/system.ts"),
  "modes/client/commands/containers.ts": () => import("../modes/client/commands/containers.ts"),
  "modes/client/commands/containers_run.ts": () =>
    import("../modes/client/commands/containers_run.ts"),
  "modes/client/commands/containers_ps.ts": () =>
    import("../modes/client/commands/containers_ps.ts"),
  "modes/client/commands/exec.ts": () => import("../modes/client/commands/exec.ts"),
  "modes/client/commands/volumes.ts": () => import("../modes/client/commands/volumes.ts"),
  "modes/client/commands/networks.ts": () => import("../modes/client/commands/networks.ts"),
  "modes/client/commands/distribution.ts": () => import("../modes/client/commands/distribution.ts"),
  "modes/client/commands/build.ts": () => import("../modes/client/commands/build.ts"),
  "modes/client/commands/cp.ts": () => import("../modes/client/commands/cp.ts"),
  "modes/client/commands/events.ts": () => import("../modes/client/commands/events.ts"),
  "modes/client/commands/stats.ts": () => import("../modes/client/commands/stats.ts"),
  "modes/client/commands/update.ts": () => import("../modes/client/commands/update.ts"),
  "modes/client/commands/commit.ts": () => import("../modes/client/commands/commit.ts"),
  "modes/daemon/cri/server.ts": () => import("../modes/daemon/cri/server.ts"),
  "core/archive/apply.ts": () => import("../core/archive/apply.ts"),
};
const { main } = await import("../main.ts");
Deno.exit(await main(Deno.args));
