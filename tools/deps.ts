/**
 * The one list of Debian packages berth needs on a host, installed with
 * apt-get when missing (as root): `task up` installs DAEMON_PACKAGES, `task
 * test` TEST_PACKAGES (which contains them), `--bench` adds BENCH_PACKAGES.
 * Nothing else is installed by hand.
 *
 *   deno run -A tools/deps.ts [--daemon|--bench]
 * @module
 */

/** What the daemon spawns or needs, and the demo of `task up`. */
export const DAEMON_PACKAGES = [
  "iptables", // iptables, iptables-restore, iptables-save: NAT, isolation, published ports
  "iproute2", // ip: bridges and veths
  "util-linux", // nsenter, unshare (build steps' netns)
  "mount", // mount, umount: overlay rootfs, build steps
  "procps", // ps: `top`
  "xz-utils", // xz, bzip2: ADD of compressed archives in builds
  "bzip2",
  "runc", // build RUN steps, and --runtime runc
  "coreutils", // cp, sleep (essential: always there)
  "busybox-static", // `task up`'s demo image, built offline
  "tar", // the demo image's layer (essential: always there)
];

/**
 * Each program the daemon (or a build step, a shim) runs from $PATH, and the
 * package in DAEMON_PACKAGES that ships it. tools/run_tests_test.ts checks
 * that the product spawns nothing else and that dpkg agrees.
 */
export const DAEMON_TOOLS: Record<string, string> = {
  iptables: "iptables",
  "iptables-restore": "iptables",
  "iptables-save": "iptables",
  ip: "iproute2",
  nsenter: "util-linux",
  unshare: "util-linux",
  mount: "mount",
  umount: "mount",
  ps: "procps",
  xz: "xz-utils",
  bzip2: "bzip2",
  runc: "runc",
  cp: "coreutils",
  sleep: "coreutils",
};

/** The test suite's extras, on top of DAEMON_PACKAGES. */
export const TEST_EXTRA_PACKAGES = [
  "crun",
  "skopeo", // interop
  "docker.io", // Docker 20.10 for interop (dockerd is started only by the tests that need it)
  "docker-registry", // CNCF Distribution 2.8
  "python3-docker", // the Docker SDK for Python: a real client for tests/compat_*_test.ts
  "docker-compose",
  "openssl", // throwaway CA and certificates for the Engine API's TLS tests
  "containernetworking-plugins", // CNI bridge/host-local/portmap/loopback for the CRI's pod tests
];

/** Packages the test suite needs: the daemon's and the extras. */
export const TEST_PACKAGES = [...DAEMON_PACKAGES, ...TEST_EXTRA_PACKAGES];

/** Extra packages for bench/. */
export const BENCH_PACKAGES = ["podman", "wrk", "hyperfine", "containerd"];

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
    Deno.args.includes("--daemon")
      ? DAEMON_PACKAGES
      : Deno.args.includes("--bench")
      ? [...TEST_PACKAGES, ...BENCH_PACKAGES]
      : TEST_PACKAGES,
  );
}
