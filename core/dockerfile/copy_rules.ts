/**
 * COPY/ADD path rules, pure: destination normalisation against WORKDIR (a
 * trailing `/` means "a directory"), Go `filepath.Match` globs for sources,
 * source path cleaning (never above the context root), the multi-source
 * rule, `--chmod` and `--chown` parsing.
 *
 * @example
 * ```ts
 * import { normalizeDest, globMatch, destPathFor } from "./copy_rules.ts";
 * const d = normalizeDest("/app", "bin/");
 * console.assert(d.path === "/app/bin" && d.dirLike);
 * console.assert(globMatch("*.txt", "a.txt") && !globMatch("*.txt", "d/a.txt"));
 * console.assert(destPathFor(d, "tool", false) === "/app/bin/tool");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { type Glob, goGlob } from "./_glob.ts";
import { cleanPath } from "./dockerignore.ts";

export interface Dest {
  /** Absolute, cleaned. */
  path: string;
  /** Written with a trailing slash (or "."): the destination is a directory. */
  dirLike: boolean;
}

/** Docker's normalizeDest: relative destinations are below WORKDIR. */
export function normalizeDest(workdir: string, requested: string): Dest {
  const dirLike = requested.endsWith("/") || requested === "." || requested === "" ||
    requested.endsWith("/.") || requested === "..";
  const path = requested.startsWith("/")
    ? cleanPath(requested)
    : cleanPath(`/${workdir || "/"}/${requested}`);
  return { path, dirLike };
}

/** Where a single source lands. `destIsDir`: the destination exists as a directory. */
export function destPathFor(dest: Dest, sourceName: string, destIsDir: boolean): string {
  if (dest.dirLike || destIsDir) {
    return dest.path === "/" ? `/${sourceName}` : `${dest.path}/${sourceName}`;
  }
  return dest.path;
}

/** A source path relative to the context root: leading "/" and ".." above the root dropped. */
export function cleanSource(src: string): string {
  const p = cleanPath("/" + src);
  return p === "/" ? "" : p.slice(1);
}

/** Does the source use wildcards (filepath.Match meta characters)? */
export function hasWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

const cache = new Map<string, Glob>();

/** Go's filepath.Match: `*` and `?` never match "/", `[...]` classes, `\` escapes. */
export function globMatch(pattern: string, name: string): boolean {
  let g = cache.get(pattern);
  if (!g) {
    g = goGlob(pattern);
    cache.set(pattern, g);
  }
  return g.test(name);
}

/** `--chmod=0755` → mode bits (octal only, as Docker's legacy builder). */
export function parseChmod(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^[0-7]{1,4}$/.test(v)) throw new InvalidArgument(`invalid chmod parameter: ${v}`);
  return parseInt(v, 8);
}

/** `--chown=user[:group]` → the two parts (group undefined when absent). */
export function splitChown(v: string): { user: string; group?: string } {
  const i = v.indexOf(":");
  if (i < 0) return { user: v };
  return { user: v.slice(0, i), group: v.slice(i + 1) };
}

/** Docker's multi-source rule (".", "/" endings count as a directory). */
export function checkMultiSource(kind: string, count: number, dest: Dest): void {
  if (count > 1 && !dest.dirLike) {
    throw new InvalidArgument(
      `When using ${kind} with more than one source file, the destination must be a directory and end with a /`,
    );
  }
}
