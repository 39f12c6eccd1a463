/**
 * The build context on the daemon side: the client's tar (plain or gzip) is
 * unpacked into a private directory in one streaming pass that also records,
 * per path, type, mode, mtime, size and a content hash — so COPY/ADD cache
 * keys need no second read. Entries are confined to the directory (no
 * absolute names, no `..` above it, nothing written through a symlink).
 * Owners and modes stay in the index; COPY applies them to the destination.
 *
 * @example
 * ```ts ignore
 * const ctx = await BuildContext.extract(body, "/var/lib/berth/build-tmp/x/context");
 * const h = ctx.hashTree("src");     // content+metadata hash of src/…
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { decompressStream, readTar } from "../../../core/archive/mod.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { removeIfExists } from "../../../core/errdefs/ignore.ts";

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface ContextEntry {
  type: EntryType;
  /** Permission bits (0o7777). */
  mode: number;
  /** Seconds. */
  mtime: number;
  size: number;
  /** sha256 hex of the content (files), the link target (symlinks). */
  hash: string;
  link?: string;
}

function clean(name: string): string[] {
  if (name.includes("\0")) throw new InvalidArgument(`invalid build context entry ${name}`);
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    // ".." above the top stays at the top: dockerd unpacks the context in a
    // chroot, so "../foo" and "/bar" are "foo" and "bar" (moby
    // TestBuildUncleanTarFilenames)
    if (c === "..") {
      out.pop();
      continue;
    }
    out.push(c);
  }
  return out;
}

/** Files up to this size are kept in memory… */
const MEM_FILE = 1 << 20;
/** …as long as the context's in-memory total stays below this. */
const MEM_TOTAL = 256 << 20;

export class BuildContext {
  readonly dir: string;
  #mem = new Map<string, Uint8Array>();
  #memBytes = 0;
  /** relative path ("a/b") → entry; "" is the root. */
  readonly entries = new Map<string, ContextEntry>();

  constructor(dir: string) {
    this.dir = dir;
    this.entries.set("", { type: "dir", mode: 0o755, mtime: 0, size: 0, hash: "" });
  }

