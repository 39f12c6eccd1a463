/**
 * Platform matching for indexes / manifest lists (host: linux/amd64 here).
 * @module
 */
import type { Descriptor, Platform } from "./types.ts";

export function hostPlatform(): Platform {
  const arch = Deno.build.arch === "x86_64"
    ? "amd64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  return arch === "arm64"
    ? { os: "linux", architecture: arch, variant: "v8" }
    : { os: "linux", architecture: arch };
}

/** Parse "linux/amd64", "linux/arm64/v8". */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split("/");
  if (!os || !architecture) throw new Error(`invalid platform: ${s}`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function platformString(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

function matches(want: Platform, got: Platform | undefined): boolean {
  if (!got) return false;
  if (got.os !== want.os || got.architecture !== want.architecture) return false;
  if (want.variant && got.variant && want.variant !== got.variant) return false;
  return true;
}

/** The best manifest of an index for `want` (default: host). */
export function selectPlatform(
  manifests: Descriptor[],
  want: Platform = hostPlatform(),
): Descriptor | undefined {
  const hits = manifests.filter((m) => matches(want, m.platform));
  if (hits.length) {
    return hits.find((m) => m.platform?.variant === want.variant) ?? hits[0];
  }
  // Single untagged manifest: take it (OCI layouts often omit platform).
  const untagged = manifests.filter((m) => !m.platform);
  return untagged.length === 1 ? untagged[0] : undefined;
}
