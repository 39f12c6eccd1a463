/**
 * Debian packages the tests and benchmarks need, installed with apt-get when
 * missing (as root). Nothing else is installed by hand.
 * @module
 */

/** Packages the test suite needs. */
export const TEST_PACKAGES = [
  "busybox-static", // base images, built offline
  "runc", // external OCI runtime
  "crun",
  "skopeo", // interop
  "iptables", // networking
  "iproute2",
  "docker.io", // Docker 20.10 for interop (dockerd is started only by the tests that need it)
  "docker-registry", // CNCF Distribution 2.8
  "util-linux",
  "python3-docker", // the Docker SDK for Python, a real client for the compat tests
  "docker-compose",
];

/** Extra packages for bench/. */
export const BENCH_PACKAGES = ["podman", "wrk", "hyperfine"];

async function installed(pkg: string): Promise<boolean> {
  const r = await new Deno.Command("dpkg-query", {
    args: ["-W", "-f=${Status}", pkg],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(r.stdout).includes("install ok installed");
}

/** Install whatever of `pkgs` is missing. Returns the ones installed. */
export async function ensurePackages(pkgs: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const p of pkgs) if (!(await installed(p))) missing.push(p);
  if (missing.length === 0) return [];
  if (Deno.uid() !== 0) {
    throw new Error(`missing Debian packages (run as root to install): ${missing.join(" ")}`);
  }
  console.error(`installing: ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const upd = await new Deno.Command("apt-get", { args: ["update", "-q"], env, stdout: "null" })
    .output();
  if (!upd.success) throw new Error("apt-get update failed");
  const r = await new Deno.Command("apt-get", {
    args: ["install", "-y", "-q", "--no-install-recommends", ...missing],
    env,
    stdout: "null",
  }).output();
  if (!r.success) throw new Error(`apt-get install ${missing.join(" ")} failed`);
  return missing;
}

if (import.meta.main) {
  await ensurePackages(
    Deno.args.includes("--bench") ? [...TEST_PACKAGES, ...BENCH_PACKAGES] : TEST_PACKAGES,
  );
}
