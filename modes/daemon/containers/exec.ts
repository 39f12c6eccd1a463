/**
 * `docker exec` on the daemon side: exec records (in memory, like moby),
 * the OCI process built from the container's own config.json, and the
 * hijacked stream spliced to the shim's exec stream. The exit code is
 * recorded before the client sees EOF, so `GET /exec/{id}/json` right after
 * the stream ends has the final ExitCode.
 * @module
 */
import type { Duplex } from "node:stream";
import { Conflict, InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import type { OciProcess, OciSpec } from "../../../core/oci/runtime_types.ts";
import { CAPABILITIES } from "../../../core/oci/caps.ts";
import type { ContainerService } from "./service.ts";
import { newId } from "./names.ts";
import { mergeEnv } from "./create.ts";
import { bridge, EarlyInput, parseDetachKeys } from "./bridge.ts";
import { frame } from "../../../core/shim/protocol.ts";
import { log } from "../log.ts";
import type { ExecConfig } from "../../../core/api/exec.ts";
import type { ExecInspect } from "../../../core/api/types.ts";
import { execLine } from "./health.ts";

export interface ExecRecord {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  CanRemove: boolean;
  DetachKeys: string;
  ProcessConfig: {
    tty: boolean;
    entrypoint: string;
    arguments: string[];
    privileged: boolean;
    user: string;
  };
  Env: string[];
  WorkingDir: string;
  ConsoleSize?: [number, number];
  started: boolean;
}

/**
 * An exec's exit code from the shim's exit frame: a process that could not
 * be started (the frame carries an error) is 126, whatever the runtime's
 * class, as moby's ContainerExecStart sets it (v20.10.24 daemon/exec.go).
 */
export function execExitCode(info: { exitCode: number; error?: string }): number {
  return info.error ? 126 : info.exitCode;
}

export class ExecService {
  #c: ContainerService;
  #execs = new Map<string, ExecRecord>();
  constructor(c: ContainerService) {
    this.#c = c;
  }

  get(id: string): ExecRecord {
    const e = this.#execs.get(id);
    if (!e) throw new NotFound(`No such exec instance: ${id}`);
    return e;
  }

  idsOf(containerId: string): string[] {
    return [...this.#execs.values()].filter((e) => e.ContainerID === containerId).map((e) => e.ID);
  }

  dropContainer(containerId: string): void {
    for (const [k, e] of this.#execs) if (e.ContainerID === containerId) this.#execs.delete(k);
  }

  /** Create from a validated body (core/api/exec.ts). */
  create(ref: string, body: ExecConfig): string {
    const r = this.#c.resolve(ref);
    const cmd = body.Cmd;
    if (!cmd || cmd.length === 0) throw new InvalidArgument("No exec command specified");
    if (!r.State.Running || r.State.Restarting) {
      throw new Conflict(`container ${r.Id} is not running`);
    }
    if (r.State.Paused) {
      throw new Conflict(`container ${r.Id} is paused, unpause the container before exec`);
    }
    const id = newId();
    const cs = body.ConsoleSize as [number, number] | undefined;
    this.#execs.set(id, {
      ID: id,
      ContainerID: r.Id,
      Running: false,
      ExitCode: null,
      Pid: 0,
      OpenStdin: !!body.AttachStdin,
      OpenStdout: !!body.AttachStdout,
      OpenStderr: !!body.AttachStderr,
      CanRemove: false,
      DetachKeys: body.DetachKeys ?? "",
      ProcessConfig: {
        tty: !!body.Tty,
        entrypoint: cmd[0],
        arguments: cmd.slice(1),
        privileged: !!body.Privileged,
        user: body.User ?? "",
      },
      Env: body.Env ?? [],
      WorkingDir: body.WorkingDir ?? "",
      ConsoleSize: cs && cs[0] ? cs : undefined,
      started: false,
    });
    this.#c.events.container(`exec_create: ${execLine(cmd)}`, r, { execID: id });
    return id;
  }

  inspect(id: string): ExecInspect {
    const e = this.get(id);
    const { started: _s, Env: _e, WorkingDir: _w, ConsoleSize: _c, ...v } = e;
    return v;
  }

  async #process(e: ExecRecord, tty: boolean): Promise<OciProcess> {
    const dir = this.#c.shimDir(e.ContainerID);
    const spec = JSON.parse(await Deno.readTextFile(`${dir}/config.json`)) as OciSpec;
    const p: OciProcess = { ...spec.process };
    p.args = [e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments];
    p.env = mergeEnv(spec.process.env ?? [], e.Env);
    p.cwd = e.WorkingDir || spec.process.cwd || "/";
    p.terminal = tty;
    if (e.ConsoleSize) p.consoleSize = { height: e.ConsoleSize[0], width: e.ConsoleSize[1] };
    else delete p.consoleSize;
    if (e.ProcessConfig.user) {
      const { resolveUser } = await import("../../../core/oci/user.ts");
      const { groupIds } = await import("./spec.ts");
      const u = await resolveUser(`${dir}/rootfs`, e.ProcessConfig.user);
      const added = await groupIds(
        `${dir}/rootfs`,
        this.#c.resolve(e.ContainerID).HostConfig.GroupAdd ?? [],
      );
      // As moby's getUser for exec: the primary group first, then the user's
      // groups, then the container's --group-add.
      p.user = {
        uid: u.uid,
        gid: u.gid,
        additionalGids: [...new Set([u.gid, ...u.additionalGids, ...added.map(Number)])],
      };
    }
    if (e.ProcessConfig.privileged) {
      const all = [...CAPABILITIES];
      p.capabilities = { bounding: all, effective: all, permitted: all };
    }
    return p;
  }

  /** Detached start: returns once the process runs. */
  async startDetached(id: string): Promise<void> {
    const e = this.#claim(id);
    const r = this.#c.resolve(e.ContainerID);
    const shim = this.#c.shimOf(r);
    const proc = await this.#process(e, false);
    const s = await shim.stream({
      op: "exec",
      exec: e.ID,
      process: proc as unknown as Record<string, unknown>,
      tty: false,
      stdin: false,
      detach: true,
    });
    e.Pid = Number(s.reply.pid ?? 0);
    // Hold the stream for the exit frame.
    (async () => {
      const { FrameParser, FRAME_EXIT } = await import("../../../core/shim/protocol.ts");
      const parser = new FrameParser();
      const buf = new Uint8Array(4096);
      const feed = (b: Uint8Array) => {
        for (const f of parser.push(b)) {
          if (f.type === FRAME_EXIT) {
            e.ExitCode = execExitCode(JSON.parse(new TextDecoder().decode(f.payload)));
          }
        }
      };
      feed(s.rest);
      for (;;) {
        const n = await s.conn.read(buf).catch(() => null); // broken: the end, as EOF
        if (n === null) break;
        feed(buf.subarray(0, n));
      }
      this.#died(e);
      s.conn.close();
    })();
  }

  #claim(id: string): ExecRecord {
    const e = this.get(id);
    if (e.started) throw new Conflict(`Error: Exec command ${id} has already run`);
    const r = this.#c.resolve(e.ContainerID);
    if (!r.State.Running || r.State.Restarting) {
      throw new Conflict(`container ${r.Id} is not running`);
    }
    e.started = true;
    e.Running = true;
    this.#c.events.container(
      `exec_start: ${execLine([e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments])}`,
      r,
      { execID: e.ID },
    );
    return e;
  }

  /** The exec's process is gone: record it, log exec_die (once). */
  #died(e: ExecRecord): void {
    if (!e.Running) return;
    e.Running = false;
    e.ExitCode ??= 126;
    const r = this.#c.store.get(e.ContainerID);
    if (r) {
      this.#c.events.container("exec_die", r, { execID: e.ID, exitCode: String(e.ExitCode) });
    }
  }

  /**
   * Attached start over a hijacked connection. The process has a terminal
   * if exec create asked for one; `raw` (the start request's Tty) decides
   * whether its output is framed, as in moby.
   */
  async startAttached(id: string, sock: Duplex, head: Uint8Array | undefined, raw: boolean) {
    const e = this.get(id);
    const useTty = e.ProcessConfig.tty;
    const early = new EarlyInput(sock, head);
    let claimed = false;
    try {
      this.#claim(id);
      claimed = true;
      const r = this.#c.resolve(e.ContainerID);
      const shim = this.#c.shimOf(r);
      const proc = await this.#process(e, useTty);
      const s = await shim.stream({
        op: "exec",
        exec: e.ID,
        process: proc as unknown as Record<string, unknown>,
        tty: useTty,
        stdin: e.OpenStdin,
      });
      e.Pid = Number(s.reply.pid ?? 0);
      log.debug(`exec ${e.ID.slice(0, 12)}: started pid ${e.Pid}`);
      await bridge(sock, s.conn, {
        tty: raw,
        stdin: e.OpenStdin,
        early,
        rest: s.rest,
        detachKeys: parseDetachKeys(e.DetachKeys || undefined),
        onExit: (info) => {
          e.ExitCode = execExitCode(info);
        },
        beforeEnd: () => {
          this.#died(e);
          log.debug(`exec ${e.ID.slice(0, 12)}: exited ${e.ExitCode}`);
        },
      });
    } catch (err) {
      early.release();
      if (claimed) this.#died(e);
      const msg = new TextEncoder().encode(`${(err as Error).message}\r\n`);
      sock.write(raw ? msg : frame(1, msg));
      sock.end();
    }
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const e = this.get(id);
    const r = this.#c.resolve(e.ContainerID);
    await this.#c.shimOf(r).call({ op: "resize", exec: id, h, w });
  }
}
