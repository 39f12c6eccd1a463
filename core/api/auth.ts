/**
 * Schema of `POST /auth` and of the X-Registry-Auth header's JSON (moby
 * v20.10 types.AuthConfig; its JSON names are lower case).
 * @module
 */
import { type Infer, str, struct } from "./schema.ts";

export const AuthConfig = struct("AuthConfig", {
  username: str(),
  password: str(),
  auth: str(),
  email: str(),
  serveraddress: str(),
  identitytoken: str(),
  registrytoken: str(),
}, "types");
export type AuthConfig = Infer<typeof AuthConfig>;
