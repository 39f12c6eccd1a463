/**
 * Platforms (os/architecture/variant): parsing, normalisation as containerd
 * does it (aarch64 → arm64, arm64/v8 → arm64, arm → arm/v7, x86_64 → amd64),
 * and choosing the best manifest of an index for a wanted platform, lower
 * compatible variants included (arm/v7 runs v6 and v5; amd64/v3 runs v2, v1).
 *
 * @example
 * ```ts
 * import { parsePlatform, selectManifest } from "./platform.ts";
 * const want = parsePlatform("linux/arm/v7");
 * const d = selectManifest([
 *   { mediaType: "x", digest: "sha256:a", size: 1, platform: { os: "linux", architecture: "arm", variant: "v6" } },
 * ], want);
 * console.assert(d?.digest === "sha256:a");
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import type { Descriptor } from "../oci/types.ts";

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, [string, string?]> = {
  x86_64: ["amd64"],
  "x86-64": ["amd64"],
  amd64: ["amd64"],
  aarch64: ["arm64"],
  arm64: ["arm64"],
  armhf: ["arm", "v7"],
  armel: ["arm", "v6"],
  arm: ["arm"],
  i386: ["386"],
  i686: ["386"],
  "386": ["386"],
};

/** Normalise os/arch/variant to containerd's canonical spelling. */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  const os = (p.os || "linux").toLowerCase();
  const [arch, aliasVariant] = ARCH_ALIASES[p.architecture.toLowerCase()] ??
    [p.architecture.toLowerCase()];
  let variant = (p.variant ?? aliasVariant ?? "").toLowerCase();
  if (arch === "arm64" && ["8", "v8", "v8.0"].includes(variant)) variant = "";
  if (arch === "arm") {
    if (variant === "") variant = "v7";
    else if (/^\d+$/.test(variant)) variant = `v${variant}`;
  }
  if (arch === "amd64" && variant === "v1") variant = "";
  const out: PlatformSpec = { os, architecture: arch };
  if (variant) out.variant = variant;
  return out;
}

/** The platform berth runs on. */
export function hostPlatform(): PlatformSpec {
  return normalizePlatform({ os: Deno.build.os, architecture: Deno.build.arch });
}

/** Parse `os[/arch[/variant]]` (Docker's --platform). */
export function parsePlatform(s: string): PlatformSpec {
  const parts = s.trim().split("/");
  if (parts.length > 3 || parts.some((p) => !p || !/^[a-zA-Z0-9_.-]+$/.test(p))) {
    throw new InvalidArgument(`invalid platform: ${JSON.stringify(s)}`);
  }
  if (parts.length === 1) {
    // A bare word is an os if it looks like one, else an architecture.
    const w = parts[0].toLowerCase();
    if (["linux", "windows", "darwin", "freebsd"].includes(w)) {
      return normalizePlatform({ os: w, architecture: hostPlatform().architecture });
    }
    return normalizePlatform({ os: "linux", architecture: w });
  }
  return normalizePlatform({ os: parts[0], architecture: parts[1], variant: parts[2] });
}

export function formatPlatform(p: PlatformSpec): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function variantLevel(arch: string, variant: string | undefined): number {
  const v = variant ?? "";
  if (arch === "amd64") return v === "" ? 1 : Number(v.slice(1)) || 0;
  if (arch === "arm") return Number(v.slice(1)) || 0;
  return v === "" ? 0 : -1;
}

/**
 * How well `have` serves `want`: 0 = exact, higher = less preferred,
 * -1 = not usable.
 */
export function platformScore(want: PlatformSpec, have: PlatformSpec): number {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os) return -1;
  if (w.architecture === h.architecture) {
    if ((w.variant ?? "") === (h.variant ?? "")) return 0;
    if (w.architecture === "amd64" || w.architecture === "arm") {
      const wl = variantLevel(w.architecture, w.variant);
      const hl = variantLevel(h.architecture, h.variant);
      return hl > 0 && hl < wl ? 1 + (wl - hl) : -1;
    }
    return -1;
  }
  // A 64-bit ARM host also runs 32-bit arm/v7 and below.
  if (w.architecture === "arm64" && h.architecture === "arm") {
    const hl = variantLevel("arm", h.variant);
    return hl > 0 && hl <= 8 ? 20 + (8 - hl) : -1;
  }
  return -1;
}

/** The best descriptor of an index for `want`, or undefined. */
export function selectManifest(
  manifests: Descriptor[],
  want: PlatformSpec,
): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestScore = Infinity;
  for (const d of manifests) {
    if (!d.platform) continue;
    const s = platformScore(want, { ...d.platform, variant: d.platform.variant });
    if (s >= 0 && s < bestScore) {
      best = d;
      bestScore = s;
    }
  }
  return best;
}
