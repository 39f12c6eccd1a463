/**
 * `berth build` (and `berth image build`): send a build context to the
 * daemon's `POST /build` (Docker's legacy builder protocol) and print its
 * stream. The context is a directory (tarred here, honouring .dockerignore
 * exactly as the docker CLI does), `-` (a tar, or a Dockerfile, on stdin) or
 * an http(s) URL of a tar (or of a Dockerfile). `-f -` reads the Dockerfile
 * from stdin; a Dockerfile outside the context travels inside the tar under
 * a private name.
 * @module
 */
import { collect, command, type Globals, out, parse, requireArgs } from "../cli.ts";
import { packDir, tarWriter } from "../../../core/archive/mod.ts";
import { encodeHeader, padding } from "../../../core/archive/tar_header.ts";
import {
  keepBuildFiles,
  PatternMatcher,
  readIgnoreFile,
} from "../../../core/dockerfile/dockerignore.ts";

import type { JSONMessage } from "../../../core/api/types.ts";

const USAGE = "[OPTIONS] PATH | URL | -";

function kvList(list: string[], what: string, env = false): Record<string, string | null> {
  const o: Record<string, string | null> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i === 0) throw new Error(`invalid ${what}: ${kv}`);
    if (i < 0) o[kv] = env ? (Deno.env.get(kv) ?? null) : "";
    else o[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return o;
}

async function readAllStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

function isTarOrCompressed(b: Uint8Array): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true; // gzip
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) {
    return true;
  }
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return true; // bzip2
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a) return true; // xz
  return b.length >= 262 && new TextDecoder().decode(b.subarray(257, 262)) === "ustar";
}

/** A tar holding just a Dockerfile. */
function singleFileTar(name: string, data: Uint8Array): ReadableStream<Uint8Array> {
  const w = tarWriter();
  (async () => {
    await w.addFile(name, data, { mode: 0o644, mtime: new Date() });
    await w.finish();
  })().catch((e) => w.abort(e));
  return w.stream;
}

