/**
 * `exec` inside the shim: another process in the container (via the OCI
 * runtime), with its own pipes or pty, streamed over the connection that
 * asked for it. The stream ends with a FRAME_EXIT frame carrying the exit
 * status, so the daemon knows the exit code before the client sees EOF.
 * @module
 */
import type { OciRuntime, RuntimeStdio } from "../runtime/runtime.ts";
import type { OciProcess } from "../oci/runtime_types.ts";
import { RuntimeError } from "../runtime/runtime.ts";
import {
  encodeLine,
  type ExitInfo,
  frame,
  FRAME_EXIT,
  FRAME_STDERR,
  rfc3339Nano,
  writeAll,
} from "./protocol.ts";
import { Attached, feedStdin, Output, pumpFd, pumpStream, Stdin } from "./io.ts";
import { fdClose, setWinsize } from "./sys_linux.ts";
import { peerGone } from "../errdefs/ignore.ts";

export interface ExecRequest {
  exec: string;
  process: OciProcess;
  tty: boolean;
  stdin: boolean;
  detach?: boolean;
}

/** Running execs by id, for resize. */
export const execMasters = new Map<string, number>();

export async function runExec(
  rt: OciRuntime,
  id: string,
  conn: Deno.Conn,
  rest: Uint8Array,
  req: ExecRequest,
): Promise<void> {
  let master = -1;
  let stdio: RuntimeStdio;
  if (req.detach) stdio = { kind: "null" };
  else if (req.tty) stdio = { kind: "tty" }; // a pty of the container's devpts (console socket)
  else stdio = { kind: "pipes", stdin: req.stdin };
  req.process.terminal = !req.detach && req.tty;

  let proc;
  try {
    proc = await rt.exec(id, req.process, { stdio });
  } catch (e) {
    if (master >= 0) fdClose(master);
    const code = e instanceof RuntimeError ? e.exitCode : 126;
    const msg = e instanceof Error ? e.message : String(e);
    await writeAll(conn, encodeLine({ ok: true, pid: 0 })).catch(peerGone);
    const out = req.tty ? frame(1, new TextEncoder().encode(msg + "\r\n")) : frame(
      FRAME_STDERR,
      new TextEncoder().encode(msg + "\n"),
    );
    const exit: ExitInfo = { exitCode: code, exitedAt: rfc3339Nano(), error: msg };
    await writeAll(conn, out).catch(peerGone);
    await writeAll(conn, frame(FRAME_EXIT, encodeLine(exit))).catch(peerGone);
    conn.close();
    return;
  }
  if (proc.ptyMaster !== undefined) {
    master = proc.ptyMaster;
    const cs = req.process.consoleSize;
    if (cs) setWinsize(master, cs.height, cs.width);
  }
  if (master >= 0) execMasters.set(req.exec, master);
  await writeAll(conn, encodeLine({ ok: true, pid: proc.pid })).catch(peerGone);

  const output = new Output(req.tty);
  const att = new Attached(conn, true, true);
  output.attached.add(att);
  const pumps: Promise<void>[] = [];
  let stdin: Stdin;
  if (master >= 0) {
    pumps.push(pumpFd(master, output));
    stdin = new Stdin(req.stdin ? master : undefined);
  } else {
    if (proc.stdout) pumps.push(pumpStream(proc.stdout, 1, output));
    if (proc.stderr) pumps.push(pumpStream(proc.stderr, 2, output));
    stdin = new Stdin(proc.stdin);
  }
  if (req.stdin && !req.detach) feedStdin(conn, rest, stdin).then(() => stdin.close());

  const st = await proc.status.catch(() => ({ code: 255, signal: undefined }));
  await Promise.race([Promise.all(pumps), new Promise((r) => setTimeout(r, 2000))]);
  stdin.close();
  execMasters.delete(req.exec);
  if (master >= 0) fdClose(master);
  const exit: ExitInfo = { exitCode: st.code, exitedAt: rfc3339Nano() };
  if (st.signal) exit.signal = st.signal;
  output.attached.delete(att);
  att.send(frame(FRAME_EXIT, encodeLine(exit)));
  await att.end();
}
