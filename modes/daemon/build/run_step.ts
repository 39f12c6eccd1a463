/**
 * RUN: the shell or exec form (heredocs as BuildKit runs them), the build
 * args in effect in the env, history and cache key (`|N K=V … cmd`, proxy
 * args only in the env), run through the {@link StepRunner}, output
 * streamed live; a non-zero exit fails the build with that code.
 * @module
 */
import type { StageRun, StepHost } from "./types.ts";
import { StepFailed } from "./types.ts";
import { stepKey } from "./cache.ts";
import { cleanPath } from "../../../core/dockerfile/dockerignore.ts";
import type { Instruction } from "../../../core/dockerfile/instructions.ts";
import { chompHeredoc, parseHeredocWord } from "../../../core/dockerfile/parser.ts";
import { processWord } from "../../../core/dockerfile/shell_lex.ts";
import { type BuildState, commitState, layerFromUpper, lowerDirs } from "./state.ts";
import { removeIfExists, tempLeftover } from "../../../core/errdefs/ignore.ts";

function runArgs(shell: string[], ins: Extract<Instruction, { kind: "RUN" }>): {
  args: string[];
  script?: { name: string; data: string };
} {
  if (ins.json) return { args: ins.args };
  const line = ins.args[0] ?? "";
  if (!ins.heredocs.length) return { args: [...shell, line] };
  const only = parseHeredocWord(line.trim());
  if (ins.heredocs.length === 1 && only) {
    const h = ins.heredocs[0];
    const data = h.chomp ? chompHeredoc(h.content) : h.content;
    if (data.startsWith("#!")) {
      return { args: [`/dev/pipes/${h.name}`], script: { name: h.name, data } };
    }
    return { args: [...shell, data] };
  }
  let full = line;
  for (const h of ins.heredocs) full += "\n" + h.content + h.name;
  return { args: [...shell, full] };
}

/**
 * Stderr as the legacy builder streams it: each write wrapped in bright red
 * (moby pkg/streamformatter `NewStderrWriter`).
 */
function red(text: string): string {
  return text ? `\x1b[91m${text}\x1b[0m` : "";
}

export async function runStep(
  b: StepHost,
  sr: StageRun,
  ins: Extract<Instruction, { kind: "RUN" }>,
): Promise<void> {
  const rc = sr.state.config.config ?? {};
  const { args, script } = runArgs(b.shellOf(sr), ins);
  // Build args in effect that ENV does not override go into the env, history and key.
  const envKeys = new Set((rc.Env ?? []).map((e) => e.split("=", 1)[0]));
  const argEnv = [...sr.args.effective()].filter(([k]) => !envKeys.has(k)).map(([k, v]) =>
    `${k}=${v}`
  )
    .sort();
  const proxies = [...sr.args.proxies()].filter(([k]) => !envKeys.has(k)).map(([k, v]) =>
    `${k}=${v}`
  );
  const saveCmd = argEnv.length ? [`|${argEnv.length}`, ...argEnv, ...args] : args;
  const network = ins.network ? processWord(ins.network, b.env(sr)) : b.d.options.network;
  const key = stepKey(b.parentKey(sr), { RUN: saveCmd, script: script?.data });
  if (await b.cached(sr, key)) return;
  b.checkAbort();
  const scriptDir = script
    ? `${b.d.workRoot}/script-${crypto.randomUUID().slice(0, 8)}`
    : undefined;
  if (script && scriptDir) {
    await Deno.mkdir(scriptDir, { recursive: true });
    await Deno.writeTextFile(`${scriptDir}/${script.name}`, script.data, { mode: 0o755 });
  }
  const enc = { out: new TextDecoder(), err: new TextDecoder() };
  const out = b.out;
  let pending = Promise.resolve();
  const emit = (t: string) => {
    if (t) pending = pending.then(() => out.stream(t));
  };
  const outcome = await b.d.runner.run({
    lowers: lowerDirs(b.stores, sr.state),
    image: sr.state.id,
    args,
    env: [...(rc.Env ?? []), ...argEnv, ...proxies],
    user: rc.User ?? "",
    workdir: rc.WorkingDir || "/",
    network,
    extraHosts: b.d.options.extraHosts,
    binds: script && scriptDir
      ? [{ source: `${scriptDir}/${script.name}`, destination: `/dev/pipes/${script.name}` }]
      : [],
    onStart: (id) => emit(` ---> Running in ${id}\n`),
    stdout: (c) => emit(enc.out.decode(c, { stream: true })),
    stderr: (c) => emit(red(enc.err.decode(c, { stream: true }))),
    signal: b.d.signal,
  });
  emit(enc.out.decode());
  emit(red(enc.err.decode()));
  await pending;
  if (scriptDir) await Deno.remove(scriptDir, { recursive: true }).catch(tempLeftover);
  let next: BuildState;
  try {
    if (outcome.exitCode !== 0) {
      throw new StepFailed(
        `The command '${args.join(" ")}' returned a non-zero code: ${outcome.exitCode}`,
        outcome.exitCode,
      );
    }
    // Like Docker's legacy builder: what RUN changes in a declared VOLUME is discarded.
    for (const v of Object.keys(rc.Volumes ?? {})) {
      const p = cleanPath("/" + v);
      if (p !== "/") await removeIfExists(outcome.upperDir + p, { recursive: true });
    }
    const layer = await layerFromUpper(b.stores, sr.state.chainIds.at(-1), outcome.upperDir);
    next = await commitState(b.stores, sr.state, {
      runConfig: structuredClone(rc),
      createdBy: saveCmd.join(" "),
      layer,
    });
  } finally {
    await outcome.cleanup();
  }
  await out.stream(`Removing intermediate container ${outcome.id}\n`);
  await b.done(sr, key, next);
}
