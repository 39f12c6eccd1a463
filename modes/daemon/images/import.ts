/**
 * `import`: a rootfs tar (plain, gzip or zstd) becomes a one-layer image.
 * The tar is stored as given; unpacking it yields the diffID.
 * @module
 */
import type { ImageConfig, ImageRunConfig } from "../../../core/oci/types.ts";
import { MT } from "../../../core/oci/mediatypes.ts";
import { InvalidArgument } from "../../../core/errdefs/mod.ts";
import { hostPlatform } from "../../../core/oci/platform.ts";
import type { ImageDeps } from "./service.ts";
import type { ImageRecord } from "../../../core/store/images.ts";

/** Apply Dockerfile-like `changes` (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL). */
export function applyChanges(cfg: ImageRunConfig, changes: string[]): void {
  for (const raw of changes) {
    const line = raw.trim();
    if (!line) continue;
    const sp = line.search(/\s/);
    const instr = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const rest = sp < 0 ? "" : line.slice(sp + 1).trim();
    const list = (): string[] => {
      if (rest.startsWith("[")) {
        try {
          const v = JSON.parse(rest);
          if (Array.isArray(v)) return v.map(String);
        } catch { /* shell form */ }
      }
      return ["/bin/sh", "-c", rest];
    };
    switch (instr) {
      case "CMD":
        cfg.Cmd = list();
        break;
      case "ENTRYPOINT":
        cfg.Entrypoint = list();
        break;
      case "ENV": {
        const m = /^([^=\s]+)(?:=|\s+)(.*)$/.exec(rest);
        if (!m) throw new InvalidArgument(`ENV requires a value: ${line}`);
        cfg.Env = [...(cfg.Env ?? []).filter((e) => !e.startsWith(m[1] + "=")), `${m[1]}=${m[2]}`];
        break;
      }
      case "EXPOSE":
        for (const p of rest.split(/\s+/)) {
          cfg.ExposedPorts ??= {};
          cfg.ExposedPorts[p.includes("/") ? p : `${p}/tcp`] = {};
        }
        break;
      case "LABEL": {
        const m = /^([^=\s]+)=(.*)$/.exec(rest);
        if (!m) throw new InvalidArgument(`LABEL requires key=value: ${line}`);
        cfg.Labels = { ...(cfg.Labels ?? {}), [m[1]]: m[2].replace(/^"(.*)"$/, "$1") };
        break;
      }
      case "USER":
        cfg.User = rest;
        break;
      case "WORKDIR":
        cfg.WorkingDir = rest;
        break;
      case "VOLUME":
        for (const v of rest.startsWith("[") ? JSON.parse(rest) as string[] : rest.split(/\s+/)) {
          cfg.Volumes ??= {};
          cfg.Volumes[v] = {};
        }
        break;
      case "STOPSIGNAL":
        cfg.StopSignal = rest;
        break;
      default:
        throw new InvalidArgument(`${instr} is not a valid change command`);
    }
  }
}

export async function importRootfs(
  s: ImageDeps,
  body: ReadableStream<Uint8Array>,
  opts: { ref?: string; message?: string; changes?: string[]; platform?: string },
): Promise<ImageRecord> {
  const blob = await s.content.ingest(body);
  const pinned = s.pinnedBlobs;
  pinned.add(blob.digest);
  try {
    const layer = await s.layers.create(undefined, (await s.content.open(blob.digest)).body);
    const plain = layer.diffId === blob.digest;
    const head = await s.content.open(blob.digest);
    const reader = head.body.getReader();
    const first = (await reader.read()).value ?? new Uint8Array();
    await reader.cancel();
    const zstd = first[0] === 0x28 && first[1] === 0xb5;
    const runConfig: ImageRunConfig = {};
    applyChanges(runConfig, opts.changes ?? []);
    const plat = hostPlatform();
    const now = new Date().toISOString();
    const config: ImageConfig = {
      architecture: plat.architecture,
      os: plat.os,
      created: now,
      config: runConfig,
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
      history: [{ created: now, created_by: "", comment: opts.message || "Imported from -" }],
    };
    if (opts.message) config.comment = opts.message;
    return await s.imageService.commit({
      config,
      layers: [{
        mediaType: plain ? MT.dockerLayer : zstd ? MT.ociLayerZstd : MT.dockerLayerGzip,
        digest: blob.digest,
        size: blob.size,
      }],
      tags: opts.ref ? [opts.ref] : [],
    });
  } finally {
    pinned.delete(blob.digest);
  }
}
