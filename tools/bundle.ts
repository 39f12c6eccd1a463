/**
 * `deno task bundle`: build the single file users install (dist/berth.js).
 *
 * One `deno bundle --code-splitting` run over three entries — the program
 * (tools/bundle_entry.ts, whose literal dynamic imports become one chunk per
 * personality and per lazy module), the shim and init — gives ES module
 * chunks that each import only what they use. Those files are packed (brotli)
 * into one JS loader that extracts them once to a cache directory named by
 * their hash (`$XDG_CACHE_HOME/berth/<hash>`) and imports the program from
 * there; shims and inits run their own entry file there directly
 * (core/sys/self.ts `bundleUnit`). docs/shipping.md says why.
 *
 *   deno run -A tools/bundle.ts [-o dist/berth.js]
 * @module
 */

import zlib from "node:zlib";

const REPO = new URL("../", import.meta.url).pathname;

/** Entries of the split build, as the loader and self.ts name them. */
export const ENTRIES = [
  "tools/bundle_entry.ts",
  "core/shim/entry.ts",
  "core/runtime/init_entry.ts",
];

/**
 * esbuild's helper chunk imports node:module for its `require` helper; that
 * static import boots Deno's whole Node layer (~0.1 s, ~15 MB) in every
 * process that imports the helper chunk. The helper is made to call a hook,
 * and only the chunks that import it (npm packages: grpc-js, bcryptjs) import
 * node:module and set the hook — they boot the Node layer under `deno run`
 * too. Minified or not: the helper's local name and export alias are read from
 * the chunk (`var __require = …` / `var m=…`, `export { __require }` /
 * `export{m as a}`).
 */
const BANNER_RE =
  /import\s*\{\s*createRequire as __deno_internal_createRequire\s*\}\s*from\s*"node:module";\s*var (\w+)\s*=\s*__deno_internal_createRequire\(import\.meta\.url\);/;
const REQUIRE_HOOK = 'import{createRequire as __berthCreateRequire}from"node:module";' +
  "globalThis.__berthRequire??=__berthCreateRequire(import.meta.url);\n";

/** Named imports (`import { a as b, c } from "<spec>"`) of each chunk, by specifier. */
const IMPORT_RE = /import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g;

// Deno reads every module named by a literal import — dynamic ones too — before
// running anything (core/sys/lazy.ts): the registry's literals made every
// process read all ~100 chunks (~10 ms). A computed specifier is read on use,
// as lazy() does from source. Other literal dynamic imports stay literal, as in
// the source (each computed one is one more module-graph load: ~3 ms).
const REGISTRY_RE = /\(\)\s*=>\s*import\("(\.\.?\/[^"]+\.js)"\)/g;

async function walk(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${rel}`)) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await walk(dir, p));
    else out.push(p);
  }
  return out.sort();
}

/** Route esbuild's `require` helper through the hook (see BANNER_RE) in `files`, in place. */
function hookRequire(files: Record<string, string>): void {
  const helpers = Object.keys(files).filter((p) =>
    files[p].includes("__deno_internal_createRequire")
  );
  if (helpers.length === 0) return; // no npm package needs `require`
  if (helpers.length > 1) throw new Error(`require helper in ${helpers.length} chunks`);
  const helper = helpers[0];
  const m = BANNER_RE.exec(files[helper]);
  if (!m) throw new Error(`${helper}: esbuild's require helper changed shape`);
  const local = m[1];
  files[helper] = files[helper].replace(
    BANNER_RE,
    `var ${local}=(id)=>globalThis.__berthRequire(id);`,
  );
  const exp = [...files[helper].matchAll(/export\s*\{([^}]*)\}/g)].flatMap((e) =>
    e[1].split(",").map((s) => s.trim().split(/\s+as\s+/))
  ).find(([name]) => name === local);
  if (!exp) throw new Error(`${helper}: the require helper ${local} is not exported`);
  const exported = exp[1] ?? exp[0];
  const base = helper.slice(helper.lastIndexOf("/") + 1);
  for (const [p, src] of Object.entries(files)) {
    const uses = [...src.matchAll(IMPORT_RE)].some((i) =>
      i[2].endsWith(`/${base}`) &&
      i[1].split(",").some((s) => s.trim().split(/\s+as\s+/)[0] === exported)
    );
    if (uses) files[p] = REQUIRE_HOOK + src;
  }
}

