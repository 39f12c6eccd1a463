/**
 * A private, temporary view of a container's filesystem for `docker cp` and
 * `export`: its rootfs (the running container's overlay, or a fresh overlay
 * of lowers + upper for a stopped one) bind-mounted on a temp dir under
 * `<exec-root>/archive/`, made private at once, with the container's volumes,
 * binds and network files (/etc/hosts, hostname, resolv.conf) bound at their
 * destinations, resolved inside that root. Docker 20.10 shows the same view.
 * @module
 */
import { mount, mountsUnder, unmount } from "./mount_linux.ts";
import { mountRootfs } from "./rootfs.ts";
import { resolveInRoot } from "../../../core/runtime/securejoin.ts";
import type { ContainerRecord } from "../../../core/store/containers.ts";
import type { ContainerService } from "./service.ts";
import { log } from "../log.ts";
import { lstatIfExists } from "../../../core/errdefs/ignore.ts";

const MS_RDONLY = 1, MS_REMOUNT = 32, MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18;

export interface ContainerFs {
  /** host path of the container's "/" */
  root: string;
  /** Unmount everything and release the container. Idempotent. */
  close(): Promise<void>;
}

/**
 * Stale views left by a daemon that died mid-copy: unmounted and removed once, before the first
 * view of this daemon is made (every caller waits for it, so it never meets a live view).
 */
let swept: Promise<void> | undefined;
async function sweep(base: string): Promise<void> {
  for (const m of await mountsUnder(base)) unmount(m);
  for await (const e of Deno.readDir(base)) {
    await Deno.remove(`${base}/${e.name}`, { recursive: true }).catch((err) =>
      log.warn(`archive: cannot remove stale ${base}/${e.name}: ${err}`)
    );
  }
}

/**
 * Open the view. A stopped container's start waits until `close()` (its
 * overlay upper must not be mounted twice); a running one is not held.
 */
export async function openContainerFs(
  s: ContainerService,
  r: ContainerRecord,
  opts: { mounts: boolean },
): Promise<ContainerFs> {
  const base = `${s.config.execRoot}/archive`;
  await Deno.mkdir(base, { recursive: true, mode: 0o700 });
  await (swept ??= sweep(base).catch((e) => log.warn(`archive: sweeping ${base}: ${e}`)));
  const root = await Deno.makeTempDir({ dir: base });
  let release = () => {};
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      for (const m of await mountsUnder(root)) unmount(m);
      await Deno.remove(root, { recursive: true });
    } finally {
      release();
    }
  };
  try {
    const live = s.live(r.Id);
    const running = `${s.shimDir(r.Id)}/rootfs`;
    const isUp = async () => r.State.Running && (await mountsUnder(running)).includes(running);
    let up = await isUp();
    if (!up) {
      // hold the container's operation queue (start) until close()
      const held = new Promise<void>((res) => release = res);
      await new Promise<void>((turn) => {
        live.serial(() => {
          turn();
          return held;
        });
      });
      up = await isUp(); // an operation queued before ours may have started it
      if (up) release();
    }
    if (up) bindPrivate(running, root, false);
    else {
      const lowers = r.Layers.map((c) => s.layers.diffDir(c));
      const got = await mountRootfs({ lowers, containerDir: s.store.dirOf(r.Id), target: root });
      if (got !== root) bindPrivate(got, root, false); // the copy fallback: a plain dir
      else mount("", root, "", MS_REC | MS_PRIVATE, "");
    }
    if (opts.mounts) await bindMounts(r, root);
    return { root, close };
  } catch (e) {
    await close().catch((err) => log.warn(`archive: cleanup of ${root}: ${err}`));
    throw e;
  }
}

function bindPrivate(src: string, dst: string, ro: boolean): void {
  mount(src, dst, "", MS_BIND | MS_REC, "");
  mount("", dst, "", MS_REC | MS_PRIVATE, "");
  if (ro) mount("", dst, "", MS_REMOUNT | MS_BIND | MS_RDONLY, "");
}

async function bindMounts(r: ContainerRecord, root: string): Promise<void> {
  const list: { src: string; dst: string; ro: boolean; create: boolean }[] = [];
  for (const m of r.MountPoints) {
    if (m.Type !== "bind" && m.Type !== "volume") continue;
    list.push({ src: m.Source, dst: m.Destination, ro: !m.RW, create: true });
  }
  const has = (d: string) => list.some((m) => m.dst === d);
  const net: [string | undefined, string][] = [
    [r.HostsPath, "/etc/hosts"],
    [r.HostnamePath, "/etc/hostname"],
    [r.ResolvConfPath, "/etc/resolv.conf"],
  ];
  for (const [src, dst] of net) {
    if (src && !has(dst)) list.push({ src, dst, ro: false, create: false });
  }
  // parents first, so a mount inside another mount lands on top of it
  list.sort((a, b) => depth(a.dst) - depth(b.dst));
  for (const m of list) {
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(m.src);
    } catch {
      continue; // source gone (a removed bind source): Docker would fail the start, not cp
    }
    const target = resolveInRoot(root, m.dst);
    const cur = await lstatIfExists(target);
    if (!cur) {
      if (!m.create) continue;
      if (st.isDirectory) await Deno.mkdir(target, { recursive: true, mode: 0o755 });
      else {
        await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
        await Deno.writeFile(target, new Uint8Array(), { mode: 0o755 });
      }
    } else if (cur.isSymlink || cur.isDirectory !== st.isDirectory) continue;
    bindPrivate(m.src, target, m.ro);
  }
}

function depth(p: string): number {
  return p.split("/").filter((x) => x).length;
}
