/**
 * `network create|ls|inspect|rm|prune|connect|disconnect`, as the docker CLI
 * does them (same flags, same output).
 * @module
 */
import {
  collect,
  command,
  filterFlag,
  filtersQuery,
  type Flags,
  type Globals,
  kvMap,
  out,
  parse,
  requireArgs,
} from "../cli.ts";
import { ApiError } from "../api.ts";
import { printFormatted, renderTemplate } from "../format.ts";

import type {
  EndpointConfig,
  EndpointIPAMConfig,
  EndpointSettingsBody,
  IPAMConfig,
  Network,
  NetworkCreate,
  NetworkCreateResponse,
  PruneReport,
} from "../../../core/api/types.ts";

/** --subnet/--gateway/--ip-range/--aux-address → IPAM.Config (docker's pairing). */
export function ipamConfig(o: Flags): IPAMConfig[] {
  const subnets: string[] = o.subnet ?? [];
  const gws: string[] = o.gateway ?? [];
  const ranges: string[] = o.ipRange ?? [];
  if (!subnets.length && (gws.length || ranges.length)) {
    throw new Error("every ip-range or gateway must have a corresponding subnet");
  }
  if (gws.length > subnets.length || ranges.length > subnets.length) {
    throw new Error("every ip-range or gateway must have a corresponding subnet");
  }
  const aux = kvMap(o.auxAddress);
  return subnets.map((s, i) => ({
    Subnet: s,
    ...(ranges[i] ? { IPRange: ranges[i] } : {}),
    ...(gws[i] ? { Gateway: gws[i] } : {}),
    ...(i === 0 && Object.keys(aux).length ? { AuxiliaryAddresses: aux } : {}),
  }));
}

/**
 * `run`/`create` network flags → NetworkMode + NetworkingConfig.EndpointsConfig,
 * as docker CLI 28 builds them (--network/--net, --network-alias, --ip,
 * --mac-address; the endpoint is keyed by the network as typed, "default" when
 * none was given).
 */
export function runNetworking(
  opts: Flags,
): { NetworkMode: string; EndpointsConfig: Record<string, EndpointSettingsBody> } {
  const mode: string = opts.network ?? opts.net ?? "default";
  const ep: EndpointSettingsBody = {};
  if (opts.networkAlias?.length) ep.Aliases = opts.networkAlias;
  if (opts.ip) ep.IPAMConfig = { IPv4Address: opts.ip };
  if (opts.macAddress) ep.MacAddress = opts.macAddress;
  const special = mode === "host" || mode === "none" || mode.startsWith("container:");
  if (special && Object.keys(ep).length) {
    throw new Error(
      `conflicting options: cannot attach both user-defined and non-user-defined network-modes`,
    );
  }
  return { NetworkMode: mode, EndpointsConfig: Object.keys(ep).length ? { [mode]: ep } : {} };
}

