/**
 * Byte helpers shared by parts that must stay small (client, shim, routes).
 * @module
 */

/** One array holding `parts` one after the other (a single part is returned as is). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
