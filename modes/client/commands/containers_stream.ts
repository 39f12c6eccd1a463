/**
 * Client side of hijacked attach/exec streams: stdin → connection (raw mode
 * on a terminal, detach keys, half-close at EOF), connection → stdout/stderr
 * (Docker frames without a TTY), terminal resize on SIGWINCH, and signal
 * proxying for foreground `run`.
 * @module
 */
import { writeAll } from "../api.ts";
import type { Conn } from "../dial.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

const enc = new TextEncoder();

export const DEFAULT_DETACH = [0x10, 0x11];

export function parseDetachKeys(s: string | undefined): number[] {
  if (!s) return DEFAULT_DETACH;
  return s.split(",").map((k) => {
    const t = k.trim();
    if (t.length === 1) return t.charCodeAt(0);
    const m = /^ctrl-(.)$/i.exec(t);
    if (!m) throw new Error(`Invalid detach keys (${s}) provided`);
    const c = m[1].toLowerCase();
    const special: Record<string, number> = {
      "@": 0,
      "[": 27,
      "\\": 28,
      "]": 29,
      "^": 30,
      "_": 31,
    };
    return c in special ? special[c] : c.charCodeAt(0) - 96;
  });
}

export interface StreamOptions {
  tty: boolean;
  /** send our stdin */
  stdin: boolean;
  detachKeys?: number[];
}

/**
 * Run a hijacked stream to completion. Resolves when the server ends the
 * output; `detached` is true when the user typed the detach keys.
 */
export async function runStream(
  conn: Conn,
  head: Uint8Array,
  o: StreamOptions,
): Promise<{ detached: boolean }> {
  let detached = false;
  let raw = false;
  const keys = o.detachKeys ?? DEFAULT_DETACH;
  if (o.stdin && o.tty && Deno.stdin.isTerminal()) {
    try {
      Deno.stdin.setRaw(true, { cbreak: false });
      raw = true;
    } catch { /* not a tty after all */ }
  }
  if (o.stdin) {
    (async () => {
      const buf = new Uint8Array(32 * 1024);
      let held: number[] = [];
      for (;;) {
        let n: number | null;
        try {
          n = await Deno.stdin.read(buf);
        } catch {
          n = null;
        }
        if (n === null) break;
        const out: number[] = [];
        for (const b of buf.subarray(0, n)) {
          if (raw && b === keys[held.length]) {
            held.push(b);
            if (held.length === keys.length) {
              detached = true;
              try {
                conn.close();
              } catch { /* closed */ }
              return;
            }
          } else {
            out.push(...held, b);
            held = [];
          }
        }
        if (out.length) {
          try {
            await writeAll(conn, new Uint8Array(out));
          } catch {
            return;
          }
        }
      }
      try {
        await conn.closeWrite();
      } catch { /* closed */ }
    })();
  } else {
    conn.closeWrite().catch(peerGone);
  }
  try {
    await copyOutput(conn, head, o.tty);
  } finally {
    if (raw) {
      try {
        Deno.stdin.setRaw(false);
      } catch { /* gone */ }
    }
  }
  return { detached };
}

/** Copy the server's output (a hijacked conn) to our stdout/stderr until EOF. */
export function copyOutput(conn: Conn, head: Uint8Array, tty: boolean): Promise<void> {
  return copyChunks(connChunks(conn, head), tty);
}

async function* connChunks(conn: Conn, head: Uint8Array): AsyncIterable<Uint8Array> {
  if (head.length) yield head;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch {
      n = null;
    }
    if (n === null) return;
    yield buf.slice(0, n);
  }
}

/** Write a (framed unless tty) byte stream to stdout/stderr. */
export async function copyChunks(chunks: AsyncIterable<Uint8Array>, tty: boolean): Promise<void> {
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    if (tty) {
      await writeAll(Deno.stdout, chunk);
      continue;
    }
    pending = pending.length ? concat(pending, chunk) : chunk;
    while (pending.length >= 8) {
      const len = new DataView(pending.buffer, pending.byteOffset, 8).getUint32(4);
      if (pending.length < 8 + len) break;
      const type = pending[0];
      const payload = pending.subarray(8, 8 + len);
      await writeAll(type === 2 || type === 3 ? Deno.stderr : Deno.stdout, payload);
      pending = pending.subarray(8 + len);
    }
    pending = pending.slice();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Terminal size if stdout is a terminal. */
export function termSize(): { rows: number; columns: number } | undefined {
  try {
    if (!Deno.stdout.isTerminal()) return undefined;
    const s = Deno.consoleSize();
    return { rows: s.rows, columns: s.columns };
  } catch {
    return undefined;
  }
}

/** Call `resize` now and on every SIGWINCH; returns an uninstall function. */
export function watchResize(resize: (h: number, w: number) => Promise<unknown>): () => void {
  const send = () => {
    const s = termSize();
    if (s) resize(s.rows, s.columns).catch(() => {}); // as docker: a lost resize is not worth a failure
  };
  send();
  try {
    Deno.addSignalListener("SIGWINCH", send);
  } catch {
    return () => {};
  }
  return () => {
    try {
      Deno.removeSignalListener("SIGWINCH", send);
    } catch { /* gone */ }
  };
}

const PROXIED: Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
];

/** Forward signals we receive to the container (docker run --sig-proxy). */
export function proxySignals(kill: (sig: string) => Promise<unknown>): () => void {
  const handlers: [Deno.Signal, () => void][] = [];
  for (const s of PROXIED) {
    const h = () => {
      kill(s).catch(() => {}); // the container may be gone: the attach ends and says so
    };
    try {
      Deno.addSignalListener(s, h);
      handlers.push([s, h]);
    } catch { /* not allowed */ }
  }
  return () => {
    for (const [s, h] of handlers) {
      try {
        Deno.removeSignalListener(s, h);
      } catch { /* gone */ }
    }
  };
}

export function printErr(s: string): void {
  Deno.stderr.writeSync(enc.encode(s));
}
