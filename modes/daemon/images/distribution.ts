/**
 * The daemon's side of pull, push and login (`POST /images/create?fromImage=`,
 * `POST /images/{name}/push`, `POST /auth`), over core/distribution. Layers
 * are unpacked as they land, in order, while later ones still download.
 * @module
 */
import {
  type BlobSink,
  type BlobSource,
  type Credentials,
  getCredentials,
  login,
  pull,
  push,
  RegistryClient,
} from "../../../core/distribution/mod.ts";
import { InvalidArgument, isKind, messageOf, NotFound } from "../../../core/errdefs/mod.ts";
import {
  familiarName,
  familiarString,
  parseReference,
  type Reference,
  referenceString,
} from "../../../core/oci/reference.ts";
import { chainIds, type PreparedLayer } from "../../../core/store/layers.ts";
import { ingestUnpacking } from "./ingest.ts";
import { layerCompression } from "../../../core/oci/mediatypes.ts";
import type { Ctx, JsonStream } from "../context.ts";
import type { ImageDeps } from "./service.ts";
import type { DaemonConfig } from "../config.ts";

/** What pull and push work on: the image stores and the registries' settings. */
export type RegistryDeps = ImageDeps & { config: Pick<DaemonConfig, "insecureRegistries"> };
import { importImage } from "./archive_load.ts";
import { readBody } from "../api/body.ts";
import { AuthConfig } from "../../../core/api/auth.ts";
import { decodeBody } from "../../../core/api/schema.ts";
import { parsePlatformQuery } from "../api/platform.ts";
import { errorText } from "../../../core/errdefs/ignore.ts";
import { log, logFailure } from "../log.ts";

/** Decode the X-Registry-Auth header (base64url JSON); `{}`/absent → undefined. */
export function decodeRegistryAuth(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  try {
    const b64 = header.replace(/-/g, "+").replace(/_/g, "/");
    const text = new TextDecoder().decode(
      Uint8Array.from(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)), (c) => c.charCodeAt(0)),
    );
    const j = decodeBody(AuthConfig, text) ?? {}; // null is no credentials
    const c: Credentials = {
      username: j.username || undefined,
      password: j.password || undefined,
      identityToken: j.identitytoken || undefined,
      registryToken: j.registrytoken || undefined,
    };
    return c.username || c.identityToken || c.registryToken ? c : undefined;
  } catch {
    throw new InvalidArgument("invalid X-Registry-Auth header");
  }
}

async function credsFor(ctx: Ctx, domain: string): Promise<Credentials | undefined> {
  const h = ctx.req.headers["x-registry-auth"];
  const fromHeader = decodeRegistryAuth(Array.isArray(h) ? h[0] : h);
  if (fromHeader) return fromHeader;
  return await getCredentials(domain).catch((e) => {
    log.warn(`credentials for ${domain} not read, pulling without: ${errorText(e)}`);
    return undefined;
  }) ?? undefined;
}

/**
 * A sink into the content store that also unpacks layers while they
 * download (one read of the network stream feeds both), keeping the result
 * in `prepared` for the in-order unpack step to adopt.
 */
function sinkFor(
  s: RegistryDeps,
  pinned: Set<string>,
  mine: Set<string>,
  prepared: Map<string, PreparedLayer>,
): BlobSink {
  return {
    hasBlob: (d) => s.content.has(d),
    async ingest(desc, body) {
      pinned.add(desc.digest);
      mine.add(desc.digest);
      if (!desc.mediaType || layerCompression(desc.mediaType) === undefined) {
        await s.content.ingest(body, { digest: desc.digest, size: desc.size });
        return;
      }
      const r = await ingestUnpacking(s, body, { digest: desc.digest, size: desc.size });
      if (r.prepared) prepared.set(desc.digest, r.prepared);
    },
  };
}

function sourceFor(s: RegistryDeps): BlobSource {
  return {
    openBlob: async (d) => {
      try {
        return await s.content.open(d);
      } catch (e) {
        throw isKind(e, "NotFound") ? new NotFound(`blob ${d} not found`) : e;
      }
    },
  };
}

