/**
 * Schemas of the container bodies, after moby's api/types/container, mount,
 * blkiodev, go-units and go-connections/nat (v20.10): the create body
 * (Config + HostConfig + NetworkingConfig, decoded as dockerd's
 * ContainerConfigWrapper), update (UpdateConfig), resize and wait queries.
 * Go type names are kept for the error messages. The `Infer<…>` types are
 * the typed records' shapes.
 * @module
 */
import {
  array,
  bool,
  emptyStruct,
  type Infer,
  int,
  int64,
  map,
  slice,
  str,
  strSlice,
  struct,
  uint,
  uint16,
  uint32,
  uint64,
} from "./schema.ts";
import { EndpointSettings } from "./networks.ts";

/** `map[string]struct{}` (Volumes) and nat.PortSet: any object per key. */
const EmptyStruct = emptyStruct();

export const HealthConfig = struct("HealthConfig", {
  Test: slice(str()),
  Interval: int64("time.Duration"),
  Timeout: int64("time.Duration"),
  StartPeriod: int64("time.Duration"),
  Retries: int(),
  NoWait: bool(),
}, "container");
export type HealthConfig = Infer<typeof HealthConfig>;

/** The portable part of a container's configuration (container.Config). */
export const configFields = {
  Hostname: str(),
  Domainname: str(),
  User: str(),
  AttachStdin: bool(),
  AttachStdout: bool(),
  AttachStderr: bool(),
  ExposedPorts: map(EmptyStruct, "nat.PortSet"),
  Tty: bool(),
  OpenStdin: bool(),
  StdinOnce: bool(),
  Env: slice(str()),
  Cmd: strSlice(),
  Healthcheck: HealthConfig,
  ArgsEscaped: bool(),
  Image: str(),
  Volumes: map(EmptyStruct),
  WorkingDir: str(),
  Entrypoint: strSlice(),
  NetworkDisabled: bool(),
  MacAddress: str(),
  OnBuild: slice(str()),
  Labels: map(str()),
  StopSignal: str(),
  StopTimeout: int(),
  Shell: strSlice(),
};
export const Config = struct("Config", configFields, "container");
export type Config = Infer<typeof Config>;

const ThrottleDevice = struct("ThrottleDevice", { Path: str(), Rate: uint64() }, "blkiodev");
const WeightDevice = struct("WeightDevice", { Path: str(), Weight: uint16() }, "blkiodev");
const DeviceMapping = struct("DeviceMapping", {
  PathOnHost: str(),
  PathInContainer: str(),
  CgroupPermissions: str(),
}, "container");
const DeviceRequest = struct("DeviceRequest", {
  Driver: str(),
  Count: int(),
  DeviceIDs: slice(str()),
  Capabilities: slice(slice(str())),
  Options: map(str()),
}, "container");
const LinuxDeviceCgroup = struct("LinuxDeviceCgroup", {
  allow: bool(),
  type: str(),
  major: int64(),
  minor: int64(),
  access: str(),
}, "specs");
export const Ulimit = struct("Ulimit", { Name: str(), Hard: int64(), Soft: int64() }, "units");
export type Ulimit = Infer<typeof Ulimit>;

/** container.Resources: cgroup limits (embedded in HostConfig and UpdateConfig). */
export const resourcesFields = {
  CpuShares: int64(),
  Memory: int64(),
  NanoCpus: int64(),
  CgroupParent: str(),
  BlkioWeight: uint16(),
  BlkioWeightDevice: slice(WeightDevice, "[]*blkiodev.WeightDevice"),
  BlkioDeviceReadBps: slice(ThrottleDevice, "[]*blkiodev.ThrottleDevice"),
  BlkioDeviceWriteBps: slice(ThrottleDevice, "[]*blkiodev.ThrottleDevice"),
  BlkioDeviceReadIOps: slice(ThrottleDevice, "[]*blkiodev.ThrottleDevice"),
  BlkioDeviceWriteIOps: slice(ThrottleDevice, "[]*blkiodev.ThrottleDevice"),
  CpuPeriod: int64(),
  CpuQuota: int64(),
  CpuRealtimePeriod: int64(),
  CpuRealtimeRuntime: int64(),
  CpusetCpus: str(),
  CpusetMems: str(),
  Devices: slice(DeviceMapping),
  DeviceCgroupRules: slice(str()),
  DeviceCgroupPermissions: slice(LinuxDeviceCgroup),
  DeviceRequests: slice(DeviceRequest),
  KernelMemory: int64(),
  KernelMemoryTCP: int64(),
  MemoryReservation: int64(),
  MemorySwap: int64(),
  MemorySwappiness: int64(),
  OomKillDisable: bool(),
  PidsLimit: int64(),
  Ulimits: slice(Ulimit, "[]*units.Ulimit"),
  CpuCount: int64(),
  CpuPercent: int64(),
  IOMaximumIOps: uint64(),
  IOMaximumBandwidth: uint64(),
};

