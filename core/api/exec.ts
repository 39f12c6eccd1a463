/**
 * Schemas of the exec bodies, after moby's api/types (v20.10): ExecConfig
 * (`POST /containers/{id}/exec`) and ExecStartCheck (`POST /exec/{id}/start`).
 * Go matches names case-insensitively, so the Python SDK's `detachKeys` is
 * `DetachKeys` here.
 * @module
 */
import { array, bool, type Infer, slice, str, struct, uint } from "./schema.ts";

export const ExecConfig = struct("ExecConfig", {
  User: str(),
  Privileged: bool(),
  Tty: bool(),
  ConsoleSize: array(uint(), 2, "*[2]uint"),
  AttachStdin: bool(),
  AttachStderr: bool(),
  AttachStdout: bool(),
  Detach: bool(),
  DetachKeys: str(),
  Env: slice(str()),
  WorkingDir: str(),
  Cmd: slice(str()),
}, "types");
export type ExecConfig = Infer<typeof ExecConfig>;

export const ExecStartCheck = struct("ExecStartCheck", {
  Detach: bool(),
  Tty: bool(),
  ConsoleSize: array(uint(), 2, "*[2]uint"),
}, "types");
export type ExecStartCheck = Infer<typeof ExecStartCheck>;
