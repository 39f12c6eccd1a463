/**
 * Legacy container links (`--link name:alias`) on the default bridge, as
 * moby 20.10 keeps them: registered at create (by container ID, so a rename
 * of either side keeps the link), shown in inspect as
 * `HostConfig.Links: ["/child:/parent/alias"]` and in the list as an extra
 * name `/parent/alias` of the child, resolved through the parent's
 * /etc/hosts (`IP\talias hostname name`), and exported as the legacy
 * environment (`ALIAS_NAME`, `ALIAS_ENV_*`, `ALIAS_PORT_*`).
 *
 * On user-defined networks links are not registered (moby's registerLinks
 * returns early): there they are EndpointSettings.Links, DNS aliases seen
 * only by the container that has them (networks/state.ts `dnsView`).
 * @module
 */
import { BerthError, InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { ContainerRecord, LinkRef } from "../../../core/store/containers.ts";

/** What links need of the container store. */
export interface LinkStore {
  get(id: string): ContainerRecord | undefined;
  tryResolve(ref: string): ContainerRecord | undefined;
  list(): ContainerRecord[];
}

/** moby opts.ParseLink: `name[:alias]`, leading slashes dropped. */
export function parseLink(v: string): { name: string; alias: string } {
  const parts = v.split(":");
  if (v === "" || parts.length > 2 || parts.some((p) => p.replace(/^\/+/, "") === "")) {
    throw new InvalidArgument(`invalid link format: ${v}`);
  }
  const name = parts[0].replace(/^\/+/, "");
  return { name, alias: parts.length === 2 ? parts[1].replace(/^\/+/, "") : name };
}

function userDefined(mode: string): boolean {
  return !["", "default", "bridge", "host", "none"].includes(mode) &&
    !mode.startsWith("container:");
}

/**
 * At create: check HostConfig.Links and record them (moby
 * daemon/daemon_unix.go `registerLinks`, runconfig `validateNetMode`).
 */
export function registerLinks(r: ContainerRecord, store: LinkStore): void {
  const links: string[] = r.HostConfig.Links ?? [];
  if (!links.length) return;
  const mode: string = r.HostConfig.NetworkMode ?? "";
  if (mode === "host") {
    throw new InvalidArgument(
      "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
    );
  }
  if (mode.startsWith("container:")) {
    throw new InvalidArgument(
      "conflicting options: container type network can't be used with links. This would result in undefined behavior",
    );
  }
  if (userDefined(mode)) return;
  const refs: LinkRef[] = [];
  for (const l of links) {
    const { name, alias } = parseLink(l);
    const child = store.tryResolve(name);
    if (!child) {
      throw new InvalidArgument(
        `could not get container for ${name}: No such container: ${name}`,
      );
    }
    if (child.HostConfig.NetworkMode === "host") {
      throw new InvalidArgument(
        "conflicting options: host type networking can't be used with links. This would result in undefined behavior",
      );
    }
    if (child.Id === r.Id) throw new InvalidArgument("Cannot link to self");
    if (refs.some((x) => x.Alias === alias)) continue;
    refs.push({ Id: child.Id, Alias: alias });
  }
  r.LinkRefs = refs;
}

/** The links of `r` whose child still exists, with the child. */
function children(
  r: Pick<ContainerRecord, "LinkRefs">,
  store: LinkStore,
): { ref: LinkRef; child: ContainerRecord }[] {
  const out = [];
  for (const ref of r.LinkRefs ?? []) {
    const child = store.get(ref.Id);
    if (child) out.push({ ref, child });
  }
  return out;
}

/** Inspect's `HostConfig.Links`: `/child:/parent/alias`, null when none (moby daemon/inspect.go). */
export function linksView(r: ContainerRecord, store: LinkStore): string[] | null {
  const out = children(r, store).map(({ ref, child }) => `${child.Name}:${r.Name}/${ref.Alias}`);
  return out.length ? out : null;
}

/** The extra names `/parent/alias` under which other containers link to `r`. */
export function linkNames(r: ContainerRecord, store: LinkStore): string[] {
  const out: string[] = [];
  for (const p of store.list()) {
    for (const ref of p.LinkRefs ?? []) {
      if (ref.Id === r.Id) out.push(`${p.Name}/${ref.Alias}`);
    }
  }
  return out;
}

function bridgeIp(c: ContainerRecord): string {
  return c.NetworkSettings?.Networks?.bridge?.IPAddress ?? "";
}

/**
 * At start, on the default bridge: the linked containers must run; their
 * /etc/hosts lines as ExtraHosts-shaped entries (`names:ip`, names
 * `alias hostname name`, moby daemon/container_operations.go
 * `buildSandboxOptions`) and the legacy env (daemon/links/links.go `ToEnv`).
 */
export function linkedContainers(
  r: Pick<ContainerRecord, "Name" | "LinkRefs">,
  store: LinkStore,
): { hosts: string[]; env: string[] } {
  const hosts: string[] = [];
  const env: string[] = [];
  for (const { ref, child } of children(r, store)) {
    const full = `${r.Name}/${ref.Alias}`;
    if (!child.State.Running) {
      throw new BerthError(
        "Internal",
        `Cannot link to a non running container: ${child.Name} AS ${full}`,
      );
    }
    const ip = bridgeIp(child);
    if (!ip) {
      throw new BerthError(
        "Internal",
        `Cannot link to ${child.Name}, as it does not belong to the default network`,
      );
    }
    const name = child.Name.slice(1);
    let names = `${ref.Alias} ${child.Config.Hostname}`;
    if (ref.Alias !== name) names += ` ${name}`;
    hosts.push(`${names}:${ip}`);
    env.push(...linkEnv(full, ip, child.Config.Env ?? [], child.Config.ExposedPorts ?? {}));
  }
  return { hosts, env };
}

/** moby daemon/links/links.go `Link.ToEnv` (ports as single ports; ranges are not grouped). */
export function linkEnv(
  fullName: string,
  ip: string,
  childEnv: string[],
  exposed: Record<string, unknown>,
): string[] {
  const alias = fullName.slice(fullName.lastIndexOf("/") + 1).toUpperCase().replaceAll("-", "_");
  const ports = Object.keys(exposed).map((p) => {
    const [n, proto = "tcp"] = p.split("/");
    return { port: Number(n), proto };
  }).sort((a, b) => a.port - b.port || (a.proto === "tcp" ? -1 : b.proto === "tcp" ? 1 : 0));
  const env: string[] = [];
  if (ports.length) env.push(`${alias}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
  for (const { port, proto } of ports) {
    const k = `${alias}_PORT_${port}_${proto.toUpperCase()}`;
    env.push(`${k}=${proto}://${ip}:${port}`, `${k}_ADDR=${ip}`, `${k}_PORT=${port}`);
    env.push(`${k}_PROTO=${proto}`);
  }
  env.push(`${alias}_NAME=${fullName}`);
  for (const v of childEnv) {
    const i = v.indexOf("=");
    if (i < 0) continue;
    const k = v.slice(0, i);
    if (k === "HOME" || k === "PATH") continue;
    env.push(`${alias}_ENV_${k}=${v.slice(i + 1)}`);
  }
  return env;
}

/** Docker's ReplaceOrAppendEnvValues of the container's env over the linked env. */
export function mergeEnv(linked: string[], own: string[]): string[] {
  if (!linked.length) return own;
  const key = (e: string) => e.split("=", 1)[0];
  const ownKeys = new Set(own.map(key));
  return [...linked.filter((e) => !ownKeys.has(key(e))), ...own];
}
