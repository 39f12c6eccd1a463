/**
 * Process I/O inside the shim: pumping a process's output (pipes or a pty
 * master) to the json-file log and to every attached stream, and feeding
 * attached stdin into the process. Attached streams get Docker's frames
 * (see protocol.ts); a slow or gone client is dropped, never the container.
 * @module
 */
import { fdClose, fdRead, fdWrite } from "./sys_linux.ts";
import { frame, FRAME_STDOUT, writeAll } from "./protocol.ts";
import type { LineSplitter } from "./jsonlog.ts";
import { peerGone } from "../errdefs/ignore.ts";

/** Bytes queued for one attached client before it is dropped. */
const MAX_PENDING = 16 << 20;

/** One attached connection (output side). */
export class Attached {
  readonly conn: Deno.Conn;
  readonly stdout: boolean;
  readonly stderr: boolean;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #dead = false;
  constructor(conn: Deno.Conn, stdout: boolean, stderr: boolean) {
    this.conn = conn;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  get dead(): boolean {
    return this.#dead;
  }

  send(data: Uint8Array): void {
    if (this.#dead) return;
    this.#pending += data.length;
    if (this.#pending > MAX_PENDING) {
      this.kill();
      return;
    }
    this.#chain = this.#chain.then(async () => {
      if (this.#dead) return;
      try {
        await writeAll(this.conn, data);
      } catch {
        this.kill();
      }
      this.#pending -= data.length;
    });
  }

  /** Flush what is queued, then close the connection. */
  async end(): Promise<void> {
    await this.#chain;
    this.kill();
  }

  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** Fan-out of a process's output. */
export class Output {
  readonly tty: boolean;
  readonly attached = new Set<Attached>();
  /** chunks emitted so far (lets the shim skip housekeeping while nothing happens) */
  chunks = 0;
  #logs: { stdout?: LineSplitter; stderr?: LineSplitter };
  constructor(tty: boolean, logs: { stdout?: LineSplitter; stderr?: LineSplitter } = {}) {
    this.tty = tty;
    this.#logs = logs;
  }

  emit(type: 1 | 2, chunk: Uint8Array): void {
    this.chunks++;
    (type === FRAME_STDOUT ? this.#logs.stdout : this.#logs.stderr)?.push(chunk);
    if (this.attached.size === 0) return;
    const f = frame(this.tty ? FRAME_STDOUT : type, chunk);
    for (const a of this.attached) {
      if (a.dead) this.attached.delete(a);
      else if (type === FRAME_STDOUT ? a.stdout : a.stderr) a.send(f);
    }
  }

  /** End of output: flush partial log lines, flush and close attached streams. */
  async end(): Promise<void> {
    this.#logs.stdout?.end();
    this.#logs.stderr?.end();
    await Promise.all([...this.attached].map((a) => a.end()));
    this.attached.clear();
  }
}

/**
 * Read a pipe into `out` until EOF. A BYOB reader with one 16 KiB buffer: the
 * default reader of a Deno pipe holds a fresh 64 KiB chunk per pending read,
 * which an idle shim would keep resident for stdout and for stderr.
 */
export async function pumpStream(
  s: ReadableStream<Uint8Array>,
  type: 1 | 2,
  out: Output,
): Promise<void> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = s.getReader({ mode: "byob" });
  } catch {
    try {
      for await (const chunk of s) out.emit(type, chunk);
    } catch { /* broken pipe: the process is gone */ }
    return;
  }
  let buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const { value, done } = await reader.read(buf);
      if (done || !value) return;
      out.emit(type, value.slice());
      buf = new Uint8Array(value.buffer); // the read transferred it: take it back
    }
  } catch { /* broken pipe: the process is gone */ }
}

/** Read a pty master into `out` until every slave fd is closed. */
export async function pumpFd(fd: number, out: Output): Promise<void> {
  const buf = new Uint8Array(32 * 1024);
  for (;;) {
    const b = await fdRead(fd, buf);
    if (!b) return;
    out.emit(FRAME_STDOUT, b.slice());
  }
}

/** The writable side of a process's stdin: a pipe or a pty master. */
export class Stdin {
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #fd: number;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  constructor(target: WritableStream<Uint8Array> | number | undefined) {
    this.#fd = typeof target === "number" ? target : -1;
    this.#writer = typeof target === "object" ? target.getWriter() : undefined;
    if (target === undefined) this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const copy = data.slice();
    this.#chain = this.#chain.then(async () => {
      if (this.#closed) return;
      try {
        if (this.#writer) await this.#writer.write(copy);
        else if (this.#fd >= 0) await fdWrite(this.#fd, copy);
      } catch {
        this.#closed = true;
      }
    });
    return this.#chain;
  }

  /** Close the process's stdin (a pty stays open: it is also the output). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const w = this.#writer;
    this.#chain = this.#chain.then(() => w?.close().catch(peerGone));
  }
}

/** Copy an attached connection's bytes into stdin; resolves at the client's EOF. */
export async function feedStdin(conn: Deno.Conn, first: Uint8Array, stdin: Stdin): Promise<void> {
  if (first.length) await stdin.write(first);
  const buf = new Uint8Array(32 * 1024);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      return;
    }
    if (n === null) return;
    await stdin.write(buf.subarray(0, n));
  }
}

export { fdClose };