/** Append extra files (a Dockerfile from elsewhere) to a directory's tar. */
function dirTar(
  dir: string,
  filter: (rel: string, isDir: boolean) => boolean | "descend",
  extra?: { name: string; data: Uint8Array },
): ReadableStream<Uint8Array> {
  const base = packDir(dir, {
    filter: (rel) => {
      let isDir = false;
      try {
        isDir = Deno.lstatSync(`${dir}/${rel}`).isDirectory;
      } catch { /* gone */ }
      return filter(rel, isDir);
    },
  });
  if (!extra) return base;
  // packDir ends with the two zero blocks: hold them back, add the file, end again.
  async function* gen(): AsyncGenerator<Uint8Array> {
    let held = new Uint8Array(0);
    for await (const value of base) {
      const all = new Uint8Array(held.length + value.length);
      all.set(held);
      all.set(value, held.length);
      const keep = Math.max(0, all.length - 1024);
      if (keep) yield all.slice(0, keep);
      held = all.slice(keep);
    }
    const size = extra!.data.length;
    yield encodeHeader({
      name: extra!.name,
      type: "file",
      size,
      mode: 0o644,
      mtime: Math.floor(Date.now() / 1000),
    });
    yield extra!.data;
    yield new Uint8Array(padding(size) + 1024);
  }
  return ReadableStream.from(gen());
}

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(name, USAGE, "Build an image from a Dockerfile")
    .option("-t, --tag <name>", "Name and optionally a tag in the 'name:tag' format", collect, [])
    .option("-f, --file <string>", "Name of the Dockerfile (Default is 'PATH/Dockerfile')")
    .option("--build-arg <list>", "Set build-time variables", collect, [])
    .option("--target <string>", "Set the target build stage to build")
    .option("--no-cache", "Do not use cache when building the image")
    .option("--pull", "Always attempt to pull a newer version of the image")
    .option("--label <list>", "Set metadata for an image", collect, [])
    .option("-q, --quiet", "Suppress the build output and print image ID on success")
    .option("--iidfile <string>", "Write the image ID to the file")
    .option("--network <string>", "Set the networking mode for the RUN instructions during build")
    .option("--progress <string>", "Set type of progress output (auto, plain)")
    .option("--platform <string>", "Set platform if server is multi-platform capable")
    .option("--rm [bool]", "Remove intermediate containers after a successful build")
    .option("--force-rm", "Always remove intermediate containers");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, USAGE, 1, 1);
  const ctxArg = pos[0];
  let dockerfile: string | undefined = opts.file;
  let body: ReadableStream<Uint8Array>;
  const privateName = `.dockerfile.${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;

  if (ctxArg === "-") {
    if (dockerfile === "-") {
      console.error("invalid argument: can't use stdin for both build context and dockerfile");
      return 1;
    }
    const data = await readAllStdin();
    if (isTarOrCompressed(data)) body = ReadableStream.from([data]);
    else {
      body = singleFileTar("Dockerfile", data);
      dockerfile = "Dockerfile";
    }
  } else if (/^https?:\/\//i.test(ctxArg)) {
    const r = await fetch(ctxArg).catch((e) => {
      throw new Error(
        `unable to prepare context: unable to download remote context ${ctxArg}: ${e.message}`,
      );
    });
    if (!r.ok) {
      console.error(
        `unable to prepare context: unable to download remote context ${ctxArg}: ${r.status}`,
      );
      return 1;
    }
    const data = new Uint8Array(await r.arrayBuffer());
    if (isTarOrCompressed(data)) body = ReadableStream.from([data]);
    else {
      body = singleFileTar("Dockerfile", data);
      dockerfile = "Dockerfile";
    }
  } else {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(ctxArg);
    } catch {
      console.error(`unable to prepare context: path "${ctxArg}" not found`);
      return 1;
    }
    if (!st.isDirectory) {
      console.error(`unable to prepare context: context must be a directory: ${ctxArg}`);
      return 1;
    }
    const dir = await Deno.realPath(ctxArg);
    let extra: { name: string; data: Uint8Array } | undefined;
    if (dockerfile === "-") {
      extra = { name: privateName, data: await readAllStdin() };
      dockerfile = privateName;
    } else if (dockerfile) {
      let abs: string;
      try {
        abs = await Deno.realPath(dockerfile);
      } catch {
        console.error(
          `unable to prepare context: the Dockerfile (${dockerfile}) cannot be empty or missing`,
        );
        return 1;
      }
      if (abs.startsWith(dir + "/")) dockerfile = abs.slice(dir.length + 1);
      else {
        extra = { name: privateName, data: await Deno.readFile(abs) };
        dockerfile = privateName;
      }
    } else {
      dockerfile = "Dockerfile";
      try {
        await Deno.stat(`${dir}/Dockerfile`);
      } catch {
        try {
          await Deno.stat(`${dir}/dockerfile`);
          dockerfile = "dockerfile";
        } catch {
          console.error(
            `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dir}/Dockerfile: no such file or directory`,
          );
          return 1;
        }
      }
    }
    let excludes: string[] = [];
    try {
      excludes = readIgnoreFile(await Deno.readTextFile(`${dir}/.dockerignore`));
    } catch { /* none */ }
    const pm = new PatternMatcher(keepBuildFiles(excludes, extra ? undefined : dockerfile));
    body = dirTar(dir, (rel, isDir) => pm.verdict(rel, isDir), extra);
  }

  let buildArgs: Record<string, string | null>, labels: Record<string, string | null>;
  try {
    buildArgs = kvList(opts.buildArg, "build-arg", true);
    labels = kvList(opts.label, "label");
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  const res = await g.api().request("POST", "/build", {
    query: {
      t: opts.tag,
      dockerfile,
      buildargs: JSON.stringify(buildArgs),
      labels: JSON.stringify(labels),
      target: opts.target,
      nocache: opts.cache === false,
      pull: opts.pull,
      q: opts.quiet,
      networkmode: opts.network,
      rm: true,
      version: "1",
    },
    body,
    headers: { "Content-Type": "application/x-tar" },
  });
  let id = "";
  for await (const m of g.api().jsonLines<JSONMessage>(res)) {
    if (m.errorDetail || m.error) {
      console.error(m.errorDetail?.message ?? m.error);
      const code = m.errorDetail?.code;
      return typeof code === "number" && code > 0 ? code : 1;
    }
    const auxId = m.aux?.ID; // the built image (moby's types.BuildResult)
    if (auxId) {
      id = String(auxId);
      continue;
    }
    if (typeof m.stream === "string") {
      if (opts.quiet) continue;
      out(m.stream);
    } else if (m.status && !opts.quiet) {
      out(`${m.id ? m.id + ": " : ""}${m.status}\n`);
    }
  }
  if (opts.quiet && id) out(id + "\n");
  if (opts.iidfile && id) await Deno.writeTextFile(opts.iidfile, id);
  return 0;
}
