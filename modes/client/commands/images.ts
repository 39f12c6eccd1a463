/**
 * Image commands: images, image inspect, rmi, tag, load, save, import,
 * history, image prune.
 * @module
 */
import {
  collect,
  command,
  filterFlag,
  filtersOf,
  type Globals,
  out,
  parse,
  requireArgs,
  UsageExit,
} from "../cli.ts";
import { goTime, humanSize, printFormatted, renderTemplate, since } from "../format.ts";
import { familiarString, parseReference } from "../../../core/oci/reference.ts";
import { shortId } from "../../../core/oci/digest.ts";
import type { ApiClient } from "../api.ts";
import { keepFirstError } from "../../../core/errdefs/ignore.ts";

import type { ImageHistoryItem, ImageSummary, JSONMessage } from "../../../core/api/types.ts";

interface ImageRow {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  VirtualSize: string;
  SharedSize: string;
  UniqueSize: string;
  Containers: string;
}

function rowsOf(list: ImageSummary[], o: { all: boolean; noTrunc: boolean }): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of list) {
    const id = o.noTrunc ? img.Id : shortId(img.Id);
    const base = {
      ID: id,
      CreatedSince: since(img.Created),
      CreatedAt: goTime(img.Created),
      Size: humanSize(img.Size),
      VirtualSize: humanSize(img.Size),
      SharedSize: "N/A",
      UniqueSize: "N/A",
      Containers: img.Containers >= 0 ? String(img.Containers) : "N/A",
    };
    const tags = img.RepoTags ?? [];
    const digests = img.RepoDigests ?? [];
    const digestOf = (repo: string) =>
      digests.find((d) => d.startsWith(repo + "@"))?.split("@")[1] ?? "<none>";
    if (tags.length === 0) {
      if (digests.length === 0) {
        rows.push({ Repository: "<none>", Tag: "<none>", Digest: "<none>", ...base });
      }
      for (const d of digests) {
        const [repo, dg] = d.split("@");
        rows.push({ Repository: repo, Tag: "<none>", Digest: dg, ...base });
      }
      continue;
    }
    for (const t of tags) {
      const r = parseReference(t);
      const repo = familiarString({ ...r, tag: undefined, digest: undefined });
      rows.push({ Repository: repo, Tag: r.tag ?? "<none>", Digest: digestOf(repo), ...base });
    }
  }
  return rows;
}

async function images(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] [REPOSITORY[:TAG]]", "List images")
    .option("-a, --all", "Show all images (default hides intermediate images)")
    .option("--digests", "Show digests")
    .option("-f, --filter <filter>", "Filter output based on conditions provided", filterFlag, [])
    .option("--format <string>", "Format output using a custom template")
    .option("--no-trunc", "Don't truncate output")
    .option("-q, --quiet", "Only show image IDs");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] [REPOSITORY[:TAG]]", 0, 1);
  const filters = filtersOf(opts.filter);
  if (pos[0]) (filters.reference ??= []).push(pos[0]);
  const list = await g.api().json<ImageSummary[]>("GET", "/images/json", {
    query: {
      all: opts.all,
      filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined,
    },
  });
  const noTrunc = opts.trunc === false;
  if (opts.quiet) {
    const seen = new Set<string>();
    for (const img of list) {
      const id = noTrunc ? img.Id : shortId(img.Id);
      if (!seen.has(id)) {
        seen.add(id);
        out(id + "\n");
      }
    }
    return 0;
  }
  const rows = rowsOf(list, { all: !!opts.all, noTrunc });
  const def = opts.digests
    ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  out(printFormatted(rows, opts.format, {
    defaultTable: def,
    headers: {
      Repository: "REPOSITORY",
      Tag: "TAG",
      Digest: "DIGEST",
      ID: "IMAGE ID",
      CreatedSince: "CREATED",
      CreatedAt: "CREATED AT",
      Size: "SIZE",
      Containers: "CONTAINERS",
    },
  }));
  return 0;
}

export async function inspectObjects(
  names: string[],
  fetchOne: (n: string) => Promise<unknown>,
  format: string | undefined,
  kind: string,
): Promise<number> {
  const found: unknown[] = [];
  let code = 0;
  for (const n of names) {
    try {
      found.push(await fetchOne(n));
    } catch (e) {
      if ((e as { status?: number }).status === 404) {
        console.error(`Error: No such ${kind}: ${n}`);
        code = 1;
      } else throw e;
    }
  }
  if (format) {
    for (const f of found) out(renderTemplate(format, f) + "\n");
  } else {
    out(JSON.stringify(found, null, 4) + "\n");
  }
  return code;
}

