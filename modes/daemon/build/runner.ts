/**
 * RUN steps. {@link StepRunner} is the seam: run a command on top of a
 * state's layers and hand back the upper dir holding what it changed. The
 * shipped implementation, {@link OciStepRunner}, mounts the overlay itself
 * (image layers + an "init" layer with the mount points, as Docker's
 * `-init` layer, so they never land in the step's diff), writes an OCI
 * bundle with core/oci/runtime_spec.ts and runs it to completion through
 * core/runtime's `OciRuntime.run` with the daemon's default runtime (the
 * built-in one, or runc/crun: `runc run` in the foreground; no daemon-side
 * reaping needed either way), streaming stdout/stderr as they come.
 * @module
 */
import { generateSpec } from "../../../core/oci/runtime_spec.ts";
import { resolveUser } from "../../../core/oci/user.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import { InvalidArgument, isKind } from "../../../core/errdefs/mod.ts";
import { type OciRuntime, RuntimeError } from "../../../core/runtime/runtime.ts";
import { runtimeOf } from "../../../core/shim/reap.ts";
import type { BuiltinRuntime } from "../../../core/runtime/builtin.ts";
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import { cloexecFrom } from "../../../core/sys/libc_proc.ts";
import { parseExtraHost } from "../../../core/net/etc_files.ts";
import { mountStepRoot } from "./step_root.ts";
import { log, logFailure } from "../log.ts";
import { HOLDER_ARGV, type StepJournal, type StepRuntime } from "./journal.ts";

export interface RunOptions {
  /** Layer dirs of the state, bottom first. */
  lowers: string[];
  /** The state's image ID (for runners that create containers from images). */
  image?: string;
  args: string[];
  env: string[];
  user: string;
  workdir: string;
  /** "none" | "host" | "default" | "bridge" */
  network: string;
  /** `--add-host` entries ("name:ip") for /etc/hosts. */
  extraHosts?: string[];
  /** Extra read-only bind mounts (heredoc scripts). */
  binds?: Array<{ source: string; destination: string }>;
  /** Called with the short ID before the process starts ("Running in …"). */
  onStart?(id: string): void;
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
  signal?: AbortSignal;
}

export interface RunOutcome {
  /** The short ID shown as "Running in …". */
  id: string;
  exitCode: number;
  /** The overlay upper dir: the step's changes (`…/diff`: adoptable as a layer dir). */
  upperDir: string;
  /** Remove the step's dirs. */
  cleanup(): Promise<void>;
}

export interface StepRunner {
  run(opts: RunOptions): Promise<RunOutcome>;
  /** A build that has RUN steps starts (a runner may prepare ahead of them). */
  begin?(): Promise<void>;
  /** That build ended, however. */
  end?(): Promise<void>;
}

const INIT_DIRS = ["proc", "sys", "dev", "dev/pts", "dev/shm", "dev/mqueue", "etc"];
const INIT_FILES = ["etc/hosts", "etc/hostname", "etc/resolv.conf", ".dockerenv"];

async function ensureInitLayer(dir: string): Promise<string> {
  try {
    await Deno.stat(`${dir}/.complete`);
    return `${dir}/fs`;
  } catch { /* build it */ }
  const tmp = `${dir}.tmp-${crypto.randomUUID()}`;
  await Deno.mkdir(tmp, { mode: PRIVATE_DIR }); // directly below the root (core/store/perms.ts)
  for (const d of INIT_DIRS) await Deno.mkdir(`${tmp}/fs/${d}`, { recursive: true, mode: 0o755 });
  for (const f of INIT_FILES) {
    await Deno.writeFile(`${tmp}/fs/${f}`, new Uint8Array(), { mode: 0o644 });
  }
  await Deno.writeFile(`${tmp}/.complete`, new Uint8Array());
  try {
    await Deno.rename(tmp, dir);
  } catch {
    // another step made it first: ours is a duplicate
    await Deno.remove(tmp, { recursive: true }).catch(logFailure(`removing ${tmp}`));
  }
  return `${dir}/fs`;
}

export interface OciStepRunnerOptions {
  /** The OCI runtime of the steps ("berth" = built-in) and its state root. */
  runtime: StepRuntime;
  /** Where step dirs (bundle, overlay) are made. */
  workRoot: string;
  /** Where the shared init layer lives. */
  initDir: string;
  /** The daemon's network service, for RUN on the bridge or a user network. */
  network?: StepNetwork;
  /** cgroup parent of the steps (default /berth) */
  cgroupParent?: string;
  /** where each step records what it holds before taking it (journal.ts) */
  journal?: StepJournal;
}

/**
 * Spawn a long-lived helper (runc run, the netns holder) with none of the
 * daemon's descriptors: one that inherited the API listener would keep a
 * killed daemon's socket accepting connections that nobody answers.
 */
