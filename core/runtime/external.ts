/**
 * An external OCI runtime (runc, crun) driven through its CLI:
 * `create --bundle --pid-file [--console-socket]`, `start`, `state`, `kill`,
 * `pause`/`resume`, `ps`, `exec --detach --process`, `delete`, all with
 * `--root <root>` (e.g. /run/berth/runc).
 *
 * `runc create` and `runc exec -d` exit once the process exists, so the
 * container's init is re-parented to the nearest child subreaper: the caller
 * must be one (`setSubreaper()`), or `status` rejects. With stdio "pipes" the
 * runtime's own stdio is passed through to the container; with "tty" the
 * runtime allocates the pty and sends the master over a console socket, which
 * is returned as `ptyMaster` (a given ttyPath is not usable by runc).
 * @module
 */

import type { OciProcess, OciSpec, OciState } from "../oci/runtime_types.ts";
import type {
  CreatedProcess,
  CreateOptions,
  ExecOptions,
  ForegroundProcess,
  OciRuntime,
  RunOptions,
  RuntimeState,
  RuntimeStdio,
} from "./runtime.ts";
import { RuntimeError } from "./runtime.ts";
import { Conflict, NotFound } from "../errdefs/mod.ts";
import { Cgroup } from "./cgroups.ts";
import { FdReceiver, waitpidAsync } from "../sys/libc_pty.ts";
import { handledElsewhere, peerGone, tempLeftover } from "../errdefs/ignore.ts";

export interface ExternalRuntimeOptions {
  /** "runc", "crun", or the name given with --add-runtime */
  name: string;
  /** the binary (default: name, looked up in PATH) */
  path?: string;
  /** the runtime's state root (--root) */
  root: string;
  /** extra global arguments (e.g. ["--systemd-cgroup"]) */
  args?: string[];
}

/** Docker's exit code class of a runtime error message. */
export function exitCodeOf(msg: string): number {
  if (/executable file not found|no such file or directory/.test(msg)) return 127;
  if (/permission denied|is a directory|exec format error/.test(msg)) return 126;
  return 125;
}

export class ExternalRuntime implements OciRuntime {
  readonly name: string;
  readonly #bin: string;
  readonly #global: string[];
  readonly root: string;

  constructor(o: ExternalRuntimeOptions) {
    this.name = o.name;
    this.#bin = o.path ?? o.name;
    this.root = o.root;
    this.#global = ["--root", o.root, ...(o.args ?? [])];
  }