export const RestartPolicy = struct("RestartPolicy", {
  Name: str(),
  MaximumRetryCount: int(),
}, "container");
export type RestartPolicy = Infer<typeof RestartPolicy>;

export const LogConfig = struct("LogConfig", {
  Type: str(),
  Config: map(str()),
}, "container");

const PortBinding = struct("PortBinding", { HostIp: str(), HostPort: str() }, "nat");
export const PortMap = map(slice(PortBinding), "nat.PortMap");
export type PortMap = Infer<typeof PortMap>;

export const Mount = struct("Mount", {
  Type: str("mount.Type"),
  Source: str(),
  Target: str(),
  ReadOnly: bool(),
  Consistency: str("mount.Consistency"),
  BindOptions: struct("BindOptions", {
    Propagation: str("mount.Propagation"),
    NonRecursive: bool(),
    CreateMountpoint: bool(), // API 1.42
  }, "mount"),
  VolumeOptions: struct("VolumeOptions", {
    NoCopy: bool(),
    Labels: map(str()),
    DriverConfig: struct("Driver", { Name: str(), Options: map(str()) }, "mount"),
  }, "mount"),
  TmpfsOptions: struct("TmpfsOptions", {
    SizeBytes: int64(),
    Mode: uint32("fs.FileMode"),
  }, "mount"),
}, "mount");
export type Mount = Infer<typeof Mount>;

/** The host-dependent part (container.HostConfig). */
export const HostConfig = struct("HostConfig", {
  Binds: slice(str()),
  ContainerIDFile: str(),
  LogConfig,
  NetworkMode: str("container.NetworkMode"),
  PortBindings: PortMap,
  RestartPolicy,
  AutoRemove: bool(),
  VolumeDriver: str(),
  VolumesFrom: slice(str()),
  CapAdd: strSlice(),
  CapDrop: strSlice(),
  CgroupnsMode: str("container.CgroupnsMode"),
  Dns: slice(str()),
  DnsOptions: slice(str()),
  DnsSearch: slice(str()),
  ExtraHosts: slice(str()),
  GroupAdd: slice(str()),
  IpcMode: str("container.IpcMode"),
  Cgroup: str("container.CgroupSpec"),
  Links: slice(str()),
  OomScoreAdj: int(),
  PidMode: str("container.PidMode"),
  Privileged: bool(),
  PublishAllPorts: bool(),
  ReadonlyRootfs: bool(),
  SecurityOpt: slice(str()),
  StorageOpt: map(str()),
  Tmpfs: map(str()),
  UTSMode: str("container.UTSMode"),
  UsernsMode: str("container.UsernsMode"),
  ShmSize: int64(),
  Sysctls: map(str()),
  Runtime: str(),
  ConsoleSize: array(uint(), 2),
  Isolation: str("container.Isolation"),
  ...resourcesFields,
  Mounts: slice(Mount),
  MaskedPaths: slice(str()),
  ReadonlyPaths: slice(str()),
  Init: bool(),
}, "container");
export type HostConfig = Infer<typeof HostConfig>;

export const NetworkingConfig = struct("NetworkingConfig", {
  EndpointsConfig: map(EndpointSettings, "map[string]*network.EndpointSettings"),
}, "network");
export type NetworkingConfig = Infer<typeof NetworkingConfig>;

/**
 * `POST /containers/create`: Config's fields at the top level, HostConfig
 * and NetworkingConfig beside them (dockerd's runconfig.ContainerConfigWrapper).
 */
export const ContainerCreate = struct("ContainerConfigWrapper", {
  ...configFields,
  HostConfig,
  NetworkingConfig,
}, "runconfig");
export type ContainerCreate = Infer<typeof ContainerCreate>;

/** `POST /containers/{id}/update` (container.UpdateConfig). */
export const ContainerUpdate = struct("UpdateConfig", {
  ...resourcesFields,
  RestartPolicy,
}, "container");
export type ContainerUpdate = Infer<typeof ContainerUpdate>;

/** `POST /commit`'s body: a Config (what the committed image's config is built from). */
export const CommitConfig = Config;
