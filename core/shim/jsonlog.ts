/**
 * Docker's json-file log driver, as the shim writes it: one JSON object per
 * line, keys in Docker's order (`log`, `stream`, `time`), `time` in
 * RFC3339Nano UTC; output is cut into entries at `\n` (kept), lines over
 * 16 KiB become partial entries without the `\n`. With `maxSize` the file is
 * rotated to `<path>.1` … `<path>.<maxFile-1>` (maxFile 1: truncated).
 *
 * @example
 * ```ts ignore
 * const log = await JsonLogWriter.open("/tmp/c-json.log", { maxSize: 1 << 20, maxFile: 3 });
 * const out = log.stream("stdout");
 * out.push(new TextEncoder().encode("hello\nwor"));   // logs "hello\n", keeps "wor"
 * out.end();                                         // logs "wor" as a partial entry
 * await log.close();
 * ```
 * @module
 */
import { rfc3339Nano } from "./protocol.ts";

/** Bytes buffered before a line without `\n` is logged as a partial entry. */
export const MAX_LINE = 16 * 1024;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** JSON string the way Go's encoding/json writes it (HTML-safe escapes). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/** One log line as bytes (with the trailing newline). */
export function encodeEntry(stream: string, log: Uint8Array, time: string): Uint8Array {
  return enc.encode(
    `{"log":${goJsonString(dec.decode(log))},"stream":"${stream}","time":"${time}"}\n`,
  );
}

/**
 * One log line in the CRI's format (kubelet reads it):
 * `<RFC3339Nano> <stdout|stderr> <F|P> <line>\n`, F for a full line (its
 * `\n` dropped), P for a partial one (cut at 16 KiB, or the last bytes).
 */
export function encodeCriEntry(stream: string, log: Uint8Array, time: string): Uint8Array {
  const full = log.length > 0 && log[log.length - 1] === 10;
  const head = enc.encode(`${time} ${stream} ${full ? "F" : "P"} `);
  const body = full ? log.subarray(0, log.length - 1) : log;
  const out = new Uint8Array(head.length + body.length + 1);
  out.set(head);
  out.set(body, head.length);
  out[out.length - 1] = 10;
  return out;
}

export interface JsonLogOptions {
  maxSize?: number;
  maxFile?: number;
  /** "json-file" (Docker's, the default) or "cri" (kubelet's, {@link encodeCriEntry}) */
  format?: "json-file" | "cri";
}

export class JsonLogWriter {
  readonly path: string;
  #file: Deno.FsFile | null;
  #size: number;
  #opts: JsonLogOptions;
  #failed = false;

  private constructor(path: string, file: Deno.FsFile, size: number, opts: JsonLogOptions) {
    this.path = path;
    this.#file = file;
    this.#size = size;
    this.#opts = opts;
  }

  /**
   * Writes are synchronous on purpose: log lines are small, local and
   * buffered by the kernel, and the async file machinery costs a shim ~1 MB.
   */
  static open(path: string, opts: JsonLogOptions = {}): Promise<JsonLogWriter> {
    const f = Deno.openSync(path, { append: true, create: true, mode: 0o640 });
    const st = f.statSync();
    return Promise.resolve(new JsonLogWriter(path, f, st.size, opts));
  }

  /** A line splitter feeding this writer for one stream ("stdout"/"stderr"). */
  stream(name: "stdout" | "stderr"): LineSplitter {
    return new LineSplitter((line) => this.write(name, line));
  }

  /** Write one entry. Errors stop logging, never the container. */
  write(stream: string, line: Uint8Array): void {
    if (this.#failed || !this.#file) return;
    const data = this.#opts.format === "cri"
      ? encodeCriEntry(stream, line, rfc3339Nano())
      : encodeEntry(stream, line, rfc3339Nano());
    try {
      const max = this.#opts.maxSize ?? 0;
      if (max > 0 && this.#size > 0 && this.#size + data.length > max) this.#rotate();
      let off = 0;
      while (off < data.length) off += this.#file.writeSync(data.subarray(off));
      this.#size += data.length;
    } catch {
      this.#failed = true;
    }
  }

  #rotate(): void {
    const n = Math.max(1, this.#opts.maxFile ?? 1);
    this.#file?.close();
    this.#file = null;
    if (n === 1) {
      this.#file = Deno.openSync(this.path, { write: true, truncate: true, create: true });
    } else {
      for (let i = n - 1; i > 1; i--) {
        try {
          Deno.renameSync(`${this.path}.${i - 1}`, `${this.path}.${i}`);
        } catch { /* not there yet */ }
      }
      try {
        Deno.renameSync(this.path, `${this.path}.1`);
      } catch { /* gone */ }
      this.#file = Deno.openSync(this.path, { append: true, create: true, mode: 0o640 });
    }
    this.#size = 0;
  }

  /** Open the file at `path` again (created if gone), e.g. after someone rotated it. */
  reopen(): void {
    const f = Deno.openSync(this.path, { append: true, create: true, mode: 0o640 });
    this.#file?.close();
    this.#file = f;
    this.#size = f.statSync().size;
    this.#failed = false;
  }

  /** Writes are synchronous: nothing to wait for. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#file?.close();
    this.#file = null;
    return Promise.resolve();
  }
}

/** Cuts a byte stream into log entries the way moby's copier does. */
export class LineSplitter {
  #buf = new Uint8Array(0);
  #emit: (line: Uint8Array) => void;
  constructor(emit: (line: Uint8Array) => void) {
    this.#emit = emit;
  }

  push(chunk: Uint8Array): void {
    let b = this.#buf.length ? join(this.#buf, chunk) : chunk;
    for (;;) {
      const i = b.indexOf(10);
      if (i >= 0 && i < MAX_LINE) {
        this.#emit(b.slice(0, i + 1));
        b = b.subarray(i + 1);
      } else if (b.length >= MAX_LINE) {
        this.#emit(b.slice(0, MAX_LINE));
        b = b.subarray(MAX_LINE);
      } else break;
    }
    this.#buf = b.length ? b.slice() : new Uint8Array(0);
  }

  /** Log what is left as a partial entry. */
  end(): void {
    if (this.#buf.length) this.#emit(this.#buf);
    this.#buf = new Uint8Array(0);
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
