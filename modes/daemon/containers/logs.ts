/**
 * Reading a container's json-file log for `GET /containers/{id}/logs` and
 * attach's `logs=1`: rotated files oldest first, `tail`, `since`/`until`,
 * and `follow` (poll the live file until the container stops).
 * @module
 */
import { MAX_LINE } from "../../../core/shim/jsonlog.ts";

export interface LogEntry {
  stream: "stdout" | "stderr";
  log: string;
  /** RFC3339Nano as stored */
  time: string;
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** -1 = all */
  tail: number;
  /** ns since epoch; 0 = unset */
  since: bigint;
  until: bigint;
  follow: boolean;
}

/** "1700000000.123456789" (unix seconds, optional fraction) → ns. */
export function parseUnixNs(s: string | null): bigint {
  if (!s) return 0n;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (!m) return 0n;
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** RFC3339(Nano) → ns since epoch. */
export function timeNs(t: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return BigInt(Date.parse(t) || 0) * 1_000_000n;
  const sec = BigInt(Math.floor(Date.parse(m[1] + m[3]) / 1000));
  return sec * 1_000_000_000n + BigInt((m[2] ?? "").slice(0, 9).padEnd(9, "0"));
}

/** Docker's timestamps=1 prefix: fixed 9 fractional digits. */
export function fixedTime(t: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(t);
  if (!m) return t;
  return `${m[1]}.${(m[2] ?? "").slice(0, 9).padEnd(9, "0")}Z`;
}

async function logFiles(path: string): Promise<string[]> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(path.lastIndexOf("/") + 1);
  const rotated: number[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = e.name.startsWith(base + ".") ? /^\d+$/.exec(e.name.slice(base.length + 1)) : null;
      if (m) rotated.push(Number(m[0]));
    }
  } catch { /* no dir */ }
  rotated.sort((a, b) => b - a);
  return [...rotated.map((n) => `${path}.${n}`), path];
}

function parse(line: string): LogEntry | null {
  try {
    const v = JSON.parse(line);
    if (typeof v.log !== "string") return null;
    return { stream: v.stream === "stderr" ? "stderr" : "stdout", log: v.log, time: v.time ?? "" };
  } catch {
    return null;
  }
}

/** The last `n` lines of a file (without reading it all). */
async function tailLines(path: string, n: number): Promise<string[]> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path);
  } catch {
    return [];
  }
  try {
    const size = (await f.stat()).size;
    let pos = size;
    let acc = new Uint8Array(0);
    let count = 0;
    const block = 64 * 1024;
    while (pos > 0 && count <= n) {
      const len = Math.min(block, pos);
      pos -= len;
      const buf = new Uint8Array(len);
      await f.seek(pos, Deno.SeekMode.Start);
      let off = 0;
      while (off < len) {
        const r = await f.read(buf.subarray(off));
        if (r === null) break;
        off += r;
      }
      const nb = new Uint8Array(len + acc.length);
      nb.set(buf);
      nb.set(acc, len);
      acc = nb;
      count = 0;
      for (const b of acc) if (b === 10) count++;
    }
    const lines = new TextDecoder().decode(acc).split("\n").filter((l) => l);
    return lines.slice(Math.max(0, lines.length - n));
  } finally {
    f.close();
  }
}

/** Stream lines of a file from `offset`; returns the new offset. */
async function readFrom(
  path: string,
  offset: number,
  emit: (line: string) => Promise<boolean>,
): Promise<{ offset: number; stop: boolean; ino: number | null }> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path);
  } catch {
    return { offset, stop: false, ino: null };
  }
  const st = await f.stat();
  if (st.size < offset) offset = 0; // truncated / rotated
  await f.seek(offset, Deno.SeekMode.Start);
  const dec = new TextDecoder();
  let carry = "";
  let consumed = offset;
  const buf = new Uint8Array(Math.max(64 * 1024, MAX_LINE * 2));
  try {
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      const text = carry + dec.decode(buf.subarray(0, n), { stream: true });
      const parts = text.split("\n");
      carry = parts.pop()!;
      for (const p of parts) {
        consumed += new TextEncoder().encode(p).length + 1;
        if (p && !(await emit(p))) return { offset: consumed, stop: true, ino: st.ino };
      }
    }
  } finally {
    f.close();
  }
  return { offset: consumed, stop: false, ino: st.ino };
}

/**
 * Feed matching entries to `emit` (return false to stop). With `follow`,
 * keep polling the live file until `stopped` settles, then drain.
 */
export async function readLogs(
  path: string,
  q: LogQuery,
  emit: (e: LogEntry) => Promise<boolean>,
  stopped?: Promise<unknown>,
  gone?: () => boolean,
): Promise<void> {
  if (!path) return;
  const accept = (e: LogEntry | null): e is LogEntry => {
    if (!e) return false;
    if (e.stream === "stdout" ? !q.stdout : !q.stderr) return false;
    if (q.since || q.until) {
      const t = timeNs(e.time);
      if (q.since && t < q.since) return false;
      if (q.until && t > q.until) return false;
    }
    return true;
  };
  const onLine = async (l: string) => {
    const e = parse(l);
    return accept(e) ? await emit(e) : true;
  };
  const files = await logFiles(path);
  let offset = 0;
  let ino: number | null = null;
  if (q.tail === 0) {
    try {
      const st = await Deno.stat(path);
      offset = st.size;
      ino = st.ino;
    } catch { /* none yet */ }
  } else if (q.tail > 0) {
    // Last n matching lines, newest file first.
    const picked: string[] = [];
    for (let i = files.length - 1; i >= 0 && picked.length < q.tail; i--) {
      const lines = (await tailLines(files[i], q.tail * 2 + 16)).filter((l) => accept(parse(l)));
      picked.unshift(...lines);
    }
    for (const l of picked.slice(Math.max(0, picked.length - q.tail))) {
      if (!(await onLine(l))) return;
    }
    try {
      const st = await Deno.stat(path);
      offset = st.size;
      ino = st.ino;
    } catch { /* none */ }
  } else {
    for (const f of files.slice(0, -1)) {
      const r = await readFrom(f, 0, onLine);
      if (r.stop) return;
    }
    const r = await readFrom(path, 0, onLine);
    if (r.stop) return;
    offset = r.offset;
    ino = r.ino;
  }
  if (!q.follow || !stopped) return;
  let done = false;
  stopped.then(() => done = true, () => done = true);
  for (;;) {
    const wasDone = done;
    const st = await Deno.stat(path).catch(() => null); // mid-rotation: read below as it is
    if (st && ino !== null && st.ino !== ino) offset = 0; // rotated: new file
    const r = await readFrom(path, offset, onLine);
    if (r.stop) return;
    offset = r.offset;
    if (r.ino !== null) ino = r.ino;
    if (wasDone || gone?.()) return;
    await new Promise((res) => setTimeout(res, 50));
  }
}
