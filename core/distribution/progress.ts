/**
 * Progress events of pull and push, shaped like Docker's JSON progress
 * messages so the daemon can forward them as they are
 * (`{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"abc"}`).
 *
 * Pull, per layer (id = 12 hex of the layer digest): "Pulling fs layer",
 * "Waiting", "Downloading" (with progressDetail), "Verifying Checksum",
 * "Download complete", "Extracting" (when an unpack hook runs), "Pull complete";
 * or "Already exists". Without id: "Pulling from <repo>" (id = tag),
 * "Digest: <digest>".
 * Push, per layer: "Preparing", "Waiting", "Pushing" (with progressDetail),
 * "Pushed", "Layer already exists", "Mounted from <repo>".
 * @module
 */

export interface ProgressEvent {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
}

export type ProgressFn = (e: ProgressEvent) => void;

/** 12-hex short id of a digest, as Docker shows layers. */
export function progressId(digest: string): string {
  return digest.slice(digest.indexOf(":") + 1, digest.indexOf(":") + 13);
}

/** Count bytes through a stream, reporting at most every `everyMs`. */
export function countingStream(
  onBytes: (n: number) => void,
  everyMs = 100,
): TransformStream<Uint8Array, Uint8Array> {
  let n = 0;
  let last = 0;
  return new TransformStream({
    transform(chunk, ctl) {
      n += chunk.length;
      const now = Date.now();
      if (now - last >= everyMs) {
        last = now;
        onBytes(n);
      }
      ctl.enqueue(chunk);
    },
    flush() {
      onBytes(n);
    },
  });
}
