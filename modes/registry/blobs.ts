/**
 * Blob routes: GET/HEAD (with Range) and DELETE of `/v2/<name>/blobs/<digest>`.
 * @module
 */
import { checkWritable, type Ctx } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { fileStream } from "./_fs.ts";

/** Parse a single `bytes=` range against `size`; null = serve everything. */
export function parseRange(
  header: string | null,
  size: number,
): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  const unsatisfiable = () =>
    new RegistryError("RANGE_INVALID", "requested range not satisfiable", {
      status: 416,
      headers: { "Content-Range": `bytes */${size}` },
    });
  let start: number, end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= size || (m[2] !== "" && Number(m[2]) < start)) throw unsatisfiable();
  }
  return { start, end };
}

export async function getBlob(
  ctx: Ctx,
  req: Request,
  name: string,
  digest: string,
): Promise<Response> {
  const size = await ctx.storage.repoBlobSize(name, digest);
  if (size === null) {
    if (ctx.upstream) {
      const up = await ctx.upstream.blob(name, digest);
      if (up) {
        const headers = blobHeaders(digest, up.size);
        if (req.method === "HEAD") {
          await up.body.cancel();
          return new Response(null, { headers });
        }
        return new Response(up.body, { headers });
      }
    }
    throw new RegistryError("BLOB_UNKNOWN", `blob unknown: ${digest}`, { detail: { digest } });
  }
  const headers = blobHeaders(digest, size);
  const range = parseRange(req.headers.get("range"), size);
  const path = ctx.storage.paths.blobData(digest);
  if (range) {
    const len = range.end - range.start + 1;
    headers["Content-Length"] = String(len);
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${size}`;
    if (req.method === "HEAD") return new Response(null, { status: 206, headers });
    return new Response(await fileStream(path, range.start, len), { status: 206, headers });
  }
  if (req.method === "HEAD") return new Response(null, { headers });
  if (size === 0) return new Response(new Uint8Array(), { headers });
  return new Response(await fileStream(path), { headers });
}

function blobHeaders(digest: string, size: number): Record<string, string> {
  return {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(size),
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    "ETag": `"${digest}"`,
    "Cache-Control": "max-age=31536000",
  };
}

export async function deleteBlob(ctx: Ctx, name: string, digest: string): Promise<Response> {
  checkWritable(ctx);
  if (!(await ctx.storage.unlinkBlob(name, digest))) {
    throw new RegistryError("BLOB_UNKNOWN", `blob unknown: ${digest}`, { detail: { digest } });
  }
  return new Response(null, { status: 202, headers: { "Content-Length": "0" } });
}
