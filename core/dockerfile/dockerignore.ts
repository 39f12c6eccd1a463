/**
 * `.dockerignore` with Docker's exact semantics (moby/patternmatcher):
 * lines read as `ignorefile.ReadAll` does (comments, trimming, `filepath.Clean`,
 * leading `/` dropped), patterns compiled like `filepath.Match` plus `**`,
 * later patterns win, `!` re-includes, a pattern matching a parent directory
 * matches everything below it, and an excluded directory is still walked when
 * an exception pattern may match inside it.
 *
 * @example
 * ```ts
 * import { PatternMatcher, readIgnoreFile } from "./dockerignore.ts";
 * const pm = new PatternMatcher(readIgnoreFile("**\/*.log\n!keep.log\nnode_modules\n"));
 * console.assert(pm.matches("a/b.log") && !pm.matches("keep.log") && pm.matches("node_modules/x"));
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { type Glob, ignoreGlob } from "./_glob.ts";

/** Go's path.Clean for slash paths. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(c);
  }
  const s = (abs ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}

/** The patterns of a .dockerignore file, as Docker reads them. */
export function readIgnoreFile(text: string): string[] {
  const out: string[] = [];
  let lines = text.split("\n");
  if (lines[0]?.startsWith("\uFEFF")) lines = [lines[0].slice(1), ...lines.slice(1)];
  for (let line of lines) {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.startsWith("#")) continue;
    let p = line.trim();
    if (p === "") continue;
    const invert = p.startsWith("!");
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith("/")) p = p.slice(1);
    }
    out.push(invert ? "!" + p : p);
  }
  return out;
}

interface Pattern {
  text: string;
  exclusion: boolean;
  re: Glob;
}

/** Docker's PatternMatcher over slash-separated relative paths. */
export class PatternMatcher {
  readonly patterns: Pattern[] = [];
  readonly hasExclusions: boolean;

  constructor(patterns: string[]) {
    let excl = false;
    for (let p of patterns) {
      p = p.trim();
      if (p === "") continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith("!")) {
        if (p.length === 1) throw new InvalidArgument('illegal exclusion pattern: "!"');
        exclusion = true;
        excl = true;
        p = p.slice(1);
      }
      this.patterns.push({ text: p, exclusion, re: ignoreGlob(p) });
    }
    this.hasExclusions = excl;
  }

  /** True when `file` (or one of its parents) is excluded and not re-included. */
  matches(file: string): boolean {
    const f = cleanPath(file);
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      if (p.re.testPathOrParents(f)) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * Walk decision for `rel` (as packDir's filter): true include, false skip
   * (with its subtree), "descend" for an excluded directory an exception may
   * reach into.
   */
  verdict(rel: string, isDir: boolean): boolean | "descend" {
    if (!this.matches(rel)) return true;
    if (!isDir || !this.hasExclusions) return false;
    const dirSlash = rel + "/";
    for (const p of this.patterns) {
      // Docker only looks for exceptions that start with this directory.
      if (p.exclusion && (p.text + "/").startsWith(dirSlash)) return "descend";
    }
    return false;
  }
}

/**
 * The CLI's `TrimBuildFilesFromExcludes`: the Dockerfile and .dockerignore are
 * always sent (the daemon drops them again when they are excluded).
 */
export function keepBuildFiles(excludes: string[], dockerfile: string | undefined): string[] {
  const out = [...excludes];
  const pm = new PatternMatcher(excludes);
  if (pm.matches(".dockerignore")) out.push("!.dockerignore");
  if (dockerfile && pm.matches(dockerfile)) out.push("!" + dockerfile);
  return out;
}