/** Pull one tagged or digested reference into `s.images` (the CRI passes its namespace). */
export async function pullOne(
  s: RegistryDeps,
  ref: Reference,
  out: JsonStream,
  opts: { auth?: Credentials; platform?: string; mirrors?: Record<string, string> },
): Promise<void> {
  const pinned = s.pinnedBlobs;
  const mine = new Set<string>();
  const prepared = new Map<string, PreparedLayer>();
  const before = s.images.tryResolve(referenceString(ref));
  try {
    const res = await pull(ref, {
      sink: sinkFor(s, pinned, mine, prepared),
      auth: opts.auth,
      platform: opts.platform,
      insecureRegistries: s.config.insecureRegistries,
      mirrors: opts.mirrors,
      onProgress: (e) => void out.write(e),
      unpack: async (layer, i, config) => {
        const diffIds = config.rootfs?.diff_ids ?? [];
        if (!diffIds[i]) throw new InvalidArgument(`image config lacks diff_id ${i}`);
        const chains = chainIds(diffIds.slice(0, i + 1));
        const ready = prepared.get(layer.digest);
        if (ready && ready.diffID === diffIds[i] && !(await s.layers.has(chains[i]))) {
          prepared.delete(layer.digest);
          await s.layers.adopt(chains[i], diffIds[i], i ? chains[i - 1] : undefined, ready);
          return;
        }
        await s.layers.ensure(
          chains[i],
          diffIds[i],
          i ? chains[i - 1] : undefined,
          async () => (await s.content.open(layer.digest)).body,
        );
      },
    });
    const rec = await importImage(s, {
      configDigest: res.configDigest,
      layers: res.manifest.layers,
      manifestDigest: res.manifestDigest,
      manifestMediaType: res.manifestMediaType,
      indexDigest: res.indexDigest,
    });
    if (ref.tag) await s.images.tag(rec.id, referenceString({ ...ref, digest: undefined }));
    await s.images.tag(rec.id, `${ref.domain}/${ref.path}@${res.digest}`);
    const same = before?.id === rec.id;
    await s.imageService.event("pull", familiarString(ref), familiarName(ref), rec.id);
    await out.write({
      status: same
        ? `Status: Image is up to date for ${familiarString(ref)}`
        : `Status: Downloaded newer image for ${familiarString(ref)}`,
    });
  } finally {
    for (const p of prepared.values()) await s.layers.discard(p);
    for (const d of mine) pinned.delete(d);
  }
}

/** POST /images/create?fromImage=…&tag=…[&platform=…] */
export async function pullHandler(ctx: Ctx): Promise<void> {
  const s = ctx.daemon;
  const fromImage = ctx.query.get("fromImage") ?? "";
  const tag = ctx.query.get("tag") ?? "";
  let ref: Reference;
  try {
    ref = parseReference(fromImage);
    if (tag) {
      if (/^[A-Za-z][A-Za-z0-9]*:[0-9a-fA-F]{32,}$/.test(tag)) ref = { ...ref, digest: tag };
      else ref = parseReference(`${fromImage}:${tag}`);
    }
  } catch (e) {
    throw new InvalidArgument(messageOf(e));
  }
  const auth = await credsFor(ctx, ref.domain);
  const platform = ctx.query.get("platform") || undefined;
  // postImagesCreate parses the platform before it answers (a 400, no stream)
  if (platform) parsePlatformQuery(platform);
  const out = ctx.startStream();
  try {
    if (ref.tag || ref.digest) {
      await pullOne(s, ref, out, { auth, platform });
    } else {
      // All tags (`pull -a`).
      const client = new RegistryClient(ref.domain, {
        credentials: auth,
        insecureRegistries: s.config.insecureRegistries,
      });
      let tags: string[];
      try {
        tags = await client.listTags(ref.path);
      } finally {
        client.close();
      }
      for (const t of tags) await pullOne(s, { ...ref, tag: t }, out, { auth, platform });
    }
  } catch (e) {
    await out.error(pullError(ref, e));
  } finally {
    out.end();
    await s.imageService.collect().catch(logFailure("collecting unused content"));
  }
}