function spawnClean(cmd: string, o: Deno.CommandOptions): Deno.ChildProcess {
  cloexec();
  return new Deno.Command(cmd, o).spawn();
}

/** What RUN needs of the network area (services.network). */
export interface StepNetwork {
  attachStep(
    id: string,
    pid: number,
    o: {
      network?: string;
      hostname?: string;
      hostsPath?: string;
      resolvConfPath?: string;
      extraHosts?: string[];
    },
  ): Promise<void>;
  detachStep(id: string): Promise<void>;
}

/**
 * A process that holds a fresh network namespace open while a step runs:
 * the network area wires a veth into it, and the step's spec joins it.
 */
async function netnsHolder(
  pidFile?: string,
): Promise<{ pid: number; release(): Promise<void> }> {
  // With a journal, the holder writes its own pid file before it execs: a
  // daemon killed right after the spawn still leaves it findable.
  const p = pidFile
    ? spawnClean("sh", {
      args: ["-c", 'echo $$ > "$0" && exec unshare --net -- "$@"', pidFile, ...HOLDER_ARGV],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    })
    : spawnClean("unshare", {
      args: ["--net", "--", ...HOLDER_ARGV],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
  // Wait until unshare has exec'd sleep inside the new namespace.
  const self = await Deno.readLink("/proc/self/ns/net");
  for (let i = 0; i < 400; i++) {
    try {
      const exe = await Deno.readLink(`/proc/${p.pid}/exe`);
      if (exe.endsWith("/sleep") && await Deno.readLink(`/proc/${p.pid}/ns/net`) !== self) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 1));
  }
  return {
    pid: p.pid,
    async release() {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
      await p.status;
    },
  };
}

/** `name:ip` entries as hosts lines (`host-gateway` is only known on a bridge). */
function extraHostLines(hosts: string[] = []): string {
  let out = "";
  for (const e of hosts) {
    const p = parseExtraHost(e);
    if (p && p.ip !== "host-gateway") out += `${p.ip}\t${p.name}\n`;
  }
  return out;
}

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function hostFile(p: string, fallback: string): Promise<string> {
  try {
    return await Deno.readTextFile(p);
  } catch {
    return fallback;
  }
}

export class OciStepRunner implements StepRunner {
  readonly o: OciStepRunnerOptions;
  #rt?: Promise<OciRuntime>;
  constructor(o: OciStepRunnerOptions) {
    this.o = o;
  }

  /** The runtime, loaded on the first RUN (its module is not read before). */
  runtime(): Promise<OciRuntime> {
    return this.#rt ??= runtimeOf(this.o.runtime);
  }

  async run(opts: RunOptions): Promise<RunOutcome> {
    const id = randomId();
    const short = id.slice(0, 12);
    const dir = `${this.o.workRoot}/run-${short}`;
    const init = await ensureInitLayer(this.o.initDir);
    // Docker's legacy builder runs RUN on the default bridge; "host" and
    // "none" as asked; any other name is a user-defined network.
    const wanted = opts.network === "default" || !opts.network ? "bridge" : opts.network;
    const useNet = wanted !== "none" && wanted !== "host" && !!this.o.network;
    const cgroupsPath = `${this.o.cgroupParent ?? "/berth"}/build-${short}`;
    const journal = this.o.journal;
    const rt = await this.runtime();
    await journal?.begin({
      id,
      dir,
      runtime: this.o.runtime,
      cgroupsPath,
      holderPidFile: useNet ? journal.holderPidFile(id) : undefined,
    });
    let root;
    try {
      root = await mountStepRoot(dir, [...opts.lowers, init], true);
    } catch (e) {
      await journal?.end(id);
      throw e;
    }
    let holder: { pid: number; release(): Promise<void> } | undefined;
    let attached = false;
    const unwire = async () => {
      if (attached) {
        await this.o.network!.detachStep(id).catch(logFailure(`detaching build step ${id}`));
      }
      attached = false;
      await holder?.release();
      holder = undefined;
    };
    const outcome = (exitCode: number): RunOutcome => ({
      id: short,
      exitCode,
      upperDir: root.upper!,
      cleanup: () => root!.release(),
    });
    try {
      // Docker creates the working directory before the process starts.
      const wd = resolveInRoot(root.merged, opts.workdir || "/");
      await Deno.mkdir(wd, { recursive: true, mode: 0o755 });
      const user = await resolveUser(root.merged, opts.user);
      const host = wanted === "none" ? "none" : useNet ? "bridge" : "host";
      const etc = `${dir}/etc`;
      await Deno.mkdir(etc);
      await Deno.writeTextFile(`${etc}/hostname`, `${short}\n`);
      const extra = extraHostLines(opts.extraHosts);
      await Deno.writeTextFile(
        `${etc}/hosts`,
        host === "host"
          ? (await hostFile("/etc/hosts", "127.0.0.1\tlocalhost\n")).replace(/\n?$/, "\n") + extra
          : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra}127.0.0.1\t${short}\n`,
      );
      await Deno.writeTextFile(
        `${etc}/resolv.conf`,
        host === "host" ? await hostFile("/etc/resolv.conf", "") : "",
      );
      if (useNet) {
        holder = await netnsHolder(journal?.holderPidFile(id));
        await this.o.network!.attachStep(id, holder.pid, {
          network: wanted,
          hostname: short,
          hostsPath: `${etc}/hosts`,
          resolvConfPath: `${etc}/resolv.conf`,
          extraHosts: opts.extraHosts,
        });
        attached = true;
      }
      const spec = generateSpec({
        id,
        rootfs: root.merged,
        config: {
          Cmd: opts.args,
          Entrypoint: null,
          Env: opts.env,
          WorkingDir: opts.workdir || "/",
          User: opts.user,
          Hostname: short,
        },
        user,
        host: { NetworkMode: host === "bridge" ? "none" : host },
        netnsPath: holder ? `/proc/${holder.pid}/ns/net` : undefined,
        etc: {
          hosts: `${etc}/hosts`,
          hostname: `${etc}/hostname`,
          resolvConf: `${etc}/resolv.conf`,
        },
        mounts: (opts.binds ?? []).map((b) => ({
          type: "bind" as const,
          source: b.source,
          destination: b.destination,
          readOnly: true,
        })),
        cgroupsPath,
      });
      await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(spec));
      opts.onStart?.(short);
      const code = await this.#exec(rt, id, dir, opts);
      await unwire();
      root.detach();
      await journal?.end(id);
      return outcome(code);
    } catch (e) {
      await unwire();
      await root.release();
      await journal?.end(id);
      throw e;
    }
  }

  /**
   * The built-in runtime: boot the next step's init ahead of need, as a warm
   * shim does — its Deno start-up (most of a create, and much more under
   * load) then overlaps the build's own work instead of delaying the step.
   * One spare at a time: a new offer lets the previous one go.
   */
  #prewarm(rt: OciRuntime): void {
    const b = rt as Partial<BuiltinRuntime>;
    const sock = `${this.o.runtime.root}/.warm-${crypto.randomUUID().slice(0, 8)}.sock`;
    if (!b.prewarm || sock.length > 100) return;
    try {
      Deno.mkdirSync(this.o.runtime.root, { recursive: true, mode: 0o700 });
      b.prewarm(sock);
    } catch (e) {
      log.debug(`build: no warm init: ${(e as Error).message}`);
    }
  }

  #active = 0;

  /** A build with RUN steps starts: its first step's init boots while it plans and pulls. */
  async begin(): Promise<void> {
    this.#active++;
    this.#prewarm(await this.runtime());
  }

  /** That build ended: the spare init goes once no build runs. */
  async end(): Promise<void> {
    if (--this.#active > 0) return;
    (await this.runtime() as Partial<BuiltinRuntime>).dropWarmInit?.();
  }

  async #exec(rt: OciRuntime, id: string, bundle: string, opts: RunOptions): Promise<number> {
    let p;
    try {
      // No daemon descriptor may reach the step (see spawnClean): both runtimes
      // spawn before their first await, so this holds for the spawned process.
      cloexec();
      p = await rt.run(id, bundle, { stdio: { kind: "pipes", stdin: false } });
      this.#prewarm(rt); // for the next step, while this one runs
    } catch (e) {
      // The process could not start (a missing command): the same for every
      // runtime, as `runc run` reports it — its message on stderr, exit 1.
      if (!(e instanceof RuntimeError)) throw e;
      opts.stderr(new TextEncoder().encode(e.message + "\n"));
      return 1;
    }
    const status = p.status;
    const onAbort = async () => {
      // `runc run` may not have created it yet: retry while it runs
      for (let i = 0; i < 500; i++) {
        const done = await rt.kill(id, 9, true).then(() => true, (e) => !isKind(e, "NotFound"));
        if (done || await Promise.race([status.then(() => true, () => true), sleep(10)])) return;
      }
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const pump = async (s: ReadableStream<Uint8Array> | undefined, f: (c: Uint8Array) => void) => {
      if (s) { for await (const c of s) f(c); }
    };
    try {
      const [st] = await Promise.all([
        status,
        pump(p.stdout, opts.stdout),
        pump(p.stderr, opts.stderr),
      ]);
      if (opts.signal?.aborted) {
        await rt.delete(id, true).catch((e) => {
          if (!isKind(e, "NotFound")) throw e;
        });
        throw new InvalidArgument("build canceled");
      }
      return st.code;
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }
}

const sleep = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms));

function cloexec(): void {
  try {
    cloexecFrom(3);
  } catch { /* kernel without close_range: Deno's own fds are CLOEXEC already */ }
}
