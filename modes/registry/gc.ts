/**
 * Mark-and-sweep garbage collection of registry blobs.
 *
 * Mark: every manifest revision of every repository, and everything those
 * manifests reference (config, layers, child manifests). Blobs whose data or
 * whose repository link is younger than the grace period are also kept, so
 * a push that has uploaded layers but not yet its manifest is not broken.
 * Upload sessions live outside `blobs/`; only those idle for longer than
 * `uploadMaxAgeSeconds` (default 7 days) are removed.
 * Sweep: delete unmarked blob data, then the repository links that pointed
 * at it. Manifests pushed while the sweep runs are marked again just before
 * deletion, which narrows (but cannot close) the race with a live registry;
 * run it with the registry stopped or `--read-only` for a guarantee.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./gc.ts";
 * const r = await collectGarbage(await Deno.makeTempDir(), { dryRun: true });
 * console.assert(r.deleted.length === 0);
 * ```
 * @module
 */
import { Paths } from "./paths.ts";
import { Storage } from "./storage.ts";
import { listDir, removeIfExists } from "./_fs.ts";

export interface GcOptions {
  dryRun?: boolean;
  /** Keep blobs written or linked within this many seconds (default 3600). */
  graceSeconds?: number;
  /** Remove upload sessions idle this long (default 7 days). */
  uploadMaxAgeSeconds?: number;
  log?: (line: string) => void;
}

export interface GcResult {
  deleted: string[];
  freedBytes: number;
  kept: number;
  /** Abandoned upload sessions removed. */
  purgedUploads: string[];
}

function referencesOf(bytes: Uint8Array): string[] {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return [];
  }
  const out: string[] = [];
  const add = (d: unknown) => {
    const digest = (d as { digest?: unknown } | null)?.digest;
    if (typeof digest === "string") out.push(digest);
  };
  add(doc.config);
  for (const l of Array.isArray(doc.layers) ? doc.layers : []) add(l);
  for (const m of Array.isArray(doc.manifests) ? doc.manifests : []) add(m);
  return out;
}

async function mtimeMs(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcResult> {
  const storage = new Storage(root);
  const paths = new Paths(root);
  const graceMs = (opts.graceSeconds ?? 3600) * 1000;
  const started = Date.now();
  const marked = new Set<string>();

  const markRepo = async (name: string, since = 0): Promise<void> => {
    for (const d of await storage.listRevisions(name)) {
      if (since && (await mtimeMs(paths.revisionLink(name, d))) < since) continue;
      marked.add(d);
      const bytes = await storage.readManifest(d);
      if (bytes) { for (const r of referencesOf(bytes)) marked.add(r); }
    }
    // Recently linked blobs may belong to a push whose manifest is not there yet.
    for (const alg of await listDir(`${paths.repoDir(name)}/_layers`, true)) {
      for (const hex of await listDir(`${paths.repoDir(name)}/_layers/${alg}`, true)) {
        const d = `${alg}:${hex}`;
        if (started - (await mtimeMs(paths.layerLink(name, d))) < graceMs) marked.add(d);
      }
    }
  };

  const repos = await storage.listRepos();
  for (const r of repos) await markRepo(r);

  // Candidates: every blob not marked and older than the grace period.
  const candidates: { digest: string; size: number }[] = [];
  let kept = 0;
  for (const alg of await listDir(paths.blobsDir, true)) {
    for (const pre of await listDir(`${paths.blobsDir}/${alg}`, true)) {
      for (const hex of await listDir(`${paths.blobsDir}/${alg}/${pre}`, true)) {
        const d = `${alg}:${hex}`;
        let st: Deno.FileInfo;
        try {
          st = await Deno.stat(paths.blobData(d));
        } catch {
          continue;
        }
        const young = started - (st.mtime?.getTime() ?? 0) < graceMs;
        if (marked.has(d) || young) kept++;
        else candidates.push({ digest: d, size: st.size });
      }
    }
  }

  // Re-mark manifests that arrived since we started, then sweep.
  for (const r of await storage.listRepos()) await markRepo(r, started - 1000);
  const deleted: string[] = [];
  let freedBytes = 0;
  for (const c of candidates) {
    if (marked.has(c.digest)) {
      kept++;
      continue;
    }
    opts.log?.(`${opts.dryRun ? "would delete" : "delete"} ${c.digest} (${c.size} bytes)`);
    if (!opts.dryRun) await storage.deleteBlobData(c.digest);
    deleted.push(c.digest);
    freedBytes += c.size;
  }
  if (!opts.dryRun && deleted.length) {
    const gone = new Set(deleted);
    for (const r of repos) {
      for (const d of gone) await removeIfExists(paths.layerLinkDir(r, d), true);
    }
  }
  const purgedUploads: string[] = [];
  const maxAge = (opts.uploadMaxAgeSeconds ?? 7 * 86400) * 1000;
  for (const id of await listDir(paths.uploadsDir, true)) {
    const t = Math.max(await mtimeMs(paths.uploadData(id)), await mtimeMs(paths.uploadInfo(id)));
    if (started - t < maxAge) continue;
    opts.log?.(`${opts.dryRun ? "would purge" : "purge"} abandoned upload ${id}`);
    if (!opts.dryRun) await removeIfExists(paths.uploadDir(id), true);
    purgedUploads.push(id);
  }
  return { deleted, freedBytes, kept, purgedUploads };
}
