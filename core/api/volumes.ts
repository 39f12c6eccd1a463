/**
 * Schema of `POST /volumes/create` (moby v20.10 volume.VolumeCreateBody).
 * @module
 */
import { type Infer, map, str, struct } from "./schema.ts";

export const VolumeCreate = struct("VolumeCreateBody", {
  Driver: str(),
  DriverOpts: map(str()),
  Labels: map(str()),
  Name: str(),
}, "volume");
export type VolumeCreate = Infer<typeof VolumeCreate>;