/**
 * Build the split chunks into a fresh temp dir: path → source. `minify`
 * (default): esbuild's --minify, half the size (docs/shipping.md).
 */
export async function buildUnits(minify = true): Promise<Record<string, string>> {
  const tmp = await Deno.makeTempDir({ prefix: "berth-bundle-" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=deno",
        "--code-splitting",
        ...(minify ? ["--minify"] : []),
        "--outdir",
        tmp,
        ...ENTRIES,
      ],
      cwd: REPO,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!r.success) throw new Error("deno bundle failed");
    const files: Record<string, string> = {};
    for (const p of await walk(tmp)) files[p] = await Deno.readTextFile(`${tmp}/${p}`);
    hookRequire(files);
    const entry = "tools/bundle_entry.js";
    files[entry] = files[entry].replace(
      REGISTRY_RE,
      '()=>import(new URL("$1",import.meta.url).href)',
    );
    for (const e of ENTRIES) {
      if (!files[e.replace(/\.ts$/, ".js")]) throw new Error(`no chunk for entry ${e}`);
    }
    return files;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Brotli at its best setting: every process reads the whole loader, payload
 * included (Deno reads the main module twice and hands it to V8: ≈ 1 page
 * fault per kB), so its size is a start-up cost.
 */
function compress(data: Uint8Array): Uint8Array {
  return new Uint8Array(zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_LGWIN]: zlib.constants.BROTLI_MAX_WINDOW_BITS,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  }));
}

/**
 * Bytes as text for a block comment, 7 bits a character (base64 takes 8 for
 * 6): the bit stream cut in 7-bit values, each written as that ASCII code,
 * except the ones a one-line block comment cannot hold or that could end it
 * (NUL, LF, CR, `*`) and the escape itself (DEL), written as DEL + a digit.
 * The loader's `decode7` is the inverse.
 */
