/**
 * Registry client: resolve, pull, push, login, credentials.
 *
 * - `pull(ref, { sink, auth, platform, concurrency, onProgress, unpack })`
 * - `push(ref, { source, manifestDigest, auth, onProgress, mountFrom })`
 * - `login(host, creds, { save })`, `getCredentials`, `saveCredentials`, `removeCredentials`
 * - `RegistryClient` for single API calls; `BlobSink`/`BlobSource` are the local store seam.
 *
 * @example
 * ```ts
 * import { MemoryStore, pull } from "./mod.ts";
 * const sink = new MemoryStore();
 * // const r = await pull("localhost:5000/busybox", { sink });
 * ```
 * @module
 */
export type { BlobSink, BlobSource } from "./store.ts";
export { MemoryStore } from "./memory_store.ts";
export { type ProgressEvent, type ProgressFn, progressId } from "./progress.ts";
export {
  type ClientOptions,
  type FetchedManifest,
  MANIFEST_ACCEPT,
  manifestMediaType,
  RegistryClient,
} from "./client.ts";
export { pull, type PullOptions, type PullResult } from "./pull.ts";
export { push, type PushOptions, type PushResult } from "./push.ts";
export { login, type LoginOptions } from "./login.ts";
export { uploadBlob, type UploadOptions, type UploadResult } from "./upload.ts";
export {
  configDir,
  credentialKey,
  type CredentialOptions,
  type Credentials,
  DOCKER_HUB_KEY,
  getCredentials,
  removeCredentials,
  saveCredentials,
} from "./credentials.ts";
export {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  type PlatformSpec,
  selectManifest,
} from "./platform.ts";
export {
  endpointHost,
  isInsecure,
  isLoopback,
  Transport,
  type TransportOptions,
} from "./transport.ts";
