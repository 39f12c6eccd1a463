/**
 * Engine API shapes of networks (`GET /networks`, `GET /networks/{id}`) and
 * the list filters (name, id, driver, type, label, scope, dangling). Pure.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { EndpointState, NetworkRecord } from "./records.ts";
import type { Network } from "../../../core/api/types.ts";

/** A container on a network, as in the `Containers` map. */
export interface AttachedView {
  id: string;
  name: string;
  ep: EndpointState;
}

export function networkView(n: NetworkRecord, attached?: AttachedView[]): Network {
  const containers: Network["Containers"] = {};
  for (const a of attached ?? []) {
    containers[a.id] = {
      Name: a.name,
      EndpointID: a.ep.endpointId,
      MacAddress: a.ep.mac,
      IPv4Address: `${a.ep.ip}/${a.ep.prefix}`,
      IPv6Address: a.ep.ip6 ? `${a.ep.ip6}/${a.ep.prefix6}` : "",
    };
  }
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: n.Scope,
    Driver: n.Driver,
    EnableIPv4: n.EnableIPv4,
    EnableIPv6: n.EnableIPv6,
    IPAM: n.IPAM,
    Internal: n.Internal,
    Attachable: n.Attachable,
    Ingress: n.Ingress,
    ConfigFrom: n.ConfigFrom,
    ConfigOnly: n.ConfigOnly,
    Containers: containers,
    Options: n.Options,
    Labels: n.Labels,
  };
}

const KNOWN = ["name", "id", "driver", "type", "label", "scope", "dangling"];

/** Docker's label filter: "key" or "key=value". */
function labelMatch(labels: Record<string, string>, want: string): boolean {
  const i = want.indexOf("=");
  if (i < 0) return want in labels;
  return labels[want.slice(0, i)] === want.slice(i + 1);
}

/** Does a network pass the `filters` of GET /networks? `inUse` for dangling. */
export function matchFilters(
  n: NetworkRecord,
  f: Record<string, string[]>,
  inUse: boolean,
): boolean {
  for (const k of Object.keys(f)) {
    if (!KNOWN.includes(k)) throw new InvalidArgument(`invalid filter '${k}'`);
  }
  if (f.name?.length && !f.name.some((x) => n.Name.includes(x))) return false;
  if (f.id?.length && !f.id.some((x) => n.Id.startsWith(x) || n.Id.includes(x))) return false;
  if (f.driver?.length && !f.driver.includes(n.Driver)) return false;
  if (f.scope?.length && !f.scope.includes(n.Scope)) return false;
  if (f.type?.length) {
    for (const t of f.type) {
      if (t !== "custom" && t !== "builtin") {
        throw new InvalidArgument(`invalid filter: 'type'='${t}'`);
      }
    }
    if (!f.type.includes(n.Predefined ? "builtin" : "custom")) return false;
  }
  if (f.label?.length && !f.label.every((l) => labelMatch(n.Labels ?? {}, l))) return false;
  if (f.dangling?.length) {
    const v = f.dangling[0].toLowerCase();
    if (!["true", "false", "1", "0"].includes(v)) {
      throw new InvalidArgument(`invalid filter 'dangling=${f.dangling[0]}'`);
    }
    const want = v === "true" || v === "1";
    const dangling = !n.Predefined && !inUse;
    if (dangling !== want) return false;
  }
  return true;
}
