/**
 * Resolve a Docker `--user` value ("name", "uid", "name:group", "uid:gid")
 * through the image's /etc/passwd and /etc/group, with runc's rules and
 * Docker's error messages.
 *
 * @example
 * ```ts
 * const u = await resolveUser("/var/lib/berth/…/merged", "nobody");
 * // { uid: 65534, gid: 65534, additionalGids: [], home: "/nonexistent", name: "nobody" }
 * ```
 * @module
 */

import { InvalidArgument } from "../errdefs/mod.ts";
import { resolveInRoot } from "../runtime/securejoin.ts";

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** supplementary groups (from /etc/group membership when no group was given) */
  additionalGids: number[];
  home: string;
  name?: string;
}

const NUM = /^\d+$/;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 4 || !NUM.test(f[2]) || !NUM.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "" });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f.length < 3 || !NUM.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? "").split(",").filter((m) => m) });
  }
  return out;
}

/** Pure part of resolveUser, given the files' contents ("" when missing). */
export function resolveUserFrom(spec: string, passwd: string, group: string): ResolvedUser {
  const [userArg, groupArg = ""] = spec.split(":", 2);
  const users = parsePasswd(passwd);
  const u = userArg === ""
    ? users.find((e) => e.uid === 0)
    : users.find((e) => (NUM.test(userArg) ? e.uid === Number(userArg) : e.name === userArg));
  let res: ResolvedUser;
  if (u) {
    res = { uid: u.uid, gid: u.gid, additionalGids: [], home: u.home || "/", name: u.name };
  } else if (userArg === "" || NUM.test(userArg)) {
    res = { uid: userArg === "" ? 0 : Number(userArg), gid: 0, additionalGids: [], home: "/" };
  } else {
    throw new InvalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
  }
  const groups = parseGroup(group);
  if (groupArg !== "") {
    const g = groups.find((
      e,
    ) => (NUM.test(groupArg) ? e.gid === Number(groupArg) : e.name === groupArg));
    if (g) res.gid = g.gid;
    else if (NUM.test(groupArg)) res.gid = Number(groupArg);
    else {
      throw new InvalidArgument(
        `unable to find group ${groupArg}: no matching entries in group file`,
      );
    }
  } else if (res.name) {
    const name = res.name;
    res.additionalGids = [
      ...new Set(groups.filter((g) => g.members.includes(name)).map((g) => g.gid)),
    ];
  }
  return res;
}

async function readInRoot(rootfs: string, path: string): Promise<string> {
  try {
    return await Deno.readTextFile(resolveInRoot(rootfs, path));
  } catch {
    return "";
  }
}

/** Resolve `spec` ("" = root) against the rootfs's /etc/passwd and /etc/group. */
export async function resolveUser(rootfs: string, spec: string): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([
    readInRoot(rootfs, "/etc/passwd"),
    readInRoot(rootfs, "/etc/group"),
  ]);
  return resolveUserFrom(spec, passwd, group);
}
