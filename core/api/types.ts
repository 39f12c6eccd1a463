/**
 * The Engine API's object types, shared by the daemon (records, views) and
 * the client (what it sends and reads back). Shapes and field names are
 * Docker's: moby v20.10's api/types Go structs and the Engine API swagger
 * (API 1.41, with the 1.44+ fields berth answers, such as GwPriority and
 * DNSNames); the request bodies' types are the `Infer<>` of their schemas
 * (./containers.ts, ./networks.ts, ./volumes.ts, ./exec.ts), written once.
 *
 * Two kinds of type:
 * - a body as decoded (`ContainerCreate`, `HostConfigBody`): every field
 *   optional, absent = Go's zero value;
 * - a value as stored and answered (`ContainerConfig`, `HostConfig`,
 *   `ContainerJSON`, …): the fields berth always sets are required, and
 *   where berth stores a Go nil slice, map or pointer the type says `null`,
 *   as encoding/json writes it (decoding never yields null: null is absent).
 * @module
 */
import type * as C from "./containers.ts";
import type * as N from "./networks.ts";

export type { ContainerCreate, ContainerUpdate, Mount, NetworkingConfig } from "./containers.ts";
export type { ExecConfig, ExecStartCheck } from "./exec.ts";
export type { NetworkConnect, NetworkCreate, NetworkDisconnect } from "./networks.ts";
export type { VolumeCreate } from "./volumes.ts";
export type { AuthConfig } from "./auth.ts";

/**
 * A body as a client writes it: Go's encoder (the docker CLI) writes nil
 * slices, maps and pointers as null, which the daemon decodes as absent.
 */
export type Wire<T> = { [K in keyof T]?: T[K] | null };

/** `POST /containers/create` as the client builds it (docker CLI's shape, nulls included). */
export interface ContainerCreateRequest
  extends Wire<Omit<C.ContainerCreate, "HostConfig" | "NetworkingConfig">> {
  Image: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  HostConfig: Wire<C.HostConfig>;
  NetworkingConfig: C.NetworkingConfig;
}

/** container.Config as decoded from a create body (all optional). */
export type ConfigBody = C.Config;
/** container.HostConfig as decoded from a create body (all optional). */
export type HostConfigBody = C.HostConfig;
/** network.EndpointSettings as decoded from a request (all optional). */
export type EndpointSettingsBody = N.EndpointSettings;
export type HealthConfig = C.HealthConfig;
export type RestartPolicy = C.RestartPolicy;
export type PortMap = C.PortMap;
export type PortBinding = { HostIp?: string; HostPort?: string };
export type Ulimit = C.Ulimit;
/** nat.PortSet / Volumes: keys only, each value `{}`. */
export type EmptySet = Record<string, Record<string, never>>;

/** container.Config as stored in a container record and shown by inspect. */
export interface ContainerConfig
  extends Omit<C.Config, "Cmd" | "Entrypoint" | "Volumes" | "OnBuild"> {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  /** what the user typed (the record's Image is the image ID) */
  Image: string;
  Volumes: EmptySet | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
}

/** container.HostConfig as stored in a container record and shown by inspect. */
export interface HostConfig extends
  Omit<
    C.HostConfig,
    | "Binds"
    | "Links"
    | "CapAdd"
    | "CapDrop"
    | "ExtraHosts"
    | "GroupAdd"
    | "SecurityOpt"
    | "PidsLimit"
    | "Ulimits"
  > {
  Binds: string[] | null;
  /** null in inspect when there are none; the record keeps the requested ones */
  Links?: string[] | null;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: PortMap;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  AutoRemove: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  PidMode: string;
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  UTSMode: string;
  ShmSize: number;
  Runtime: string;
  ConsoleSize: number[];
  Isolation: string;
  Memory: number;
  NanoCpus: number;
  CpuShares: number;
  PidsLimit: number | null;
  Ulimits: Ulimit[] | null;
}

/** network.EndpointIPAMConfig. */
export interface EndpointIPAMConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[];
}

/** network.EndpointSettings as stored in NetworkSettings.Networks and shown by inspect. */
export interface EndpointSettings {
  IPAMConfig: EndpointIPAMConfig | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  /** API 1.48 */
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  /** API 1.44 */
  DNSNames: string[] | null;
}

/**
 * An endpoint as create/connect read it: a request's EndpointSettings (every
 * field optional) or one a record saved (create, then start, wires it).
 */
export type EndpointConfig = Partial<EndpointSettings>;