function imageInspect(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] IMAGE [IMAGE...]",
    "Display detailed information on one or more images",
  )
    .option("-f, --format <string>", "Format output using a custom template");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] IMAGE [IMAGE...]", 1);
  return inspectObjects(
    pos,
    (n) => g.api().json("GET", `/images/${n}/json`),
    opts.format,
    "image",
  );
}

async function rmi(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images")
    .option("-f, --force", "Force removal of the image")
    .option("--no-prune", "Do not delete untagged parents");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] IMAGE [IMAGE...]", 1);
  let code = 0;
  for (const img of pos) {
    try {
      const res = await g.api().json<Array<{ Untagged?: string; Deleted?: string }>>(
        "DELETE",
        `/images/${img}`,
        { query: { force: opts.force, noprune: opts.prune === false } },
      );
      for (const r of res) {
        if (r.Untagged) out(`Untagged: ${r.Untagged}\n`);
        if (r.Deleted) out(`Deleted: ${r.Deleted}\n`);
      }
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status) {
        console.error(`Error response from daemon: ${(e as Error).message}`);
        code = 1;
      } else throw e;
    }
  }
  return code;
}

async function tag(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  );
  const { args: pos } = parse(c, args, name);
  requireArgs(pos, name, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", 2, 2);
  let ref;
  try {
    ref = parseReference(pos[1]);
  } catch (e) {
    console.error(
      `Error parsing reference: "${pos[1]}" is not a valid repository/tag: ${(e as Error).message}`,
    );
    return 1;
  }
  if (ref.digest) {
    console.error("Error response from daemon: refusing to create a tag with a digest reference");
    return 1;
  }
  await g.api().call("POST", `/images/${pos[0]}/tag`, {
    query: { repo: `${ref.domain}/${ref.path}`, tag: ref.tag ?? "latest" },
  });
  return 0;
}

/** Print a JSON-lines progress stream; returns 1 on an errorDetail line. */
export async function printProgress(
  api: ApiClient,
  res: Response,
  opts: { quiet?: boolean; onAux?: (aux: unknown) => void } = {},
): Promise<number> {
  for await (const m of api.jsonLines<JSONMessage>(res)) {
    if (m.errorDetail || m.error) {
      console.error(m.errorDetail?.message ?? m.error);
      return 1;
    }
    if (m.aux) {
      opts.onAux?.(m.aux);
      continue;
    }
    if (opts.quiet) continue;
    if (typeof m.stream === "string") out(m.stream);
    else if (m.status) {
      out(`${m.id ? m.id + ": " : ""}${m.status}${m.progress ? " " + m.progress : ""}\n`);
    }
  }
  return 0;
}

async function load(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Load an image from a tar archive or STDIN")
    .option("-i, --input <string>", "Read from tar archive file, instead of STDIN")
    .option("-q, --quiet", "Suppress the load output");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS]", 0, 0);
  let body: ReadableStream<Uint8Array>;
  if (opts.input) {
    try {
      body = (await Deno.open(opts.input)).readable;
    } catch (e) {
      console.error(
        `open ${opts.input}: ${
          e instanceof Deno.errors.NotFound ? "no such file or directory" : (e as Error).message
        }`,
      );
      return 1;
    }
  } else {
    if (Deno.stdin.isTerminal()) {
      console.error("requested load from stdin, but stdin is empty");
      return 1;
    }
    body = Deno.stdin.readable;
  }
  const res = await g.api().request("POST", "/images/load", {
    query: { quiet: opts.quiet },
    body,
    headers: { "Content-Type": "application/x-tar" },
  });
  return printProgress(g.api(), res, { quiet: false });
}

async function save(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] IMAGE [IMAGE...]",
    "Save one or more images to a tar archive (streamed to STDOUT by default)",
  )
    .option("-o, --output <string>", "Write to a file, instead of STDOUT");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] IMAGE [IMAGE...]", 1);
  if (!opts.output && Deno.stdout.isTerminal()) {
    console.error("Cowardly refusing to save to a terminal. Use the -o flag or redirect");
    return 1;
  }
  const res = await g.api().request("GET", "/images/get", { query: { names: pos } });
  if (opts.output) {
    // Write to a temp file beside the target, then rename: no half archive on failure.
    const tmp = `${opts.output}.tmp-${Deno.pid}`;
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      await res.body!.pipeTo(f.writable);
      await Deno.rename(tmp, opts.output);
    } catch (e) {
      await Deno.remove(tmp).catch(keepFirstError);
      throw e;
    }
  } else {
    await res.body!.pipeTo(Deno.stdout.writable, { preventClose: true });
  }
  return 0;
}

