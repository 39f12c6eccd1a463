/**
 * htpasswd files with bcrypt entries (`user:$2y$…`), as written by
 * `htpasswd -B`. Successful checks are remembered (keyed by a hash of the
 * credentials) so that Basic auth on every request does not pay bcrypt each
 * time.
 *
 * @example
 * ```ts
 * import bcrypt from "bcryptjs";
 * import { Htpasswd } from "./htpasswd.ts";
 * const h = Htpasswd.parse(`alice:${bcrypt.hashSync("pw", 4)}\n`);
 * console.assert(await h.verify("alice", "pw"));
 * ```
 * @module
 */
import bcrypt from "bcryptjs";
import { createHash } from "node:crypto";
import { InvalidArgument } from "../../core/errdefs/mod.ts";

export class Htpasswd {
  #entries: Map<string, string>;
  #ok = new Set<string>();

  constructor(entries: Map<string, string>) {
    this.#entries = entries;
  }

  static parse(text: string): Htpasswd {
    const entries = new Map<string, string>();
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const i = line.indexOf(":");
      if (i <= 0) throw new InvalidArgument(`htpasswd: malformed line: ${line.slice(0, 40)}`);
      const hash = line.slice(i + 1);
      if (!/^\$2[aby]\$\d\d\$/.test(hash)) {
        throw new InvalidArgument(
          `htpasswd: user ${line.slice(0, i)}: only bcrypt entries are supported`,
        );
      }
      entries.set(line.slice(0, i), hash);
    }
    return new Htpasswd(entries);
  }

  static async load(path: string): Promise<Htpasswd> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new InvalidArgument(`cannot read htpasswd file ${path}: ${(e as Error).message}`);
    }
    return Htpasswd.parse(text);
  }

  get size(): number {
    return this.#entries.size;
  }

  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.#entries.get(user);
    if (!hash) return false;
    const key = createHash("sha256").update(`${user}\0${password}\0${hash}`).digest("hex");
    if (this.#ok.has(key)) return true;
    const ok = await bcrypt.compare(password, hash.replace(/^\$2y\$/, "$2a$"));
    if (ok) {
      if (this.#ok.size > 10000) this.#ok.clear();
      this.#ok.add(key);
    }
    return ok;
  }
}

/** Decode `Authorization: Basic …`; null if absent or malformed. */
export function parseBasic(header: string | null): { user: string; password: string } | null {
  if (!header || !/^basic\s/i.test(header)) return null;
  let text: string;
  try {
    text = atob(header.slice(6).trim());
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const decoded = new TextDecoder().decode(bytes);
  const i = decoded.indexOf(":");
  if (i < 0) return null;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
