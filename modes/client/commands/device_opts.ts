/**
 * `--device` and `--device-cgroup-rule` as the docker CLI 20.10 parses and
 * checks them (opts.ValidateDevice, parseLinuxDevice,
 * ValidateDeviceCgroupRule): `host[:container][:perms]`, perms of r, w, m.
 * @module
 */

const flagErr = (v: string, flag: string, why: string) =>
  new Error(`invalid argument "${v}" for "${flag}" flag: ${why}`);

function validMode(m: string): boolean {
  if (!m) return false;
  const seen = new Set<string>();
  for (const ch of m) {
    if (!"rwm".includes(ch) || seen.has(ch)) return false;
    seen.add(ch);
  }
  return true;
}

/** One `--device` value → HostConfig.Devices entry. */
export function parseDevice(
  v: string,
): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = v.split(":");
  if (parts.length > 3 || !parts[0]) throw flagErr(v, "--device", `bad format for path: ${v}`);
  let dst = "", perms = "rwm";
  if (parts.length === 3) {
    if (!validMode(parts[2])) throw flagErr(v, "--device", `bad mode specified: ${parts[2]}`);
    [dst, perms] = [parts[1], parts[2]];
  } else if (parts.length === 2) {
    if (validMode(parts[1])) perms = parts[1];
    else dst = parts[1];
  }
  const inCtr = dst || parts[0];
  if (!inCtr.startsWith("/")) throw flagErr(v, "--device", `${inCtr} is not an absolute path`);
  return { PathOnHost: parts[0], PathInContainer: inCtr, CgroupPermissions: perms };
}

/** One `--device-cgroup-rule` value, checked. */
export function checkDeviceCgroupRule(v: string): string {
  if (!/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(v)) {
    throw flagErr(v, "--device-cgroup-rule", `invalid device cgroup format '${v}'`);
  }
  return v;
}