async function importCmd(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    "Import the contents from a tarball to create a filesystem image",
  )
    .option(
      "-c, --change <value>",
      "Apply Dockerfile instruction to the created image",
      collect,
      [],
    )
    .option("-m, --message <string>", "Set commit message for imported image")
    .option("--platform <string>", "Set platform if server is multi-platform capable");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]", 1, 2);
  let repo: string | undefined, tagName: string | undefined;
  if (pos[1]) {
    const r = parseReference(pos[1]);
    repo = `${r.domain}/${r.path}`;
    tagName = r.tag;
  }
  let body: ReadableStream<Uint8Array>;
  if (pos[0] === "-") body = Deno.stdin.readable;
  else {
    try {
      body = (await Deno.open(pos[0])).readable;
    } catch {
      console.error(`open ${pos[0]}: no such file or directory`);
      return 1;
    }
  }
  const res = await g.api().request("POST", "/images/create", {
    query: { fromSrc: "-", repo, tag: tagName, message: opts.message, changes: opts.change },
    body,
    headers: { "Content-Type": "application/x-tar" },
  });
  let id = "";
  for await (const m of g.api().jsonLines<JSONMessage>(res)) {
    if (m.errorDetail || m.error) {
      console.error(m.errorDetail?.message ?? m.error);
      return 1;
    }
    if (typeof m.status === "string") id = m.status;
  }
  out(id + "\n");
  return 0;
}

async function history(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS] IMAGE", "Show the history of an image")
    .option("--format <string>", "Format output using a custom template")
    .option("-H, --human [bool]", "Print sizes and dates in human readable format", true)
    .option("--no-trunc", "Don't truncate output")
    .option("-q, --quiet", "Only show image IDs");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] IMAGE", 1, 1);
  const hist = await g.api().json<ImageHistoryItem[]>("GET", `/images/${pos[0]}/history`);
  const noTrunc = opts.trunc === false;
  const rows = hist.map((h) => ({
    ID: h.Id === "<missing>" ? "<missing>" : noTrunc ? h.Id : shortId(h.Id),
    CreatedSince: since(h.Created),
    CreatedBy: noTrunc
      ? h.CreatedBy
      : (h.CreatedBy.length > 45 ? h.CreatedBy.slice(0, 44) + "…" : h.CreatedBy),
    Size: humanSize(h.Size),
    Comment: h.Comment,
  }));
  if (opts.quiet) {
    for (const r of rows) out(r.ID + "\n");
    return 0;
  }
  out(printFormatted(rows, opts.format, {
    defaultTable: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
    headers: {
      ID: "IMAGE",
      CreatedSince: "CREATED",
      CreatedBy: "CREATED BY",
      Size: "SIZE",
      Comment: "COMMENT",
    },
  }));
  return 0;
}

async function prune(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, "[OPTIONS]", "Remove unused images")
    .option("-a, --all", "Remove all unused images, not just dangling ones")
    .option("-f, --force", "Do not prompt for confirmation");
  const { opts } = parse(c, args, name);
  if (!opts.force && Deno.stdin.isTerminal()) {
    out(
      "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] ",
    );
    const buf = new Uint8Array(16);
    const n = await Deno.stdin.read(buf);
    if (!n || !/^y/i.test(new TextDecoder().decode(buf.subarray(0, n)))) return 0;
  }
  const res = await g.api().json<
    { ImagesDeleted: Array<Record<string, string>> | null; SpaceReclaimed: number }
  >(
    "POST",
    "/images/prune",
    {
      query: {
        filters: JSON.stringify(opts.all ? { dangling: ["false"] } : { dangling: ["true"] }),
      },
    },
  );
  if (res.ImagesDeleted?.length) {
    out("Deleted Images:\n");
    for (const d of res.ImagesDeleted) {
      if (d.Untagged) out(`untagged: ${d.Untagged}\n`);
      if (d.Deleted) out(`deleted: ${d.Deleted}\n`);
    }
    out("\n");
  }
  out(`Total reclaimed space: ${humanSize(res.SpaceReclaimed)}\n`);
  return 0;
}

export function run(name: string, args: string[], g: Globals): Promise<number> {
  switch (name) {
    case "images":
      return images(name, args, g);
    case "image inspect":
      return imageInspect(name, args, g);
    case "rmi":
      return rmi(name, args, g);
    case "tag":
      return tag(name, args, g);
    case "load":
      return load(name, args, g);
    case "save":
      return save(name, args, g);
    case "import":
      return importCmd(name, args, g);
    case "history":
      return history(name, args, g);
    case "image prune":
      return prune(name, args, g);
  }
  throw new UsageExit(1);
}
