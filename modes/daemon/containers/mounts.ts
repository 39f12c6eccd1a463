/**
 * A container's mounts from what `docker create` sends: HostConfig.Binds
 * ("src:dst[:opts]"), HostConfig.Mounts (--mount), HostConfig.Tmpfs
 * (--tmpfs) and the image's/Config's Volumes (anonymous volumes), in
 * Docker's precedence. Named volumes are created here (as Docker does at
 * create time); copy-up happens at start.
 * @module
 */
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import type { MountPoint } from "../../../core/store/containers.ts";
import type { ContainerConfig, HostConfig } from "../../../core/api/types.ts";
import type { VolumeService } from "./volumes.ts";

const PROPAGATIONS = ["shared", "rshared", "slave", "rslave", "private", "rprivate"];

function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const s of p.split("/")) {
    if (!s || s === ".") continue;
    if (s === "..") parts.pop();
    else parts.push(s);
  }
  return "/" + parts.join("/");
}

/** Split "src:dst:opts" (no Windows drive letters on Linux). */
export function parseBind(spec: string): { src: string; dst: string; mode: string } {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p, i) => i < 2 && !p)) {
    throw new InvalidArgument(`invalid volume specification: '${spec}'`);
  }
  const [src, dst, mode = ""] = parts;
  if (!dst.startsWith("/")) {
    throw new InvalidArgument(
      `invalid volume specification: '${spec}': invalid mount config for type "bind": invalid mount path: '${dst}' mount path must be absolute`,
    );
  }
  for (const o of mode ? mode.split(",") : []) {
    if (
      !["ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated", ...PROPAGATIONS]
        .includes(o)
    ) {
      throw new InvalidArgument(`invalid mode: ${o}`);
    }
  }
  return { src, dst: cleanPath(dst), mode };
}

/**
 * The container's mount points; named volumes are created, anonymous ones
 * too. When it fails (bad input, a full disk) the anonymous volumes it made
 * are removed again, as moby's cleanup after a failed create does.
 */
export async function buildMounts(
  config: Pick<ContainerConfig, "Volumes">,
  hostConfig: Partial<Pick<HostConfig, "Binds" | "Mounts" | "Tmpfs">>,
  imageVolumes: Record<string, unknown>,
  volumes: VolumeService,
): Promise<MountPoint[]> {
  const anonymous: string[] = [];
  try {
    return await collectMounts(config, hostConfig, imageVolumes, volumes, anonymous);
  } catch (e) {
    for (const n of anonymous) await volumes.remove(n, true).catch(() => {}); // best effort: already failing
    throw e;
  }
}

async function collectMounts(
  config: Pick<ContainerConfig, "Volumes">,
  hostConfig: Partial<Pick<HostConfig, "Binds" | "Mounts" | "Tmpfs">>,
  imageVolumes: Record<string, unknown>,
  volumes: VolumeService,
  anonymous: string[],
): Promise<MountPoint[]> {
  const out = new Map<string, MountPoint>();
  const add = (m: MountPoint) => {
    if (out.has(m.Destination)) {
      throw new InvalidArgument(`Duplicate mount point: ${m.Destination}`);
    }
    out.set(m.Destination, m);
  };
  for (const b of hostConfig.Binds ?? []) {
    const { src, dst, mode } = parseBind(b);
    const opts = mode ? mode.split(",") : [];
    const rw = !opts.includes("ro");
    const prop = opts.find((o) => PROPAGATIONS.includes(o));
    if (src.startsWith("/")) {
      // -v creates a missing host directory (unlike --mount).
      // (one that cannot be made fails the mount at start, with its reason)
      await Deno.mkdir(src, { recursive: true }).catch(() => {});
      add({
        Type: "bind",
        Source: cleanPath(src),
        Destination: dst,
        Mode: mode,
        RW: rw,
        Propagation: prop ?? "rprivate",
      });
    } else {
      const v = await volumes.create({ Name: src });
      add({
        Type: "volume",
        Name: v.Name,
        Source: v.Mountpoint,
        Destination: dst,
        Driver: "local",
        Mode: mode || "z",
        RW: rw,
        Propagation: "",
        NoCopy: opts.includes("nocopy"),
      });
    }
  }
  for (const m of hostConfig.Mounts ?? []) {
    const dst = m.Target;
    if (!dst || !String(dst).startsWith("/")) {
      throw new InvalidArgument(`invalid mount config: mount path must be absolute: ${dst}`);
    }
    const target = cleanPath(dst);
    const rw = !m.ReadOnly;
    switch (m.Type) {
      case "bind": {
        if (!m.Source) {
          throw new InvalidArgument(
            `invalid mount config for type "bind": field Source must not be empty`,
          );
        }
        try {
          await Deno.stat(m.Source);
        } catch {
          if (m.BindOptions?.CreateMountpoint) await Deno.mkdir(m.Source, { recursive: true });
          else {
            throw new InvalidArgument(
              `invalid mount config for type "bind": bind source path does not exist: ${m.Source}`,
            );
          }
        }
        add({
          Type: "bind",
          Source: cleanPath(m.Source),
          Destination: target,
          Mode: "",
          RW: rw,
          Propagation: m.BindOptions?.Propagation || "rprivate",
        });
        break;
      }
      case "volume": {
        const anon = !m.Source;
        const v = await volumes.create(
          { Name: m.Source, Labels: m.VolumeOptions?.Labels },
          anon,
        );
        if (anon) anonymous.push(v.Name);
        add({
          Type: "volume",
          Name: v.Name,
          Source: v.Mountpoint,
          Destination: target,
          Driver: "local",
          Mode: "z",
          RW: rw,
          Propagation: "",
          NoCopy: !!m.VolumeOptions?.NoCopy,
          ...(anon ? { Anonymous: true } : {}),
        });
        break;
      }
      case "tmpfs": {
        const o: string[] = [];
        if (m.TmpfsOptions?.SizeBytes) o.push(`size=${m.TmpfsOptions.SizeBytes}`);
        if (m.TmpfsOptions?.Mode) o.push(`mode=${Number(m.TmpfsOptions.Mode).toString(8)}`);
        add({
          Type: "tmpfs",
          Source: "",
          Destination: target,
          Mode: "",
          RW: rw,
          Propagation: "",
          Options: o,
        });
        break;
      }
      default:
        throw new InvalidArgument(`invalid mount config: mount type unknown: ${m.Type}`);
    }
  }
  for (const [dst, opt] of Object.entries(hostConfig.Tmpfs ?? {})) {
    add({
      Type: "tmpfs",
      Source: "",
      Destination: cleanPath(dst),
      Mode: "",
      RW: !String(opt).split(",").includes("ro"),
      Propagation: "",
      Options: opt ? String(opt).split(",").filter((x) => x && x !== "rw" && x !== "ro") : [],
    });
  }
  // Anonymous volumes for the image's and the container's VOLUMEs not covered above.
  const vols = { ...imageVolumes, ...(config.Volumes ?? {}) };
  for (const d of Object.keys(vols)) {
    const dst = cleanPath(d);
    if (out.has(dst)) continue;
    const v = await volumes.create({}, true);
    anonymous.push(v.Name);
    out.set(dst, {
      Type: "volume",
      Name: v.Name,
      Source: v.Mountpoint,
      Destination: dst,
      Driver: "local",
      Mode: "",
      RW: true,
      Propagation: "",
      Anonymous: true,
    });
  }
  return [...out.values()];
}