function pullError(ref: Reference, e: unknown): string {
  const msg = messageOf(e);
  if (isKind(e, "NotFound") && /manifest/i.test(msg)) {
    return `manifest for ${familiarString(ref)} not found: manifest unknown: manifest unknown`;
  }
  if (isKind(e, "NotFound") || isKind(e, "Unauthorized")) {
    return `pull access denied for ${
      familiarName(ref)
    }, repository does not exist or may require 'docker login': ${msg}`;
  }
  return msg;
}

/** POST /images/{name}/push?tag=… */
export async function pushHandler(ctx: Ctx): Promise<void> {
  const s = ctx.daemon;
  const name = ctx.params.name;
  const tag = ctx.query.get("tag") ?? "";
  let repo: Reference;
  try {
    repo = parseReference(name);
  } catch (e) {
    throw new InvalidArgument(messageOf(e));
  }
  if (repo.tag || repo.digest) {
    repo = { domain: repo.domain, path: repo.path, tag: tag || repo.tag };
  } else if (tag) repo = { ...repo, tag };
  const repoKey = `${repo.domain}/${repo.path}`;
  const tags = repo.tag
    ? [repo.tag]
    : s.images.list().flatMap((r) => s.images.refsOf(r.id)).filter((k) =>
      k.startsWith(repoKey + ":")
    ).map((k) => k.slice(repoKey.length + 1));
  if (tags.length === 0) {
    throw new NotFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
  }
  const recs = tags.map((t) => {
    const r = s.images.tryResolve(`${repoKey}:${t}`);
    if (!r) {
      throw new NotFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
    }
    return [t, r] as const;
  });
  const auth = await credsFor(ctx, repo.domain);
  const out = ctx.startStream();
  try {
    await out.write({
      status: `The push refers to repository [${repoKey.replace(/^docker\.io\//, "docker.io/")}]`,
    });
    for (const [t, rec] of recs) {
      const res = await push({ ...repo, tag: t }, {
        source: sourceFor(s),
        manifestDigest: rec.manifestDigest,
        auth,
        insecureRegistries: s.config.insecureRegistries,
        onProgress: (e) => void out.write(e),
        mountFrom: (digest) => mountCandidates(s, digest, repo),
      });
      await out.write({ status: `${t}: digest: ${res.digest} size: ${res.size}` });
      await out.write({ progressDetail: {}, aux: { Tag: t, Digest: res.digest, Size: res.size } });
      await s.images.tag(rec.id, `${repoKey}@${res.digest}`);
      await s.imageService.event(
        "push",
        familiarString({ ...repo, tag: t }),
        familiarName(repo),
        rec.id,
      );
    }
  } catch (e) {
    await out.error(messageOf(e));
  } finally {
    out.end();
  }
}

/** Repositories on the same registry whose images hold `digest` (for cross-repo mounts). */
function mountCandidates(s: RegistryDeps, digest: string, target: Reference): string[] {
  const out = new Set<string>();
  for (const r of s.images.list()) {
    if (!r.layers.some((l) => l.digest === digest)) continue;
    for (const k of s.images.refsOf(r.id)) {
      try {
        const ref = parseReference(k);
        if (ref.domain === target.domain && ref.path !== target.path) out.add(ref.path);
      } catch { /* skip */ }
    }
  }
  return [...out];
}

/** POST /auth */
export async function authHandler(ctx: Ctx): Promise<void> {
  const body = await readBody(ctx, AuthConfig);
  const server = body.serveraddress || "https://index.docker.io/v1/";
  const host = server.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "").replace(
    /^index\.docker\.io$/,
    "docker.io",
  );
  try {
    await login(host, {
      username: body.username ?? "",
      password: body.password ?? "",
      identityToken: body.identitytoken || undefined,
    }, { insecureRegistries: ctx.daemon.config.insecureRegistries });
  } catch (e) {
    if (isKind(e, "Unauthorized")) {
      ctx.send(401, {
        message: `login attempt to https://${host}/v2/ failed with status: 401 Unauthorized`,
      });
      return;
    }
    throw e;
  }
  ctx.send(200, { Status: "Login Succeeded", IdentityToken: "" });
}
