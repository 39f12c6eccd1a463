/**
 * `--device` and `--device-cgroup-rule` (HostConfig.Devices and
 * DeviceCgroupRules) → OCI linux.devices and device cgroup allow rules, as
 * moby's oci.DevicesFromPath and AppendDevicePermissionsFromCgroupRules
 * (v20.10): a host node becomes one device at PathInContainer; a directory
 * gives every device below it (path prefix replaced); each device gets an
 * allow rule with the mapping's permissions.
 * @module
 */
import type { OciDevice, OciDeviceCgroup } from "./runtime_types.ts";
import { deviceOf } from "./host_devices.ts";
import { BerthError, InvalidArgument } from "../errdefs/mod.ts";

export interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

const rule = (d: OciDevice, access: string): OciDeviceCgroup => ({
  allow: true,
  type: d.type as "c" | "b",
  major: d.major,
  minor: d.minor,
  access,
});

/** Devices and allow rules of one mapping; errors as dockerd's at start. */
export function devicesFromMapping(
  m: DeviceMapping,
): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  const host = m.PathOnHost ?? "";
  const ctr = m.PathInContainer || host;
  const perms = m.CgroupPermissions || "rwm";
  const fail = (why: string) =>
    new BerthError(
      "Internal",
      `error gathering device information while adding custom device "${host}": ${why}`,
    );
  let resolved = host;
  try {
    if (Deno.lstatSync(host).isSymlink) resolved = Deno.realPathSync(host);
  } catch { /* reported by the lstat below */ }
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(resolved);
  } catch (e) {
    throw fail(e instanceof Deno.errors.NotFound ? "no such file or directory" : String(e));
  }
  const one = deviceOf(st, ctr);
  if (one) return { devices: [one], rules: [rule(one, perms)] };
  const devices: OciDevice[] = [];
  if (st.isDirectory) {
    const walk = (dir: string) => {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(dir)];
      } catch {
        return; // unreadable: moby's Walk skips it too
      }
      for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
        const p = `${dir}/${e.name}`;
        if (e.isDirectory) {
          walk(p);
          continue;
        }
        try {
          const d = deviceOf(Deno.lstatSync(p), ctr + p.slice(resolved.length));
          if (d) devices.push(d);
        } catch { /* removed meanwhile */ }
      }
    };
    walk(resolved.replace(/\/+$/, ""));
  }
  if (!devices.length) throw fail("not a device node");
  return { devices, rules: devices.map((d) => rule(d, perms)) };
}

const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** One `--device-cgroup-rule` ("c 1:3 rwm", "a *:* m") as an allow rule. */
export function parseDeviceCgroupRule(r: string): OciDeviceCgroup {
  const m = RULE.exec(r);
  if (!m) throw new InvalidArgument(`invalid device cgroup rule format: '${r}'`);
  const num = (v: string) => v === "*" ? null : Number(v);
  return {
    allow: true,
    type: m[1] as "a" | "c" | "b",
    major: num(m[2]),
    minor: num(m[3]),
    access: m[4],
  };
}

/** Everything HostConfig asks for, for generateSpec's devices/deviceRules. */
export function customDevices(
  devs: DeviceMapping[] | null | undefined,
  rules: string[] | null | undefined,
): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
  const out = { devices: [] as OciDevice[], rules: [] as OciDeviceCgroup[] };
  for (const m of devs ?? []) {
    const r = devicesFromMapping(m);
    out.devices.push(...r.devices);
    out.rules.push(...r.rules);
  }
  for (const r of rules ?? []) out.rules.push(parseDeviceCgroupRule(r));
  return out;
}
