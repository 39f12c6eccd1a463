/**
 * The filesystem-changing steps: WORKDIR (mkdir), COPY/ADD and RUN. Each
 * computes its cache key first (parent state + the step as expanded + for
 * COPY/ADD the sources' content hash), then works in a fresh overlay on the
 * parent's layers; the upper dir becomes the step's layer (none when
 * nothing changed, as Docker's empty_layer).
 * @module
 */
import { createHash } from "node:crypto";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import type { ImageRunConfig } from "../../../core/oci/types.ts";
import { download, isArchive, isUrl, resolveChown } from "./add.ts";
import type { StageRun, StepHost } from "./types.ts";
import { stepKey } from "./cache.ts";
import { copyInto, type CopyItem } from "./copy.ts";
import {
  checkMultiSource,
  normalizeDest,
  parseChmod,
} from "../../../core/dockerfile/copy_rules.ts";
import { applyMeta } from "../../../core/dockerfile/dispatch.ts";
import type { Instruction } from "../../../core/dockerfile/instructions.ts";
import { mountStepRoot, type StepRoot } from "./step_root.ts";
import { chompHeredoc, parseHeredocWord } from "../../../core/dockerfile/parser.ts";
import { processWord } from "../../../core/dockerfile/shell_lex.ts";
import { baseName, ContextFS, DirFS, resolveSource } from "./sources.ts";
import { type BuildState, commitState, layerFromUpper, lowerDirs } from "./state.ts";
import { log, logFailure } from "../log.ts";

const ms = (x: number) => `${x.toFixed(0)}ms`;

let seq = 0;
function stepDir(b: StepHost): string {
  return `${b.d.workRoot}/step-${seq++}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Mount a writable root on the state, run `work`, and commit what changed. */
async function fsCommit(
  b: StepHost,
  sr: StageRun,
  key: string,
  o: { runConfig: ImageRunConfig; createdBy: string; work: (root: StepRoot) => Promise<void> },
): Promise<void> {
  const t0 = performance.now();
  const root = await mountStepRoot(stepDir(b), lowerDirs(b.stores, sr.state), true);
  let next: BuildState;
  const t1 = performance.now();
  let t2 = t1, t3 = t1;
  try {
    await o.work(root);
    root.detach();
    t2 = performance.now();
    const layer = await layerFromUpper(b.stores, sr.state.chainIds.at(-1), root.upper!);
    t3 = performance.now();
    next = await commitState(b.stores, sr.state, {
      runConfig: o.runConfig,
      createdBy: o.createdBy,
      layer,
    });
  } finally {
    await root.release();
  }
  log.debug(
    `build step: mount ${ms(t1 - t0)}, work ${ms(t2 - t1)}, layer ${ms(t3 - t2)}, commit ${
      ms(performance.now() - t3)
    }`,
  );
  await b.done(sr, key, next);
}

export async function workdirStep(
  b: StepHost,
  sr: StageRun,
  ins: Instruction,
): Promise<void> {
  const rc = structuredClone(sr.state.config.config ?? {});
  const shell = b.shellOf(sr);
  const r = applyMeta(ins, rc, { env: b.env(sr), escape: b.d.plan.escape, cmdSet: sr.cmdSet });
  const key = stepKey(b.parentKey(sr), r.key);
  if (await b.cached(sr, key)) return;
  await fsCommit(b, sr, key, {
    runConfig: rc,
    createdBy: `${shell.join(" ")} #(nop)  ${r.comment}`,
    work: async (root) => {
      const p = resolveInRoot(root.merged, rc.WorkingDir ?? "/");
      await Deno.mkdir(p, { recursive: true, mode: 0o755 });
    },
  });
}

// ---- COPY / ADD ----

interface Prepared {
  items: CopyItem[];
  keyParts: unknown[];
  hashes: string[];
  cleanup: Array<() => Promise<void>>;
}

