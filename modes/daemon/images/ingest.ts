/**
 * Store a blob and, at the same time, unpack it as a layer from the same
 * read (balanced tee): load and pull read each layer once. When the blob is
 * not a tar the unpack is dropped silently and only the blob is stored.
 * @module
 */
import type { BlobInfo } from "../../../core/store/content.ts";
import type { PreparedLayer } from "../../../core/store/layers.ts";
import { balancedTee } from "../../../core/store/tee.ts";
import type { ImageStores } from "./service.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

export async function ingestUnpacking(
  s: ImageStores,
  body: ReadableStream<Uint8Array>,
  expected: { digest?: string; size?: number },
): Promise<{ info: BlobInfo; prepared?: PreparedLayer }> {
  const [toStore, toUnpack] = balancedTee(body);
  const unpacking = s.layers.unpackTemp(toUnpack).catch(async () => {
    await toUnpack.cancel().catch(peerGone);
    return undefined;
  });
  let info: BlobInfo;
  try {
    info = await s.content.ingest(toStore, expected);
  } catch (e) {
    const p = await unpacking;
    if (p) await s.layers.discard(p);
    throw e;
  }
  return { info, prepared: await unpacking };
}
