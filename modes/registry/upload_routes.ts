/**
 * Blob push routes: POST `/v2/<name>/blobs/uploads/` (session, single-request
 * monolithic with `?digest=`, cross-repository `?mount=&from=`), and PATCH,
 * PUT, GET, DELETE on the session URL.
 * @module
 */
import { checkWritable, type Ctx } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { checkDigest, validName } from "./routes.ts";
import { uploadHeaders } from "./uploads.ts";
import { peerGone } from "../../core/errdefs/ignore.ts";

function created(name: string, digest: string): Response {
  return new Response(null, {
    status: 201,
    headers: {
      "Location": `/v2/${name}/blobs/${digest}`,
      "Docker-Content-Digest": digest,
      "Content-Length": "0",
    },
  });
}

/** Parse `Content-Range: <start>-<end>` (also tolerating `bytes ` and `/total`). */
export function parseContentRange(h: string | null): { start: number; end: number } | undefined {
  if (!h) return undefined;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(h.trim());
  if (!m) throw new RegistryError("RANGE_INVALID", `invalid Content-Range: ${h}`, { status: 416 });
  const r = { start: Number(m[1]), end: Number(m[2]) };
  if (r.end < r.start) {
    throw new RegistryError("RANGE_INVALID", `invalid Content-Range: ${h}`, { status: 416 });
  }
  return r;
}

export async function postUpload(ctx: Ctx, req: Request, name: string): Promise<Response> {
  checkWritable(ctx);
  const q = new URL(req.url).searchParams;
  const mount = q.get("mount");
  if (mount) {
    checkDigest(mount);
    const from = q.get("from");
    let ok = false;
    if (from && validName(from) && from !== name) {
      ok = await ctx.auth.allowed(req, { type: "repository", name: from, actions: ["pull"] }) &&
        (await ctx.storage.repoBlobSize(from, mount)) !== null;
    } else if (from === name) {
      ok = (await ctx.storage.repoBlobSize(name, mount)) !== null;
    } else if (!from && ctx.anonymousMount) {
      ok = (await ctx.storage.blobSize(mount)) !== null;
    }
    if (ok) {
      await ctx.storage.linkBlob(name, mount);
      await req.body?.cancel();
      return created(name, mount);
    }
  }
  const digest = q.get("digest");
  if (digest) {
    checkDigest(digest);
    const id = await ctx.uploads.create(name, digest.slice(0, digest.indexOf(":")));
    try {
      await ctx.uploads.append(id, name, req.body);
    } catch (e) {
      await ctx.uploads.cancel(id, name).catch(peerGone);
      throw e;
    }
    await ctx.uploads.commit(id, name, digest);
    await ctx.storage.linkBlob(name, digest);
    return created(name, digest);
  }
  await req.body?.cancel();
  const id = await ctx.uploads.create(name, q.get("digest-algorithm") ?? "sha256");
  return new Response(null, {
    status: 202,
    headers: { ...uploadHeaders(name, id, 0), "Range": "0-0", "Content-Length": "0" },
  });
}

export async function patchUpload(
  ctx: Ctx,
  req: Request,
  name: string,
  uuid: string,
): Promise<Response> {
  checkWritable(ctx);
  const range = parseContentRange(req.headers.get("content-range"));
  const size = await ctx.uploads.append(uuid, name, req.body, range);
  return new Response(null, {
    status: 202,
    headers: { ...uploadHeaders(name, uuid, size), "Content-Length": "0" },
  });
}

export async function putUpload(
  ctx: Ctx,
  req: Request,
  name: string,
  uuid: string,
): Promise<Response> {
  checkWritable(ctx);
  const digest = new URL(req.url).searchParams.get("digest");
  if (!digest) {
    await req.body?.cancel();
    throw new RegistryError("DIGEST_INVALID", "digest parameter missing");
  }
  try {
    checkDigest(digest);
  } catch (e) {
    await req.body?.cancel();
    throw e;
  }
  const range = parseContentRange(req.headers.get("content-range"));
  if (req.body || range) await ctx.uploads.append(uuid, name, req.body, range);
  await ctx.uploads.commit(uuid, name, digest);
  await ctx.storage.linkBlob(name, digest);
  return created(name, digest);
}

export async function getUpload(ctx: Ctx, name: string, uuid: string): Promise<Response> {
  const size = await ctx.uploads.size(uuid, name);
  return new Response(null, {
    status: 204,
    headers: uploadHeaders(name, uuid, size),
  });
}

export async function deleteUpload(ctx: Ctx, name: string, uuid: string): Promise<Response> {
  checkWritable(ctx);
  await ctx.uploads.cancel(uuid, name);
  return new Response(null, { status: 204 });
}
