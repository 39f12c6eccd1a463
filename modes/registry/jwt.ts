/**
 * Minimal HS256 JSON Web Tokens for the registry's token realm (the key is
 * random per process unless given). Only what `auth.ts` needs: sign, verify
 * signature and expiry.
 *
 * @example
 * ```ts
 * import { signJwt, verifyJwt } from "./jwt.ts";
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const t = signJwt({ sub: "u", exp: Math.floor(Date.now() / 1000) + 60 }, key);
 * console.assert(verifyJwt(t, key)?.sub === "u");
 * ```
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

export interface Claims {
  iss?: string;
  sub?: string;
  aud?: string;
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [k: string]: unknown;
}

function b64url(data: string | Uint8Array): string {
  return Buffer.from(data).toString("base64url");
}

const HEADER = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

function mac(input: string, key: Uint8Array): Buffer {
  return createHmac("sha256", key).update(input).digest();
}

export function signJwt(claims: Claims, key: Uint8Array): string {
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${mac(body, key).toString("base64url")}`;
}

/** Claims of a valid, unexpired token, else null. */
export function verifyJwt(token: string, key: Uint8Array, now = Date.now() / 1000): Claims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== HEADER) return null;
  const want = mac(`${parts[0]}.${parts[1]}`, key);
  let got: Buffer;
  try {
    got = Buffer.from(parts[2], "base64url");
  } catch {
    return null;
  }
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  let claims: Claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims.exp === "number" && now >= claims.exp) return null;
  if (typeof claims.nbf === "number" && now + 60 < claims.nbf) return null;
  return claims;
}