export async function copyStep(
  b: StepHost,
  sr: StageRun,
  ins: Extract<Instruction, { kind: "COPY" | "ADD" }>,
): Promise<void> {
  const env = b.env(sr);
  const esc = { escape: b.d.plan.escape };
  const word = (w: string) => processWord(w, env, esc);
  const rc = sr.state.config.config ?? {};
  const destText = word(ins.dest);
  const dest = normalizeDest(rc.WorkingDir ?? "", destText);
  const chown = ins.chown !== undefined ? word(ins.chown) : undefined;
  const chmod = parseChmod(ins.chmod !== undefined ? word(ins.chmod) : undefined);
  const p: Prepared = { items: [], keyParts: [], hashes: [], cleanup: [] };
  try {
    await prepareSources(b, sr, ins, word, p);
    checkMultiSource(ins.kind, p.items.length, dest);
    const key = stepKey(b.parentKey(sr), {
      [ins.kind]: p.keyParts,
      dest: dest.path + (dest.dirLike ? "/" : ""),
      chown,
      chmod,
      // Since COPY --from keeps the source's owners (no --chown): layers made before differ.
      ...(ins.kind === "COPY" && ins.from !== undefined && !chown ? { owners: "source" } : {}),
    });
    if (await b.cached(sr, key)) return;
    const all = createHash("sha256").update(p.hashes.join(",")).digest("hex");
    const what = p.items.length === 1
      ? `${p.items[0].kind === "tree" && p.hashes[0].startsWith("dir:") ? "dir" : "file"}:${
        p.hashes[0].split(":").pop()
      }`
      : `multi:${all}`;
    const destShown = dest.path + (dest.dirLike && dest.path !== "/" ? "/" : "");
    await fsCommit(b, sr, key, {
      runConfig: structuredClone(rc),
      createdBy: `${b.shellOf(sr).join(" ")} #(nop) ${ins.kind} ${what} in ${destShown} `,
      work: async (root) => {
        const id = chown ? resolveChown(root.merged, chown) : { uid: 0, gid: 0 };
        await copyInto(root.merged, p.items, dest, {
          ...id,
          keepOwner: ins.kind === "COPY" && ins.from !== undefined && !chown,
          upper: root.upper,
          chmod,
          unpack: ins.kind === "ADD" ? isArchive : undefined,
        });
      },
    });
  } finally {
    for (const c of p.cleanup.reverse()) await c().catch(logFailure("build step cleanup"));
  }
}

async function prepareSources(
  b: StepHost,
  sr: StageRun,
  ins: Extract<Instruction, { kind: "COPY" | "ADD" }>,
  word: (w: string) => string,
  p: Prepared,
): Promise<void> {
  // The tree sources come from: the context, another stage, or an image.
  let fs: ContextFS | DirFS = new ContextFS(b.d.context);
  let fromId: string | undefined;
  if (ins.from !== undefined) {
    const from = word(ins.from);
    if (from === "") throw new InvalidArgument("--from requires a value");
    const ref = b.stageRef(from, sr.stage.index);
    let st: BuildState;
    if (ref) st = await b.stageResult(ref);
    else st = await b.imageByName(from);
    fromId = st.id ?? "scratch";
    const root = await mountStepRoot(
      `${b.d.workRoot}/from-${crypto.randomUUID().slice(0, 8)}`,
      lowerDirs(b.stores, st),
      false,
    );
    p.cleanup.push(() => root.release());
    fs = new DirFS(root.merged);
  }
  const heredocs = new Map(ins.heredocs.map((h) => [`<<${h.chomp ? "-" : ""}${h.name}`, h]));
  for (const raw of ins.srcs) {
    const h = heredocs.get(raw) ??
      (parseHeredocWord(raw)
        ? ins.heredocs.find((x) => x.name === parseHeredocWord(raw)!.name)
        : undefined);
    if (h) {
      let data = h.chomp ? chompHeredoc(h.content) : h.content;
      if (h.expand) {
        data = processWord(data, b.env(sr), { escape: b.d.plan.escape, skipQuotes: true });
      }
      const bytes = new TextEncoder().encode(data);
      const hash = createHash("sha256").update(bytes).digest("hex");
      p.items.push({ kind: "bytes", name: h.name, data: bytes, mode: 0o644, mtime: 0 });
      p.keyParts.push({ heredoc: h.name, hash });
      p.hashes.push(`file:${hash}`);
      continue;
    }
    const src = word(raw);
    if (isUrl(src)) {
      if (ins.kind === "COPY") throw new InvalidArgument("source can't be a URL for COPY");
      const d = await download(src, `${b.d.workRoot}/downloads`, b.d.signal);
      p.cleanup.push(() => Deno.remove(d.path));
      if (!d.name) {
        throw new InvalidArgument(`cannot determine filename from url: ${src}`);
      }
      p.items.push({ kind: "hostfile", name: d.name, path: d.path, mode: 0o600, mtime: d.mtime });
      p.keyParts.push({ url: src, name: d.name, hash: d.sha256, mtime: d.mtime });
      p.hashes.push(`file:${d.sha256}`);
      continue;
    }
    const found = resolveSource(fs, src, ins.kind);
    if (found.length === 0) {
      throw new InvalidArgument(`${ins.kind} failed: no source files were specified`);
    }
    for (const f of found) {
      p.items.push({ kind: "tree", fs, rel: f.real, name: baseName(f.path) });
      const h = fs instanceof ContextFS ? fs.hash(f.real) : `${fromId}:${f.real}`;
      p.keyParts.push({ path: f.path, real: f.real, hash: h });
      p.hashes.push(
        `${f.meta.type === "dir" ? "dir" : "file"}:${
          fs instanceof ContextFS ? h : createHash("sha256").update(h).digest("hex")
        }`,
      );
    }
  }
}