  /** Run a CLI command to completion; throws RuntimeError (NotFound/Conflict where clear). */
  async #run(args: string[]): Promise<string> {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(this.#bin, {
        args: [...this.#global, ...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      throw new RuntimeError(`${this.name}: ${(e as Error).message}`);
    }
    if (out.success) return new TextDecoder().decode(out.stdout);
    throw this.#error(new TextDecoder().decode(out.stderr) || new TextDecoder().decode(out.stdout));
  }

  #error(text: string): Error {
    const msg = cleanMessage(text) || `${this.name} failed`;
    if (
      /does not exist|not found.*container|container not found/i.test(msg) && !/exec:/.test(msg)
    ) {
      return new NotFound(msg);
    }
    if (
      /not running|is not paused|already exists|cannot (start|delete)|is (running|paused)/i.test(
        msg,
      )
    ) {
      return new Conflict(msg);
    }
    return new RuntimeError(msg, exitCodeOf(msg));
  }

  /** Spawn create/exec with the right stdio; resolve with the new process's pid. */
  async #launch(
    args: string[],
    stdio: RuntimeStdio,
    pidFile: string,
    tmp: string,
  ): Promise<CreatedProcess> {
    let receiver: FdReceiver | undefined;
    const extra: string[] = [];
    if (stdio.kind === "tty") {
      receiver = new FdReceiver(`${tmp}/console.sock`);
      extra.push("--console-socket", receiver.path);
    }
    const pipes = stdio.kind === "pipes";
    try {
      const child = new Deno.Command(this.#bin, {
        args: [
          ...this.#global,
          ...args.slice(0, 1),
          ...extra,
          "--pid-file",
          pidFile,
          ...args.slice(1),
        ],
        stdin: pipes && stdio.stdin !== false ? "piped" : "null",
        stdout: pipes ? "piped" : "null",
        stderr: "piped",
      }).spawn();
      const master = receiver?.receive();
      master?.catch(handledElsewhere);
      const st = await child.status;
      if (!st.success) {
        // the process does not exist: every writer of stderr is gone
        const err = await new Response(child.stderr).text();
        if (pipes) await child.stdout.cancel().catch(peerGone);
        throw this.#error(err);
      }
      const pid = Number((await Deno.readTextFile(pidFile)).trim());
      const ptyMaster = master ? await master : undefined;
      return {
        pid,
        stdin: pipes && stdio.stdin !== false ? child.stdin : undefined,
        stdout: pipes ? child.stdout : undefined,
        stderr: pipes ? child.stderr : undefined,
        ptyMaster,
        status: waitpidAsync(pid),
      };
    } finally {
      receiver?.close();
    }
  }

  async create(id: string, bundle: string, opts: CreateOptions): Promise<CreatedProcess> {
    await Deno.mkdir(this.root, { recursive: true, mode: 0o700 });
    const tmp = await Deno.makeTempDir({ prefix: "berth-rt-" });
    try {
      const pidFile = opts.pidFile ?? `${tmp}/pid`;
      const args = ["create", "--bundle", bundle, ...(opts.noPivot ? ["--no-pivot"] : []), id];
      return await this.#launch(args, opts.stdio, pidFile, tmp);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(tempLeftover);
    }
  }

  /**
   * `run --bundle` in the foreground: the runtime waits for the container and
   * deletes it when it exits. Spawned before the first await, so a caller's
   * descriptor hygiene right before the call (close_range) still holds.
   */
  run(id: string, bundle: string, opts: RunOptions): Promise<ForegroundProcess> {
    const pipes = opts.stdio.kind === "pipes";
    let child: Deno.ChildProcess;
    try {
      Deno.mkdirSync(this.root, { recursive: true, mode: 0o700 });
      child = new Deno.Command(this.#bin, {
        args: [...this.#global, "run", "--bundle", bundle, id],
        stdin: "null",
        stdout: pipes ? "piped" : "null",
        stderr: pipes ? "piped" : "null",
      }).spawn();
    } catch (e) {
      return Promise.reject(new RuntimeError(`${this.name}: ${(e as Error).message}`));
    }
    return Promise.resolve({
      stdout: pipes ? child.stdout : undefined,
      stderr: pipes ? child.stderr : undefined,
      status: child.status.then((s) => ({ code: s.code })),
    });
  }

  async start(id: string): Promise<void> {
    await this.#run(["start", id]);
  }

  async state(id: string): Promise<RuntimeState> {
    const s: OciState = JSON.parse(await this.#run(["state", id]));
    let oomKilled = false;
    try {
      const spec: OciSpec = JSON.parse(await Deno.readTextFile(`${s.bundle}/config.json`));
      if (spec.linux?.cgroupsPath?.startsWith("/")) {
        oomKilled = new Cgroup(spec.linux.cgroupsPath).oomKilled();
      }
    } catch { /* no bundle: unknown */ }
    return { id, status: s.status, pid: s.pid, bundle: s.bundle, oomKilled };
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.#run(["kill", ...(all ? ["--all"] : []), id, String(signal)]);
  }

  async pause(id: string): Promise<void> {
    await this.#run(["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.#run(["resume", id]);
  }

  async pids(id: string): Promise<number[]> {
    const out = await this.#run(["ps", "--format", "json", id]);
    return (JSON.parse(out || "[]") ?? []) as number[];
  }

  async exec(id: string, process: OciProcess, opts: ExecOptions): Promise<CreatedProcess> {
    const tmp = await Deno.makeTempDir({ prefix: "berth-rt-" });
    try {
      await Deno.writeTextFile(`${tmp}/process.json`, JSON.stringify(process));
      const pidFile = opts.pidFile ?? `${tmp}/pid`;
      const args = ["exec", "--detach", "--process", `${tmp}/process.json`, id];
      return await this.#launch(args, opts.stdio, pidFile, tmp);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(tempLeftover);
    }
  }

  async delete(id: string, force = false): Promise<void> {
    await this.#run(["delete", ...(force ? ["--force"] : []), id]);
  }
}

/** runc prints `time=… level=error msg="…"` or plain text; keep the message. */
function cleanMessage(text: string): string {
  const lines = text.trim().split("\n").filter((l) => l.trim());
  const msgs = lines.map((l) => {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(l);
    return m ? JSON.parse(`"${m[1]}"`) as string : l.replace(/^ERRO\[\d+\]\s*/, "");
  });
  return msgs.join("; ");
}
