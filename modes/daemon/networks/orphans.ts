/**
 * Host-wide housekeeping between berth daemons. Every daemon registers its
 * instance tag and root in /run/berth-net/<tag>; at start each daemon looks
 * at the others and removes the bridges, veths and firewall chains of an
 * instance that can never come back or has nothing left to serve: its root
 * is gone, or its daemon is not running (root lock free) and none of its
 * containers is running. Test daemons killed without cleanup so do not pile
 * up on a host.
 * @module
 */
import { tryLock, unlock } from "../../../core/sys/lock.ts";
import { Firewall } from "../../../core/net/firewall_linux.ts";
import { deleteLink, listLinks } from "../../../core/net/link_linux.ts";
import { log, logFailure } from "../log.ts";
import { type ContainerNet, nsInode } from "./records.ts";
import { existsSync, removeIfExists } from "../../../core/errdefs/ignore.ts";

export const REGISTRY = "/run/berth-net";

/** Does any container of the instance at `root` still run (same netns as recorded)? */
function anyRunning(root: string): boolean {
  const dir = `${root}/networks/endpoints`;
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.endsWith(".json")) continue;
      try {
        const c: ContainerNet = JSON.parse(Deno.readTextFileSync(`${dir}/${e.name}`));
        if (c.nsIno && nsInode(`/proc/${c.pid}/ns/net`) === c.nsIno) return true;
      } catch { /* unreadable: skip */ }
    }
  } catch { /* no endpoints */ }
  return false;
}

/** Is the instance rooted at `root` gone for good or idle and down? */
export function isOrphan(root: string): boolean {
  if (!existsSync(root)) return true;
  let fd = -1;
  try {
    fd = tryLock(`${root}/berth.lock`);
  } catch {
    return !existsSync(root);
  }
  if (fd < 0) return false; // its daemon runs
  try {
    return !anyRunning(root);
  } finally {
    unlock(fd);
  }
}

/** Remove links and chains of an instance tag. */
export async function removeInstance(tag: string): Promise<void> {
  const prefix = `berth:${tag || "0"}:`;
  for (const l of await listLinks().catch(() => [])) { // no `ip`: no links of ours either
    if (l.alias?.startsWith(prefix)) {
      await deleteLink(l.name).catch(logFailure(`removing link ${l.name}`));
    }
  }
  await new Firewall(`BERTH${tag}`).teardown().catch(
    logFailure(`removing the rules of BERTH${tag}`),
  );
}

/** Register this instance, then clean up orphaned others. */
export async function registerAndSweep(tag: string, root: string): Promise<void> {
  try {
    await Deno.mkdir(REGISTRY, { recursive: true, mode: 0o700 });
    await Deno.writeTextFile(`${REGISTRY}/${tag || "0"}`, root);
  } catch (e) {
    log.warn(`network registry: ${(e as Error).message}`);
    return;
  }
  // Tests running in a throwaway netns must not judge the real host's instances.
  if (Deno.env.get("BERTH_NET_NO_SWEEP") === "1") return;
  for (const e of Deno.readDirSync(REGISTRY)) {
    const other = e.name === "0" ? "" : e.name;
    if (other === tag) continue;
    let otherRoot = "";
    try {
      otherRoot = Deno.readTextFileSync(`${REGISTRY}/${e.name}`).trim();
    } catch {
      continue;
    }
    if (!otherRoot || !isOrphan(otherRoot)) continue;
    log.info(`removing networking of stopped berth instance ${e.name} (${otherRoot})`);
    await removeInstance(other);
    await removeIfExists(`${REGISTRY}/${e.name}`).catch(logFailure("network registry"));
  }
}

/** This instance stopped with nothing attached: unregister. */
export async function unregister(tag: string): Promise<void> {
  await removeIfExists(`${REGISTRY}/${tag || "0"}`).catch(logFailure("network registry"));
}
