/**
 * `login`: check credentials against a registry (Basic or token realm), and
 * optionally remember them in docker's config.json.
 *
 * @example
 * ```ts
 * import { login } from "./login.ts";
 * // await login("127.0.0.1:5000", { username: "u", password: "p" }, { save: true });
 * ```
 * @module
 */
import { type CredentialOptions, type Credentials, saveCredentials } from "./credentials.ts";
import { RegistryClient } from "./client.ts";

export interface LoginOptions extends CredentialOptions {
  /** Store the credentials in config.json on success. */
  save?: boolean;
  insecureRegistries?: string[];
  certsDirs?: string[];
}

/** Throws errdefs Unauthorized when the registry refuses the credentials. */
export async function login(
  host: string,
  creds: Credentials,
  opts: LoginOptions = {},
): Promise<{ status: string }> {
  const client = new RegistryClient(host, {
    credentials: creds,
    insecureRegistries: opts.insecureRegistries,
    certsDirs: opts.certsDirs,
  });
  try {
    await client.transport.login();
  } finally {
    client.close();
  }
  if (opts.save) await saveCredentials(host, creds, opts);
  return { status: "Login Succeeded" };
}