  /** Unpack a context tar into `dir` (created). */
  static async extract(body: ReadableStream<Uint8Array>, dir: string): Promise<BuildContext> {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const c = new BuildContext(dir);
    const dirs = new Set<string>([""]);
    const ensureParents = (parts: string[]) => {
      let cur = "";
      for (let i = 0; i < parts.length - 1; i++) {
        cur = cur ? `${cur}/${parts[i]}` : parts[i];
        if (dirs.has(cur)) continue;
        const p = `${dir}/${cur}`;
        let st: Deno.FileInfo | undefined;
        try {
          st = Deno.lstatSync(p);
        } catch { /* missing */ }
        if (st && !st.isDirectory) {
          throw new InvalidArgument(`invalid build context: ${cur} is not a directory`);
        }
        if (!st) Deno.mkdirSync(p, { mode: 0o755 });
        dirs.add(cur);
        if (!c.entries.has(cur)) {
          c.entries.set(cur, { type: "dir", mode: 0o755, mtime: 0, size: 0, hash: "" });
        }
      }
    };
    for await (const { header: h, body: b } of readTar(padTar(decompressStream(body)))) {
      const parts = clean(h.name);
      const rel = parts.join("/");
      if (rel === "") {
        if (h.type === "dir") c.entries.set("", entryOf(h.type, h.mode, h.mtime, 0, ""));
        continue;
      }
      ensureParents(parts);
      const abs = `${dir}/${rel}`;
      // Replace whatever an earlier entry left there (tar semantics), unless dir over dir.
      let old: Deno.FileInfo | undefined;
      try {
        old = Deno.lstatSync(abs);
      } catch { /* none */ }
      if (c.#mem.delete(rel)) old = undefined;
      if (old && !(old.isDirectory && h.type === "dir")) {
        Deno.removeSync(abs, { recursive: true });
        dirs.delete(rel);
        for (const k of [...c.entries.keys()]) if (k.startsWith(rel + "/")) c.entries.delete(k);
      }
      switch (h.type) {
        case "dir":
          if (!old?.isDirectory) Deno.mkdirSync(abs, { mode: 0o755 });
          dirs.add(rel);
          c.entries.set(rel, entryOf("dir", h.mode, h.mtime, 0, ""));
          break;
        case "file": {
          const hash = createHash("sha256");
          if (h.size <= MEM_FILE && c.#memBytes + h.size <= MEM_TOTAL) {
            // Small files stay in memory: COPY writes them once, where they belong.
            const data = new Uint8Array(h.size);
            let off = 0;
            for await (const chunk of b) {
              data.set(chunk, off);
              off += chunk.length;
            }
            hash.update(data);
            c.#mem.set(rel, data);
            c.#memBytes += h.size;
          } else {
            const f = Deno.openSync(abs, { write: true, createNew: true, mode: 0o644 });
            try {
              for await (const chunk of b) {
                hash.update(chunk);
                let off = 0;
                while (off < chunk.length) off += f.writeSync(chunk.subarray(off));
              }
            } finally {
              f.close();
            }
          }
          c.entries.set(rel, entryOf("file", h.mode, h.mtime, h.size, hash.digest("hex")));
          break;
        }
        case "symlink":
          Deno.symlinkSync(h.linkname, abs);
          c.entries.set(rel, {
            ...entryOf("symlink", h.mode, h.mtime, 0, "l:" + h.linkname),
            link: h.linkname,
          });
          break;
        case "link": {
          const target = clean(h.linkname).join("/");
          const te = c.entries.get(target);
          if (!te || te.type !== "file") {
            throw new InvalidArgument(
              `invalid build context: bad hard link ${rel} → ${h.linkname}`,
            );
          }
          const mem = c.#mem.get(target);
          if (mem) c.#mem.set(rel, mem);
          else Deno.linkSync(`${dir}/${target}`, abs);
          c.entries.set(rel, { ...te });
          break;
        }
        default:
          // devices, fifos: not copied by COPY; remember they exist.
          c.entries.set(rel, entryOf("other", h.mode, h.mtime, 0, "o"));
      }
    }
    return c;
  }

  /** Remove a path (Dockerfile/.dockerignore excluded by .dockerignore). */
  async remove(rel: string): Promise<void> {
    const r = clean(rel).join("/");
    if (!r) return;
    await removeIfExists(`${this.dir}/${r}`, { recursive: true });
    for (const k of [...this.entries.keys()]) {
      if (k === r || k.startsWith(r + "/")) {
        this.entries.delete(k);
        this.#mem.delete(k);
      }
    }
  }

  /** Content of a small file kept in memory (undefined: it is on disk). */
  data(rel: string): Uint8Array | undefined {
    return this.#mem.get(rel);
  }

  /** Make sure a file kept in memory also exists on disk (ADD unpacking). */
  materialize(rel: string): void {
    const d = this.#mem.get(rel);
    if (!d) return;
    const abs = `${this.dir}/${rel}`;
    try {
      Deno.lstatSync(abs);
    } catch {
      Deno.writeFileSync(abs, d, { mode: 0o644 });
    }
  }

  /** Read a context file (relative, real path). */
  async readFile(rel: string): Promise<Uint8Array> {
    return this.#mem.get(rel) ?? await Deno.readFile(`${this.dir}/${rel}`);
  }

  /** The entry of a real (symlink-resolved) relative path. */
  get(rel: string): ContextEntry | undefined {
    return this.entries.get(rel);
  }

  /**
   * Hash of a path and everything below it: names, types, modes, content.
   * (Owners and mtimes are not part of it, as with Docker's tarsum.)
   */
  hashTree(rel: string): string {
    const h = createHash("sha256");
    const root = this.entries.get(rel);
    if (!root) return "missing";
    const line = (name: string, e: ContextEntry) =>
      h.update(`${name}\0${e.type}\0${(e.mode & 0o7777).toString(8)}\0${e.hash}\n`);
    line(".", root);
    if (root.type === "dir") {
      const pre = rel === "" ? "" : rel + "/";
      const kids = [...this.entries.keys()].filter((k) => k !== "" && k.startsWith(pre)).sort();
      for (const k of kids) line(k.slice(pre.length), this.entries.get(k)!);
    }
    return h.digest("hex");
  }
}

/**
 * The docker CLI's context tar for `-f` outside the context ends right after
 * the last file's bytes (no padding, no end blocks); Go's reader accepts it.
 * Pad to a block boundary and add the end blocks (extra zeros are harmless).
 */
function padTar(s: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let n = 0;
  return s.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(c, ctl) {
        n += c.length;
        ctl.enqueue(c);
      },
      flush(ctl) {
        ctl.enqueue(new Uint8Array((512 - (n % 512)) % 512 + 1024));
      },
    }),
  );
}

function entryOf(type: EntryType, mode: number, mtime: number, size: number, hash: string) {
  return { type, mode: mode & 0o7777, mtime: Math.floor(mtime), size, hash };
}
