/**
 * Schemas of the network bodies, after moby's api/types (v20.10):
 * NetworkCreateRequest, NetworkConnect, NetworkDisconnect, and
 * network.EndpointSettings (also used by the create body's NetworkingConfig).
 * @module
 */
import { bool, type Infer, int, map, slice, str, struct } from "./schema.ts";

export const EndpointIPAMConfig = struct("EndpointIPAMConfig", {
  IPv4Address: str(),
  IPv6Address: str(),
  LinkLocalIPs: slice(str()),
}, "network");

export const EndpointSettings = struct("EndpointSettings", {
  IPAMConfig: EndpointIPAMConfig,
  Links: slice(str()),
  Aliases: slice(str()),
  NetworkID: str(),
  EndpointID: str(),
  Gateway: str(),
  IPAddress: str(),
  IPPrefixLen: int(),
  IPv6Gateway: str(),
  GlobalIPv6Address: str(),
  GlobalIPv6PrefixLen: int(),
  MacAddress: str(),
  DriverOpts: map(str()),
}, "network");
export type EndpointSettings = Infer<typeof EndpointSettings>;

export const IPAMConfig = struct("IPAMConfig", {
  Subnet: str(),
  IPRange: str(),
  Gateway: str(),
  AuxiliaryAddresses: map(str()),
}, "network");

export const IPAM = struct("IPAM", {
  Driver: str(),
  Options: map(str()),
  Config: slice(IPAMConfig),
}, "network");
export type IPAM = Infer<typeof IPAM>;

/** `POST /networks/create` (types.NetworkCreateRequest: NetworkCreate + Name). */
export const NetworkCreate = struct("NetworkCreateRequest", {
  CheckDuplicate: bool(),
  Driver: str(),
  Scope: str(),
  EnableIPv6: bool(),
  IPAM,
  Internal: bool(),
  Attachable: bool(),
  Ingress: bool(),
  ConfigOnly: bool(),
  ConfigFrom: struct("ConfigReference", { Network: str() }, "network"),
  Options: map(str()),
  Labels: map(str()),
  Name: str(),
}, "types");
export type NetworkCreate = Infer<typeof NetworkCreate>;

/** `POST /networks/{id}/connect`. */
export const NetworkConnect = struct("NetworkConnect", {
  Container: str(),
  EndpointConfig: EndpointSettings,
}, "types");
export type NetworkConnect = Infer<typeof NetworkConnect>;

/** `POST /networks/{id}/disconnect`. */
export const NetworkDisconnect = struct("NetworkDisconnect", {
  Container: str(),
  Force: bool(),
}, "types");
export type NetworkDisconnect = Infer<typeof NetworkDisconnect>;
