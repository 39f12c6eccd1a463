/**
 * Tar streams for images and containers: safe, streaming layer apply (with
 * diffID), layer diffs from overlay upper dirs, directory packing, and tar
 * reading/writing for image archives. gzip/zstd by magic. Decisions and rules:
 * docs/archive.md.
 *
 * @example
 * ```ts ignore
 * import { applyLayer, diffFromUpper, compressStream } from "./mod.ts";
 * const { diffID } = await applyLayer(blob.readable, layerDir, { whiteouts: "overlay" });
 * const layer = compressStream(diffFromUpper(upperDir), "gzip");
 * ```
 * @module
 */
export { applyLayer, type ApplyOptions, type CopyOptions } from "./apply.ts";
export {
  type Compression,
  compressStream,
  decompressStream,
  detectCompression,
} from "./compress.ts";
export { diffFromUpper } from "./diff.ts";
export { type Filter, packDir, type PackOptions } from "./pack.ts";
export { type TarEntryType, type TarHeader, type TarHeaderInit } from "./tar_header.ts";
export { readTar } from "./tar_reader.ts";
export { type EntryOptions, type TarWriter, tarWriter } from "./tar_writer.ts";
export { OPAQUE, WH_META_PREFIX, WH_PREFIX } from "./whiteout.ts";