export const ESCAPED = [0, 10, 13, 42, 127];
export function encode7(b: Uint8Array): string {
  const out: string[] = [];
  let acc = 0, bits = 0;
  const put = (v: number) => {
    const e = ESCAPED.indexOf(v);
    out.push(e < 0 ? String.fromCharCode(v) : "\x7f" + e);
  };
  for (const x of b) {
    acc = (acc << 8) | x;
    bits += 8;
    while (bits >= 7) {
      bits -= 7;
      put((acc >> bits) & 0x7f);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) put((acc << (7 - bits)) & 0x7f);
  return out.join("");
}

/** The loader's decoder (also exported for tests): text of `encode7` → `n` bytes. */
export const DECODE7 = `function decode7(s, n) {
  const ESCAPED = [${ESCAPED.join(", ")}];
  const out = new Uint8Array(n);
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < s.length && o < n; i++) {
    let v = s.charCodeAt(i);
    if (v === 127) v = ESCAPED[s.charCodeAt(++i) - 48];
    acc = ((acc << 7) | v) & 0x3fff;
    bits += 7;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (o !== n) throw new Error("berth: the single file is truncated; download it again");
  return out;
}`;

/** Marks the payload's comment (the last line of the file). */
const MARK = "/*berth-payload:";

/** The loader: plain JS, no import (a static `node:` import would cost every process). */
function loader(hash: string, size: number, payload: string): string {
  return `// berth, single-file form. Generated by tools/bundle.ts from the berth sources; do not edit.
// Extracts its module chunks once to $XDG_CACHE_HOME/berth/${hash}/ and runs them (docs/shipping.md).
// The chunks, packed: ${size} bytes of brotli'd JSON in the comment on the last line.
const HASH = "${hash}";
const SIZE = ${size};
const ENTRY = "tools/bundle_entry.js";

function cacheBase() {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return xdg + "/berth";
  const home = Deno.env.get("HOME");
  if (home) return home + "/.cache/berth";
  return Deno.uid() === 0 ? "/var/cache/berth" : "/tmp/berth-" + Deno.uid();
}

// A directory whose code this process runs must be the user's alone: else another
// user could plant or swap chunks (e.g. a /tmp/berth-<uid> made by someone else).
function mustBePrivate(p, st) {
  if (!st.isDirectory || st.uid !== Deno.uid() || (st.mode & 0o022) !== 0) {
    throw new Error("berth: cache directory " + p + " is not private to this user; set XDG_CACHE_HOME");
  }
}

// The extracted chunks, if there: base and hash dir private, entry present.
function extracted(base, dir) {
  let st;
  try {
    st = Deno.lstatSync(dir);
  } catch {
    return false; // not extracted yet
  }
  mustBePrivate(base, Deno.lstatSync(base));
  mustBePrivate(dir, st);
  try {
    Deno.statSync(dir + "/" + ENTRY);
    return true;
  } catch {
    return false; // a damaged copy: extract again beside it
  }
}

${DECODE7}

async function extract(base) {
  Deno.mkdirSync(base, { recursive: true, mode: 0o700 });
  mustBePrivate(base, Deno.lstatSync(base));
  const text = new TextDecoder().decode(Deno.readFileSync(new URL(import.meta.url)));
  const at = text.lastIndexOf("\\n${MARK}");
  const end = text.lastIndexOf("*/");
  if (at < 0 || end < at) throw new Error("berth: the single file is truncated; download it again");
  const br = decode7(text.slice(at + ${MARK.length + 1}, end), SIZE);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", br));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== HASH) throw new Error("berth: the single file is damaged (digest); download it again");
  const s = new Blob([br]).stream().pipeThrough(new DecompressionStream("brotli"));
  const files = JSON.parse(await new Response(s).text());
  const tmp = Deno.makeTempDirSync({ dir: base, prefix: ".tmp-" + HASH + "-" });
  const enc = new TextEncoder();
  for (const [p, src] of Object.entries(files)) {
    const path = tmp + "/" + p;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const f = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 });
    const b = enc.encode(src);
    for (let off = 0; off < b.length;) off += f.writeSync(b.subarray(off));
    f.syncSync();
    f.close();
  }
  Deno.chmodSync(tmp, 0o700);
  const dir = base + "/" + HASH;
  try {
    Deno.renameSync(tmp, dir);
  } catch (e) {
    // Another process extracted the same hash first (use its copy), or a damaged copy
    // is in the way (move it aside: a running process may still be using its files).
    if (extracted(base, dir)) return Deno.removeSync(tmp, { recursive: true });
    Deno.renameSync(dir, base + "/.old-" + HASH + "-" + Deno.pid);
    Deno.renameSync(tmp, dir);
  }
}

const base = cacheBase();
const dir = base + "/" + HASH;
try {
  if (!extracted(base, dir)) await extract(base);
} catch (e) {
  const m = String(e?.message ?? e);
  console.error(m.startsWith("berth: ") ? m : "berth: cannot extract the program to " + base + ": " + m);
  Deno.exit(1);
}
globalThis.__berthUnits = dir;
await import("file://" + dir.split("/").map(encodeURIComponent).join("/") + "/" + ENTRY);
${MARK}${payload}*/
`;
}

/** Build dist/berth.js (or `out`); returns the hash of its payload. */
export async function bundle(out: string): Promise<string> {
  const files = await buildUnits();
  const packed = compress(new TextEncoder().encode(JSON.stringify(files)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", packed as BufferSource));
  const hash = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const dir = out.slice(0, out.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const tmp = `${out}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, loader(hash, packed.length, encode7(packed)));
  await Deno.rename(tmp, out);
  return hash;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("-o");
  const out = i >= 0 ? Deno.args[i + 1] : `${REPO}dist/berth.js`;
  const hash = await bundle(out);
  const size = (await Deno.stat(out)).size;
  console.log(`${out}: ${(size / 1e3).toFixed(0)} kB (units ${hash})`);
}
