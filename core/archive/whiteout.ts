/**
 * OCI / AUFS whiteout names and overlayfs markers, shared by apply and diff.
 *
 * @example
 * ```ts
 * import { WH_PREFIX, OPAQUE } from "./whiteout.ts";
 * console.assert(`${WH_PREFIX}foo` === ".wh.foo" && OPAQUE === ".wh..wh..opq");
 * ```
 * @module
 */

/** `.wh.NAME` hides NAME of lower layers. */
export const WH_PREFIX = ".wh.";
/** `.wh..wh.*` names are AUFS metadata; all but the opaque marker are ignored. */
export const WH_META_PREFIX = ".wh..wh.";
/** `DIR/.wh..wh..opq` hides everything below DIR from lower layers. */
export const OPAQUE = ".wh..wh..opq";
/** The overlayfs xattr that marks an opaque directory (value "y"). */
export const OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";

/** overlayfs' own bookkeeping xattrs: never copied from or into tars. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.");
}
