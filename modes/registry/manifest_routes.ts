/**
 * Manifest routes: GET/HEAD/PUT/DELETE `/v2/<name>/manifests/<tag-or-digest>`.
 * @module
 */
import { createHash } from "node:crypto";
import { checkWritable, type Ctx } from "./context.ts";
import { RegistryError } from "./errors.ts";
import { MAX_MANIFEST_BYTES, parseManifest, referrerDescriptor } from "./manifest.ts";
import { isDigestRef, TAG_RE } from "./routes.ts";

async function resolve(ctx: Ctx, name: string, ref: string): Promise<string> {
  if (ctx.upstream && !isDigestRef(ref)) {
    const up = await ctx.upstream.manifest(name, ref).catch(() => null); // upstream down: local copy
    if (up) return up.digest;
  }
  const digest = isDigestRef(ref) ? ref : await ctx.storage.resolveTag(name, ref);
  if (digest) return digest;
  throw await unknown(ctx, name, ref);
}

async function unknown(ctx: Ctx, name: string, ref: string): Promise<RegistryError> {
  if (!(await ctx.storage.repoExists(name))) {
    return new RegistryError("NAME_UNKNOWN", `repository name not known to registry: ${name}`, {
      status: 404,
      detail: { name },
    });
  }
  return new RegistryError("MANIFEST_UNKNOWN", `manifest unknown: ${ref}`, {
    detail: { name, ref },
  });
}

export async function getManifest(
  ctx: Ctx,
  req: Request,
  name: string,
  ref: string,
): Promise<Response> {
  const digest = await resolve(ctx, name, ref);
  let rev = await ctx.storage.getRevision(name, digest);
  if (!rev && ctx.upstream && isDigestRef(ref)) {
    // upstream down: only the local copy
    if (await ctx.upstream.manifest(name, ref).catch(() => null)) {
      rev = await ctx.storage.getRevision(name, digest);
    }
  }
  const bytes = rev && await ctx.storage.readManifest(digest);
  if (!rev || !bytes) throw await unknown(ctx, name, ref);
  const etag = `"${digest}"`;
  const headers: Record<string, string> = {
    "Content-Type": rev.mediaType,
    "Content-Length": String(bytes.length),
    "Docker-Content-Digest": digest,
    "ETag": etag,
  };
  if (req.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(req.method === "HEAD" ? null : bytes, { headers });
}

async function readLimited(req: Request): Promise<Uint8Array<ArrayBuffer>> {
  const tooBig = () =>
    new RegistryError("MANIFEST_INVALID", `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`, {
      status: 413,
    });
  const cl = req.headers.get("content-length");
  if (cl && Number(cl) > MAX_MANIFEST_BYTES) {
    await req.body?.cancel();
    throw tooBig();
  }
  if (!req.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of req.body) {
    n += chunk.length;
    if (n > MAX_MANIFEST_BYTES) throw tooBig();
    parts.push(chunk);
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export async function putManifest(
  ctx: Ctx,
  req: Request,
  name: string,
  ref: string,
): Promise<Response> {
  checkWritable(ctx);
  const bytes = await readLimited(req);
  const algorithm = isDigestRef(ref) ? ref.slice(0, ref.indexOf(":")) : "sha256";
  const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
  if (isDigestRef(ref) && digest !== ref) {
    throw new RegistryError("DIGEST_INVALID", `manifest digest ${digest} does not match ${ref}`, {
      detail: { expected: ref, actual: digest },
    });
  }
  const tags = isDigestRef(ref) ? new URL(req.url).searchParams.getAll("tag") : [ref];
  for (const t of tags) {
    if (!TAG_RE.test(t)) throw new RegistryError("TAG_INVALID", `invalid tag: ${t}`);
  }
  const m = parseManifest(bytes, req.headers.get("content-type"));
  for (const d of m.blobs) {
    if ((await ctx.storage.repoBlobSize(name, d)) === null) {
      throw new RegistryError("MANIFEST_BLOB_UNKNOWN", `blob unknown to registry: ${d}`, {
        detail: { digest: d },
      });
    }
  }
  for (const d of m.manifests) {
    if (!(await ctx.storage.getRevision(name, d))) {
      throw new RegistryError("MANIFEST_BLOB_UNKNOWN", `manifest unknown to registry: ${d}`, {
        detail: { digest: d },
      });
    }
  }
  await ctx.storage.putManifest(name, { digest, mediaType: m.mediaType }, bytes);
  for (const t of tags) await ctx.storage.setTag(name, t, digest);
  const headers: Record<string, string> = {
    "Location": `/v2/${name}/manifests/${digest}`,
    "Docker-Content-Digest": digest,
    "Content-Length": "0",
  };
  if (m.subject) {
    await ctx.storage.addReferrer(
      name,
      m.subject.digest,
      referrerDescriptor(m, digest, bytes.length),
    );
    headers["OCI-Subject"] = m.subject.digest;
  }
  const h = new Headers(headers);
  if (isDigestRef(ref) && tags.length) h.set("OCI-Tag", tags.join(", "));
  return new Response(null, { status: 201, headers: h });
}

export async function deleteManifest(ctx: Ctx, name: string, ref: string): Promise<Response> {
  checkWritable(ctx);
  const accepted = () => new Response(null, { status: 202, headers: { "Content-Length": "0" } });
  if (!isDigestRef(ref)) {
    if (await ctx.storage.deleteTag(name, ref)) return accepted();
    throw await unknown(ctx, name, ref);
  }
  const rev = await ctx.storage.getRevision(name, ref);
  if (!rev) throw await unknown(ctx, name, ref);
  const bytes = await ctx.storage.readManifest(ref);
  if (bytes) {
    try {
      const m = parseManifest(bytes, rev.mediaType);
      if (m.subject) await ctx.storage.removeReferrer(name, m.subject.digest, ref);
    } catch { /* stored before validation rules changed; nothing to unlink */ }
  }
  for (const t of await ctx.storage.tagsOf(name, ref)) await ctx.storage.deleteTag(name, t);
  await ctx.storage.deleteRevision(name, ref);
  return accepted();
}
