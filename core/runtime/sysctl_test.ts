/**
 * The runtime refuses sysctls that are the host's (issue 11 item 3, defence
 * in depth below the daemon's check): the built-in runtime's init and runc,
 * same bundles, same refusals, and the host's values stay as they were.
 *   deno test -A core/runtime/sysctl_test.ts
 */
import { assertEquals, assertRejects } from "../testing/assert.ts";
import type { OciRuntime } from "./runtime.ts";
import { BuiltinRuntime } from "./builtin.ts";
import { ExternalRuntime } from "./external.ts";
import {
  type BundleOptions,
  hasRunc,
  makeBusyboxRootfs,
  readAll,
  writeBundle,
} from "./testutil.ts";
import { setSubreaper } from "../sys/libc_proc.ts";

const root = Deno.uid() === 0;
if (!root) console.log("sysctl_test: skipped: needs root");

const PRINTK = "/proc/sys/kernel/printk_ratelimit_burst";
const KEEPALIVE = "/proc/sys/net/ipv4/tcp_keepalive_probes";
const SHMMNI = "/proc/sys/kernel/shmmni";
const read = (p: string) => Deno.readTextFileSync(p).trim();

/** Another value than the host's (a small positive number). */
const other = (p: string) => String(Number(read(p)) === 11 ? 12 : 11);

function suite(name: string, make: (base: string) => OciRuntime, ignore: boolean) {
  Deno.test({
    name: `runtime ${name}: sysctls of the host's namespaces are refused`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      setSubreaper();
      const base = await Deno.makeTempDir({ prefix: `berth-sysctl-${name}-` });
      const rootfs = `${base}/rootfs`;
      await makeBusyboxRootfs(rootfs);
      const rt = make(base);
      let n = 0;
      const host = { printk: read(PRINTK), keepalive: read(KEEPALIVE), shmmni: read(SHMMNI) };
      const run = async (o: BundleOptions, sysctl: Record<string, string>) => {
        const id = `s${Date.now().toString(36)}${n++}`;
        await writeBundle(`${base}/b-${id}`, id, rootfs, {
          ...o,
          edit: (s) => (s.linux!.sysctl = sysctl),
        });
        try {
          const p = await rt.create(id, `${base}/b-${id}`, {
            stdio: { kind: "pipes", stdin: false },
          });
          const out = readAll(p.stdout);
          await rt.start(id);
          await p.status;
          return await out;
        } finally {
          await rt.delete(id, true).catch(() => {});
        }
      };
      try {
        await assertRejects(
          () => run({ cmd: ["true"] }, { "kernel.printk_ratelimit_burst": other(PRINTK) }),
          Error,
          `sysctl "kernel.printk_ratelimit_burst" is not in a separate kernel namespace`,
        );
        await assertRejects(
          () =>
            run({ cmd: ["true"], host: { NetworkMode: "host" } }, {
              "net.ipv4.tcp_keepalive_probes": other(KEEPALIVE),
            }),
          Error,
          `sysctl "net.ipv4.tcp_keepalive_probes" not allowed in host network namespace`,
        );
        await assertRejects(
          () =>
            run({ cmd: ["true"], host: { IpcMode: "host" } }, {
              "kernel.shmmni": other(SHMMNI),
            }),
          Error,
          `sysctl "kernel.shmmni" is not allowed in the hosts ipc namespace`,
        );
        assertEquals(
          { printk: read(PRINTK), keepalive: read(KEEPALIVE), shmmni: read(SHMMNI) },
          host,
        );
        // the container's own namespaces: set inside, the host's stay
        const inside = await run(
          { cmd: ["cat", KEEPALIVE, SHMMNI] },
          { "net.ipv4.tcp_keepalive_probes": "3", "kernel.shmmni": "1234" },
        );
        assertEquals(inside, "3\n1234\n");
        assertEquals(
          { printk: read(PRINTK), keepalive: read(KEEPALIVE), shmmni: read(SHMMNI) },
          host,
        );
      } finally {
        // had the runtime written them, put the host's values back
        Deno.writeTextFileSync(PRINTK, host.printk);
        Deno.writeTextFileSync(KEEPALIVE, host.keepalive);
        Deno.writeTextFileSync(SHMMNI, host.shmmni);
        await Deno.remove(base, { recursive: true }).catch(() => {});
      }
    },
  });
}

suite("berth", (base) => new BuiltinRuntime({ root: `${base}/state` }), !root);
suite(
  "runc",
  (base) => new ExternalRuntime({ name: "runc", root: `${base}/state` }),
  !root || !hasRunc,
);
