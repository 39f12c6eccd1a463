/**
 * Render Docker's JSON progress stream like the docker CLI: on a terminal,
 * one line per layer id updated in place with a progress bar; otherwise plain
 * lines, skipping the byte-count updates.
 * @module
 */
import { humanSize } from "./format.ts";
import type { ApiClient } from "./api.ts";

import type { JSONMessage } from "../../core/api/types.ts";

type Msg = JSONMessage;
/** A progress stream's `aux` object (push: Tag, Digest, Size; build: ID). */
type Aux = NonNullable<JSONMessage["aux"]>;

const enc = new TextEncoder();

function bar(current: number, total: number): string {
  if (!total || total <= 0) return current ? humanSize(current) : "";
  const width = 50;
  const filled = Math.max(0, Math.min(width, Math.floor((current / total) * width)));
  const arrow = filled < width ? ">" : "";
  return `[${"=".repeat(Math.max(0, filled - (arrow ? 1 : 0)))}${arrow}${
    " ".repeat(width - filled)
  }] ${humanSize(current)}/${humanSize(total)}`;
}

export class ProgressRenderer {
  #tty: boolean;
  #ids: string[] = [];
  #out: { writeSync(p: Uint8Array): number };
  constructor(tty = Deno.stdout.isTerminal(), out = Deno.stdout) {
    this.#tty = tty;
    this.#out = out;
  }

  #write(s: string): void {
    const b = enc.encode(s);
    let off = 0;
    while (off < b.length) off += this.#out.writeSync(b.subarray(off));
  }

  show(m: Msg): void {
    if (typeof m.stream === "string") {
      this.#write(m.stream);
      return;
    }
    if (!m.status) return;
    const detail = m.progressDetail;
    const hasBar = !!detail && typeof detail.current === "number";
    if (!this.#tty) {
      if (hasBar) return;
      this.#write(`${m.id ? m.id + ": " : ""}${m.status}\n`);
      return;
    }
    const text = `${m.id ? m.id + ": " : ""}${m.status}${
      hasBar ? " " + bar(detail!.current!, detail!.total ?? 0) : ""
    }`;
    if (!m.id) {
      this.#write(`${text}\n`);
      return;
    }
    let idx = this.#ids.indexOf(m.id);
    if (idx < 0) {
      this.#ids.push(m.id);
      this.#write(`${text}\n`);
      return;
    }
    const up = this.#ids.length - idx;
    idx = up;
    this.#write(`\x1b[${up}A\r\x1b[2K${text}\r\x1b[${up}B`);
  }
}

/**
 * Consume a progress stream; returns the exit code (1 when an errorDetail
 * arrives, after printing it to stderr) and the aux messages.
 */
export async function renderProgress(
  api: ApiClient,
  res: Response,
  opts: { quiet?: boolean } = {},
): Promise<{ code: number; aux: Aux[] }> {
  const r = new ProgressRenderer();
  const aux: Aux[] = [];
  for await (const m of api.jsonLines<Msg>(res)) {
    if (m.errorDetail || m.error) {
      console.error(m.errorDetail?.message ?? m.error);
      return { code: 1, aux };
    }
    if (m.aux) {
      aux.push(m.aux);
      continue;
    }
    if (!opts.quiet) r.show(m);
  }
  return { code: 0, aux };
}
