/**
 * Content discovery: tags list and catalog (both paginated with `n`/`last`
 * and an RFC 5988 `Link` header) and the referrers API.
 * @module
 */
import { MT } from "../../core/oci/mediatypes.ts";
import { type Ctx, JSON_HEADERS } from "./context.ts";
import { RegistryError } from "./errors.ts";

/** Apply `n`/`last`; returns the page and the Link header, if any. */
export function paginate(
  all: string[],
  q: URLSearchParams,
  base: string,
): { page: string[]; link?: string } {
  const last = q.get("last");
  const nStr = q.get("n");
  let items = last ? all.filter((t) => t > last) : all;
  if (nStr === null || nStr === "") return { page: items };
  if (!/^\d+$/.test(nStr)) {
    throw new RegistryError("PAGINATION_NUMBER_INVALID", `invalid n: ${nStr}`);
  }
  const n = Number(nStr);
  if (n === 0) return { page: [] };
  const more = items.length > n;
  items = items.slice(0, n);
  if (!more) return { page: items };
  const next = new URLSearchParams({ n: String(n), last: items[items.length - 1] });
  return { page: items, link: `<${base}?${next}>; rel="next"` };
}

export async function listTags(ctx: Ctx, req: Request, name: string): Promise<Response> {
  let tags = await ctx.storage.listTags(name);
  if (ctx.upstream) {
    const up = await ctx.upstream.tags(name).catch(() => null); // upstream down: local tags
    if (up) tags = [...new Set([...(tags ?? []), ...up])].sort();
  }
  if (tags === null) {
    throw new RegistryError("NAME_UNKNOWN", `repository name not known to registry: ${name}`, {
      detail: { name },
    });
  }
  const { page, link } = paginate(tags, new URL(req.url).searchParams, `/v2/${name}/tags/list`);
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (link) headers["Link"] = link;
  return new Response(JSON.stringify({ name, tags: page }), { headers });
}

export async function catalog(ctx: Ctx, req: Request): Promise<Response> {
  const repos = await ctx.storage.listRepos();
  const { page, link } = paginate(repos, new URL(req.url).searchParams, `/v2/_catalog`);
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (link) headers["Link"] = link;
  return new Response(JSON.stringify({ repositories: page }), { headers });
}

export async function referrers(
  ctx: Ctx,
  req: Request,
  name: string,
  digest: string,
): Promise<Response> {
  let list = await ctx.storage.listReferrers(name, digest);
  const headers: Record<string, string> = { "Content-Type": MT.ociIndex };
  const at = new URL(req.url).searchParams.get("artifactType");
  if (at) {
    list = list.filter((d) => d.artifactType === at);
    headers["OCI-Filters-Applied"] = "artifactType";
  }
  const body = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: list };
  return new Response(JSON.stringify(body), { headers });
}
