/**
 * Named volumes (driver "local"): `<root>/volumes/<name>/_data` plus a small
 * meta.json (created time, labels, options, anonymous). A new volume is
 * filled from the image path it is first mounted on, as Docker does
 * ("copy-up"), unless the mount says nocopy.
 * @module
 */
import { Conflict, InvalidArgument, NotFound } from "../../../core/errdefs/mod.ts";
import { readJson, writeJsonAtomic } from "../../../core/store/atomic.ts";
import { PRIVATE_DIR } from "../../../core/store/perms.ts";
import { newId } from "./names.ts";
import type { Events } from "../events/log.ts";
import {
  errorText,
  ignoreNotFound,
  keepFirstError,
  removeIfExists,
} from "../../../core/errdefs/ignore.ts";
import { log, logFailure } from "../log.ts";

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: string;
  Options: Record<string, string>;
  /** berth: created implicitly for a container (anonymous volume) */
  Anonymous?: boolean;
  /** berth: content has been copied up (or the volume was used) once */
  Populated?: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function checkVolumeName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new InvalidArgument(
      `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

export class VolumeService {
  readonly dir: string;
  #vols = new Map<string, Volume>();
  /** Container IDs using a volume (the container service's). */
  readonly users: (name: string) => string[];

  readonly events?: Events;

  constructor(d: { root: string; events?: Events; users?: (name: string) => string[] }) {
    this.dir = `${d.root}/volumes`;
    this.events = d.events;
    this.users = d.users ?? (() => []);
  }

  async init(): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR });
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isDirectory && e.name.startsWith(".rm-")) {
        // the rest of a removal the daemon did not finish
        await removeIfExists(`${this.dir}/${e.name}`, { recursive: true })
          .catch(logFailure(`removing ${e.name}`));
        continue;
      }
      if (!e.isDirectory || e.name.startsWith(".")) continue;
      let v: Volume | null = null;
      try {
        v = await readJson<Volume | null>(`${this.dir}/${e.name}/meta.json`, null);
      } catch (err) {
        log.warn(
          `volume ${e.name}: meta.json unreadable, its labels and options are lost: ${
            errorText(err)
          }`,
        );
      }
      if (!v) v = this.#fresh(e.name, {}, {}, false);
      this.#vols.set(v.Name, v);
    }
  }

  #fresh(
    name: string,
    labels: Record<string, string>,
    opts: Record<string, string>,
    anonymous: boolean,
  ): Volume {
    return {
      Name: name,
      Driver: "local",
      Mountpoint: `${this.dir}/${name}/_data`,
      CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      Labels: labels,
      Scope: "local",
      Options: opts,
      ...(anonymous ? { Anonymous: true } : {}),
    };
  }

  list(): Volume[] {
    return [...this.#vols.values()];
  }

  get(name: string): Volume {
    const v = this.#vols.get(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  tryGet(name: string): Volume | undefined {
    return this.#vols.get(name);
  }

  /** Create (or return the existing) volume. */
  async create(
    o: {
      Name?: string;
      Driver?: string;
      Labels?: Record<string, string> | null;
      DriverOpts?: Record<string, string> | null;
    } = {},
    anonymous = false,
  ): Promise<Volume> {
    const name = o.Name || newId();
    checkVolumeName(name);
    if (o.Driver && o.Driver !== "local") {
      throw new NotFound(
        `error looking up volume plugin ${o.Driver}: plugin "${o.Driver}" not found`,
      );
    }
    const have = this.#vols.get(name);
    if (have) return have;
    const v = this.#fresh(name, o.Labels ?? {}, o.DriverOpts ?? {}, anonymous);
    try {
      await Deno.mkdir(v.Mountpoint, { recursive: true, mode: 0o755 });
      await writeJsonAtomic(`${this.dir}/${name}/meta.json`, v);
    } catch (e) {
      // a full disk: no half-made volume (init would take the dir for one)
      await Deno.remove(`${this.dir}/${name}`, { recursive: true }).catch(keepFirstError);
      throw e;
    }
    this.#vols.set(name, v);
    this.events?.volume("create", name, { driver: v.Driver });
    return v;
  }

  async remove(name: string, force = false): Promise<void> {
    const v = this.#vols.get(name);
    if (!v) {
      if (force) return;
      throw new NotFound(`get ${name}: no such volume`);
    }
    const users = this.users(name);
    if (users.length) {
      throw new Conflict(`remove ${name}: volume is in use - [${users.join(", ")}]`);
    }
    const trash = `${this.dir}/.rm-${name}-${Date.now()}`;
    await Deno.rename(`${this.dir}/${name}`, trash).catch(ignoreNotFound);
    this.#vols.delete(name);
    // a rest left behind is removed by init() at the next start
    await Deno.remove(trash, { recursive: true }).catch(logFailure(`removing volume ${name}`));
    this.events?.volume("destroy", name, { driver: v.Driver });
  }

  /**
   * Copy-up: fill an empty, never-used volume from `src` (the image's
   * content at the mount path, read from the mounted rootfs).
   */
  async populate(name: string, src: string | undefined): Promise<void> {
    const v = this.get(name);
    if (v.Populated) return;
    v.Populated = true;
    if (src) {
      let empty = true;
      for await (const _ of Deno.readDir(v.Mountpoint)) {
        empty = false;
        break;
      }
      let isDir = false;
      try {
        isDir = (await Deno.stat(src)).isDirectory;
      } catch { /* nothing to copy */ }
      if (empty && isDir) {
        const out = await new Deno.Command("cp", {
          args: ["-a", `${src}/.`, `${v.Mountpoint}/`],
          stdout: "null",
          stderr: "piped",
        }).output();
        if (!out.success) {
          throw new Error(
            `copying image content into volume ${name}: ${new TextDecoder().decode(out.stderr)}`,
          );
        }
        // The volume root takes the image directory's mode and owner.
        const st = await Deno.stat(src);
        await Deno.chmod(v.Mountpoint, (st.mode ?? 0o755) & 0o7777);
        await Deno.chown(v.Mountpoint, st.uid, st.gid);
      }
    }
    await writeJsonAtomic(`${this.dir}/${name}/meta.json`, v);
  }

  /** Disk usage of a volume (bytes), by walking it. */
  async size(name: string): Promise<number> {
    return await du(this.get(name).Mountpoint);
  }
}

export async function du(path: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(path)) {
      const p = `${path}/${e.name}`;
      if (e.isDirectory) n += await du(p);
      else {
        try {
          n += (await Deno.lstat(p)).size;
        } catch { /* raced */ }
      }
    }
  } catch { /* gone */ }
  return n;
}

/** Docker's volume filters: name, label, dangling, driver, anonymous(all). */
export function matchVolume(
  v: Volume,
  f: Record<string, string[]>,
  inUse: boolean,
): boolean {
  if (f.name?.length && !f.name.some((n) => v.Name.includes(n))) return false;
  if (f.driver?.length && !f.driver.includes(v.Driver)) return false;
  if (f.dangling?.length) {
    const want = f.dangling[0] === "true" || f.dangling[0] === "1";
    if (want === inUse) return false;
  }
  if (f.label?.length) {
    for (const l of f.label) {
      const i = l.indexOf("=");
      const k = i < 0 ? l : l.slice(0, i);
      if (!(k in v.Labels)) return false;
      if (i >= 0 && v.Labels[k] !== l.slice(i + 1)) return false;
    }
  }
  if (f["label!"]?.length) {
    for (const l of f["label!"]) {
      const i = l.indexOf("=");
      const k = i < 0 ? l : l.slice(0, i);
      if (i < 0 ? k in v.Labels : v.Labels[k] === l.slice(i + 1)) return false;
    }
  }
  return true;
}
