/**
 * The `platform` query parameter (create; also what pull and build take), read
 * as containerd's platforms.Parse reads it, with its words: `"bogus": unknown
 * operating system or architecture: invalid argument`.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";

export interface PlatformQuery {
  os: string;
  architecture: string;
  variant?: string;
}

const KNOWN_OS = new Set(
  "aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris windows zos"
    .split(" "),
);
const KNOWN_ARCH = new Set(
  ("386 amd64 amd64p32 arm armbe arm64 arm64be ppc64 ppc64le loong64 mips mipsle mips64 mips64le " +
    "mips64p32 mips64p32le ppc riscv riscv64 s390 s390x sparc sparc64 wasm").split(" "),
);
const COMPONENT = /^[A-Za-z0-9_-]+$/;

function platform(os: string, architecture: string, variant: string): PlatformQuery {
  return variant ? { os, architecture, variant } : { os, architecture };
}

function normalizeOS(os: string): string {
  const o = os.toLowerCase();
  return o === "macos" ? "darwin" : o;
}

function normalizeArch(arch: string, variant: string): [string, string] {
  const a = arch.toLowerCase(), v = variant.toLowerCase();
  switch (a) {
    case "i386":
      return ["386", ""];
    case "x86_64":
    case "x86-64":
    case "amd64":
      return ["amd64", v === "v1" ? "" : v];
    case "aarch64":
    case "arm64":
      return ["arm64", v === "8" || v === "v8" ? "" : v];
    case "armhf":
      return ["arm", "v7"];
    case "armel":
      return ["arm", "v6"];
    case "arm":
      return [
        "arm",
        v === "" || v === "7" ? "v7" : v === "5" || v === "6" || v === "8" ? `v${v}` : v,
      ];
  }
  return [a, v];
}

const HOST = {
  os: "linux",
  arch: Deno.build.arch === "aarch64" ? "arm64" : "amd64",
};

/** containerd's platforms.Parse (no wildcards); throws InvalidArgument with its words. */
export function parsePlatformQuery(spec: string, host = HOST): PlatformQuery {
  const invalid = (why: string) => new InvalidArgument(`${why}: invalid argument`);
  if (spec.includes("*")) throw new InvalidArgument("wildcards not yet supported: not implemented");
  const parts = spec.split("/");
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      throw invalid(
        `${JSON.stringify(p)} is an invalid component of ${
          JSON.stringify(spec)
        }: platform specifier component must match "${COMPONENT.source}"`,
      );
    }
  }
  if (parts.length === 1) {
    const os = normalizeOS(parts[0]);
    if (KNOWN_OS.has(os)) return platform(os, host.arch, "");
    const [arch, v] = normalizeArch(parts[0], "");
    if (KNOWN_ARCH.has(arch)) return platform(host.os, arch, arch === "arm" && v === "v7" ? "" : v);
    throw invalid(`${JSON.stringify(spec)}: unknown operating system or architecture`);
  }
  if (parts.length === 2 || parts.length === 3) {
    const [arch, v] = normalizeArch(parts[1], parts[2] ?? "");
    return platform(normalizeOS(parts[0]), arch, arch === "arm64" && v === "" ? "v8" : v);
  }
  throw invalid(`${JSON.stringify(spec)}: cannot parse platform specifier`);
}

/**
 * containerd's platforms.Only matcher as moby 20.10 uses it at create
 * (daemon/images/image.go GetImage): OS and architecture equal once
 * normalized, the variant too when both say one (an arm image of a lower
 * variant runs on a higher one).
 */
export function platformMatches(
  want: PlatformQuery,
  image: { os?: string; architecture?: string; variant?: string },
): boolean {
  const os = normalizeOS(image.os ?? "");
  const [arch, variant] = normalizeArch(image.architecture ?? "", image.variant ?? "");
  if (os !== want.os || arch !== want.architecture) return false;
  if (!want.variant || !variant || want.variant === variant) return true;
  return arch === "arm" && variant < want.variant;
}

/** platforms.Format: os/arch[/variant]. */
export function formatPlatform(
  p: { os?: string; architecture?: string; variant?: string },
): string {
  return [p.os ?? "", p.architecture ?? "", p.variant ?? ""].filter(Boolean).join("/");
}