/** types.NetworkSettings as inspect shows it. */
export interface NetworkSettings {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: Record<string, PortBinding[] | null>;
  HairpinMode: boolean;
  LinkLocalIPv6Address: string;
  LinkLocalIPv6PrefixLen: number;
  SecondaryIPAddresses: null;
  SecondaryIPv6Addresses: null;
  EndpointID: string;
  Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

/** types.ContainerState. */
export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** only with a healthcheck */
  Health?: {
    Status: "starting" | "healthy" | "unhealthy";
    FailingStreak: number;
    Log: { Start: string; End: string; ExitCode: number; Output: string }[];
  };
}

/** types.MountPoint as inspect and `ps` show it (`Mounts`). */
export interface MountPoint {
  Type: "bind" | "volume" | "tmpfs";
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

/** `GET /containers/{id}/json` (types.ContainerJSON). */
export interface ContainerJSON {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Data: Record<string, string> | null; Name: string };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: NetworkSettings;
}

/** types.Port: one published or exposed port of a `GET /containers/json` item. */
export interface Port {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** One `GET /containers/json` item (types.Container). */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Port[];
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
}

/** `POST /containers/{id}/wait`. */
export interface ContainerWaitResponse {
  StatusCode: number;
  Error?: { Message: string } | null;
}

/** `GET /containers/{id}/top`. */
export interface ContainerTopResponse {
  Titles: string[];
  Processes: string[][];
}

/** `POST /containers/create`, `POST /exec`, `POST /commit`: the new object's ID. */
export interface IdResponse {
  Id: string;
  Warnings?: string[] | null;
}

/** `GET /exec/{id}/json` (the fields the client reads). */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: {
    tty: boolean;
    entrypoint: string;
    arguments: string[];
    privileged: boolean;
    user?: string;
  };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}

/** One `GET /containers/{id}/changes` item: Kind 0 modified, 1 added, 2 deleted. */
export interface FilesystemChange {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** `POST /networks/create`. */
export interface NetworkCreateResponse {
  Id: string;
  Warning: string;
}

/** `POST /{containers,images,networks,volumes}/prune`. */
export interface PruneReport {
  ContainersDeleted?: string[] | null;
  ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
  NetworksDeleted?: string[] | null;
  VolumesDeleted?: string[] | null;
  SpaceReclaimed?: number;
}

/** One `GET /images/json` item (types.ImageSummary). */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  Containers: number;
}

/** One `GET /images/{name}/history` item (image.HistoryResponseItem). */
export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** network.IPAMConfig / IPAM. */
export interface IPAMConfig {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
}
export interface IPAM {
  Driver: string;
  Options: Record<string, string> | null;
  Config: IPAMConfig[] | null;
}

/** `GET /networks/{id}` and `GET /networks` items (types.NetworkResource). */
export interface Network {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  /** API 1.47 */
  EnableIPv4?: boolean;
  EnableIPv6: boolean;
  IPAM: IPAM;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, {
    Name: string;
    EndpointID: string;
    MacAddress: string;
    IPv4Address: string;
    IPv6Address: string;
  }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** types.Volume (`GET /volumes/{name}`, `/volumes` items, `POST /volumes/create`). */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
  Labels: Record<string, string> | null;
  Scope: string;
  Options: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** `GET /volumes` (volume.VolumeListOKBody). */
export interface VolumeList {
  Volumes: Volume[] | null;
  Warnings: string[] | null;
}

/**
 * One line of a progress stream (pull, push, build, load, import:
 * jsonmessage.JSONMessage), as the client reads it.
 */
export interface JSONMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: Record<string, unknown>;
}

/** `GET /version` (types.Version). */
export interface SystemVersion {
  Platform: { Name: string };
  Components: { Name: string; Version: string; Details?: Record<string, string> }[];
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  Experimental?: boolean;
  BuildTime: string;
}

/**
 * `GET /info` (system.Info): the fields `berth info` prints; the daemon
 * answers the rest of Docker's (modes/daemon/routes/system.ts), which a
 * `--format` template reads as they come.
 */
export interface SystemInfo {
  ID: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  Debug: boolean;
  LoggingDriver: string;
  CgroupDriver: string;
  CgroupVersion: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  Name: string;
  ServerVersion: string;
  Runtimes: Record<string, { path: string }>;
  DefaultRuntime: string;
  LiveRestoreEnabled: boolean;
  [field: string]: unknown;
}

/** One build cache record of `GET /system/df` (types.BuildCache). */
export interface BuildCache {
  ID: string;
  Parent?: string;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
}

/** `GET /system/df` (types.DiskUsage). */
export interface DiskUsage {
  LayersSize: number;
  Images: ImageSummary[] | null;
  Containers: ContainerSummary[] | null;
  Volumes: Volume[] | null;
  BuildCache: BuildCache[] | null;
}

/** One `GET /events` line (events.Message, with the deprecated status/id/from). */
export interface EventsMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}
