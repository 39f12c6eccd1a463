/**
 * The files Docker bind-mounts into every container: /etc/hostname,
 * /etc/hosts and /etc/resolv.conf, kept in the container's directory and
 * regenerated at each start. The network area may rewrite hosts in place
 * (same inode: it is bind-mounted) to add the container's address.
 * @module
 */
import type { ContainerRecord } from "../../../core/store/containers.ts";

const DEFAULT_HOSTS = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

async function hostFile(path: string, dflt: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return dflt;
  }
}

/** Host resolv.conf without loopback resolvers (unreachable from a netns), as Docker. */
export function filterResolvConf(text: string, hostNetwork: boolean): string {
  if (hostNetwork) return text;
  const lines = text.split("\n").filter((l) =>
    !/^\s*nameserver\s+(127\.|::1\b|0\.0\.0\.0)/.test(l)
  );
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) {
    lines.push("nameserver 8.8.8.8", "nameserver 8.8.4.4");
  }
  return lines.join("\n").replace(/\n*$/, "\n");
}

export async function writeEtcFiles(r: ContainerRecord, extraHosts: string[] = []): Promise<void> {
  const hc = r.HostConfig;
  const host = hc.NetworkMode === "host";
  await Deno.writeTextFile(r.HostnamePath, `${r.Config.Hostname}\n`);

  let hosts = host ? await hostFile("/etc/hosts", DEFAULT_HOSTS) : DEFAULT_HOSTS;
  for (const e of (hc.ExtraHosts ?? []) as string[]) {
    const i = e.indexOf(":");
    if (i > 0) hosts += `${e.slice(i + 1).replace(/^\[|\]$/g, "")}\t${e.slice(0, i)}\n`;
  }
  for (const l of extraHosts) hosts += l.endsWith("\n") ? l : l + "\n";
  await writeInPlace(r.HostsPath, hosts);

  let resolv = filterResolvConf(await hostFile("/etc/resolv.conf", ""), host);
  if ((hc.Dns ?? []).length || (hc.DnsSearch ?? []).length || (hc.DnsOptions ?? []).length) {
    const keep = resolv.split("\n").filter((l) => {
      if ((hc.Dns ?? []).length && /^\s*nameserver\s/.test(l)) return false;
      if ((hc.DnsSearch ?? []).length && /^\s*(search|domain)\s/.test(l)) return false;
      if ((hc.DnsOptions ?? []).length && /^\s*options\s/.test(l)) return false;
      return l.trim() !== "";
    });
    for (const d of hc.Dns ?? []) keep.push(`nameserver ${d}`);
    if ((hc.DnsSearch ?? []).length) keep.push(`search ${hc.DnsSearch.join(" ")}`);
    if ((hc.DnsOptions ?? []).length) keep.push(`options ${hc.DnsOptions.join(" ")}`);
    resolv = keep.join("\n") + "\n";
  }
  await writeInPlace(r.ResolvConfPath, resolv);
}

/** Rewrite a file keeping its inode (it may be bind-mounted into a running container). */
export async function writeInPlace(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { create: true });
}