async function confirm(question: string): Promise<boolean> {
  await Deno.stdout.write(new TextEncoder().encode(question));
  const buf = new Uint8Array(256);
  const n = await Deno.stdin.read(buf).catch(() => null); // no stdin: no "yes"
  const ans = n ? new TextDecoder().decode(buf.subarray(0, n)).trim().toLowerCase() : "";
  return ans === "y" || ans === "yes";
}

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const api = g.api();
  switch (name) {
    case "network create": {
      const usage = "[OPTIONS] NETWORK";
      const c = command(name, usage, "Create a network")
        .option("-d, --driver <string>", "Driver to manage the Network", "bridge")
        .option(
          "--subnet <string>",
          "Subnet in CIDR format that represents a network segment",
          collect,
        )
        .option("--gateway <string>", "IPv4 or IPv6 Gateway for the master subnet", collect)
        .option("--ip-range <string>", "Allocate container ip from a sub-range", collect)
        .option(
          "--aux-address <map>",
          "Auxiliary IPv4 or IPv6 addresses used by Network driver",
          collect,
        )
        .option("--internal", "Restrict external access to the network")
        .option("--attachable", "Enable manual container attachment")
        .option("--ipv6", "Enable or disable IPv6 networking")
        .option("--ipam-driver <string>", "IP Address Management Driver", "default")
        .option("--ipam-opt <map>", "Set IPAM driver specific options", collect)
        .option("--label <list>", "Set metadata on a network", collect)
        .option("-o, --opt <map>", "Set driver specific options", collect)
        .option("--scope <string>", "Control the network's scope");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, usage, 1, 1);
      const body: NetworkCreate = {
        Name: pos[0],
        Driver: opts.driver,
        Options: kvMap(opts.opt),
        IPAM: { Driver: opts.ipamDriver, Config: ipamConfig(opts), Options: kvMap(opts.ipamOpt) },
        Internal: !!opts.internal,
        EnableIPv6: !!opts.ipv6,
        Attachable: !!opts.attachable,
        Ingress: false,
        Scope: opts.scope,
        Labels: kvMap(opts.label),
      };
      const r = await api.json<NetworkCreateResponse>("POST", "/networks/create", { body });
      if (r.Warning) console.error(`WARNING: ${r.Warning}`);
      out(`${r.Id}\n`);
      return 0;
    }
    case "network ls": {
      const c = command(name, "[OPTIONS]", "List networks")
        .option("-f, --filter <filter>", 'Provide filter values (e.g. "driver=bridge")', filterFlag)
        .option("--format <string>", "Format output using a custom template")
        .option("--no-trunc", "Do not truncate the output")
        .option("-q, --quiet", "Only display network IDs");
      const { opts } = parse(c, args, name);
      const list = await api.json<Network[]>("GET", "/networks", {
        query: { filters: filtersQuery(opts.filter) },
      });
      list.sort((a, b) => a.Name.localeCompare(b.Name));
      const id = (x: string) => opts.trunc === false ? x : x.slice(0, 12);
      if (opts.quiet) {
        out(list.map((n) => id(n.Id) + "\n").join(""));
        return 0;
      }
      const rows = list.map((n) => ({
        ID: id(n.Id),
        Name: n.Name,
        Driver: n.Driver,
        Scope: n.Scope,
        IPv6: String(!!n.EnableIPv6),
        Internal: String(!!n.Internal),
        Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(","),
        CreatedAt: n.Created,
      }));
      out(printFormatted(rows, opts.format, {
        defaultTable: "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
        headers: {
          ID: "NETWORK ID",
          Name: "NAME",
          Driver: "DRIVER",
          Scope: "SCOPE",
          IPv6: "IPV6",
          Internal: "INTERNAL",
          Labels: "LABELS",
          CreatedAt: "CREATED AT",
        },
      }));
      return 0;
    }
    case "network inspect": {
      const usage = "[OPTIONS] NETWORK [NETWORK...]";
      const c = command(name, usage, "Display detailed information on one or more networks")
        .option("-f, --format <string>", "Format output using a custom template")
        .option("-v, --verbose", "Verbose output for diagnostics");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, usage, 1);
      const found: Network[] = [];
      let code = 0;
      for (const n of pos) {
        try {
          found.push(await api.json<Network>("GET", `/networks/${encodeURIComponent(n)}`));
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 404) throw e;
          console.error(`Error: No such network: ${n}`);
          code = 1;
        }
      }
      if (opts.format) { for (const f of found) out(renderTemplate(opts.format, f) + "\n"); }
      else out(JSON.stringify(found, null, 4) + "\n");
      return code;
    }
    case "network rm": {
      const usage = "NETWORK [NETWORK...]";
      const c = command(name, usage, "Remove one or more networks")
        .option("-f, --force", "Do not error if the network does not exist");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, usage, 1);
      let code = 0;
      for (const n of pos) {
        try {
          await api.call("DELETE", `/networks/${encodeURIComponent(n)}`);
          out(`${n}\n`);
        } catch (e) {
          if (opts.force && e instanceof ApiError && e.status === 404) continue;
          if (!(e instanceof ApiError)) throw e;
          console.error(`Error response from daemon: ${e.message}`);
          code = 1;
        }
      }
      return code;
    }
    case "network prune": {
      const c = command(name, "[OPTIONS]", "Remove all unused networks")
        .option("--filter <filter>", 'Provide filter values (e.g. "until=<timestamp>")', filterFlag)
        .option("-f, --force", "Do not prompt for confirmation");
      const { opts } = parse(c, args, name);
      if (!opts.force) {
        const ok = await confirm(
          "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ",
        );
        if (!ok) return 0;
      }
      const r = await api.json<PruneReport>("POST", "/networks/prune", {
        query: { filters: filtersQuery(opts.filter) },
      });
      const del: string[] = r.NetworksDeleted ?? [];
      if (del.length) out(`Deleted Networks:\n${del.map((d) => d + "\n").join("")}\n`);
      return 0;
    }
    case "network connect": {
      const usage = "[OPTIONS] NETWORK CONTAINER";
      const c = command(name, usage, "Connect a container to a network")
        .option("--alias <strings>", "Add network-scoped alias for the container", collect)
        .option("--ip <string>", 'IPv4 address (e.g., "172.30.100.104")')
        .option("--ip6 <string>", 'IPv6 address (e.g., "2001:db8::33")')
        .option("--link <list>", "Add link to another container", collect)
        .option("--link-local-ip <strings>", "Add a link-local address for the container", collect)
        .option("--driver-opt <strings>", "driver options for the network", collect)
        .option("--gw-priority <int>", "Highest gw-priority provides the default gateway");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, usage, 2, 2);
      const ipam: EndpointIPAMConfig = {};
      if (opts.ip) ipam.IPv4Address = opts.ip;
      if (opts.ip6) ipam.IPv6Address = opts.ip6;
      // the request's EndpointSettings, with API 1.48's GwPriority (not in the v20.10 schema)
      const body: { Container: string; EndpointConfig: EndpointConfig } = {
        Container: pos[1],
        EndpointConfig: {
          IPAMConfig: Object.keys(ipam).length ? ipam : undefined,
          Aliases: opts.alias ?? [],
          Links: opts.link ?? [],
          DriverOpts: kvMap(opts.driverOpt),
          GwPriority: opts.gwPriority ? Number(opts.gwPriority) : 0,
        },
      };
      await api.call("POST", `/networks/${encodeURIComponent(pos[0])}/connect`, { body });
      return 0;
    }
    case "network disconnect": {
      const usage = "[OPTIONS] NETWORK CONTAINER";
      const c = command(name, usage, "Disconnect a container from a network")
        .option("-f, --force", "Force the container to disconnect from a network");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, usage, 2, 2);
      await api.call("POST", `/networks/${encodeURIComponent(pos[0])}/disconnect`, {
        body: { Container: pos[1], Force: !!opts.force },
      });
      return 0;
    }
  }
  console.error(`berth: '${name}' is not a berth command.\nSee 'berth --help'`);
  return 1;
}
