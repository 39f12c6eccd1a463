/**
 * Typed decoding of Engine API bodies with Go's encoding/json rules, as
 * dockerd decodes them into its Go structs:
 * - struct field names match exactly first, then case-insensitively;
 *   unknown fields are ignored; a repeated key decodes again into the field;
 * - `null` is the same as absent (a nil slice, map or pointer; no-op otherwise);
 * - a value of the wrong type is an error worded as Go words it
 *   (`json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64`):
 *   the first one in the document is reported, except that an error inside a
 *   custom decoder (Docker's StrSlice) ends decoding at once, as in Go;
 * - integers must be integer literals within their Go type's range.
 *
 * One departure: integers beyond ±2^53 are refused, since JavaScript cannot
 * store them exactly and a rounded value would break clients reading it back.
 *
 * A schema is also a TypeScript type: `Infer<typeof HostConfig>` is the decoded
 * shape (every struct field optional, as Go's zero values are).
 *
 * @example
 * ```ts
 * import { decodeBody, int64, str, struct, type Infer } from "./schema.ts";
 * const Body = struct("Example", { Name: str(), Size: int64() });
 * type Body = Infer<typeof Body>; // { Name?: string; Size?: number }
 * const b = decodeBody(Body, '{"name":"x","size":null}'); // { Name: "x" }
 * ```
 * @module
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import {
  JsonNumber,
  JsonObject,
  JsonSyntaxError,
  type JsonValue,
  parseGoJson,
  setOwn,
  toPlain,
} from "./json.ts";

/** Decoding state: Go's errorContext (innermost struct, field path) and the first saved error. */
export class DecodeState {
  struct = "";
  fields: string[] = [];
  saved: string | undefined;

  /** Go's UnmarshalTypeError text for the current position. */
  typeError(value: string, goType: string): string {
    if (this.struct || this.fields.length) {
      return `json: cannot unmarshal ${value} into Go struct field ${this.struct}.${
        this.fields.join(".")
      } of type ${goType}`;
    }
    return `json: cannot unmarshal ${value} into Go value of type ${goType}`;
  }

  /** Keep the first error and go on, as Go's decoder does (d.saveError). */
  save(value: string, goType: string): undefined {
    this.saved ??= this.typeError(value, goType);
    return undefined;
  }
}

/** An error that stops decoding at once (from a custom unmarshaler in Go). */
class Fatal extends Error {}

export interface Schema<T> {
  /** Go's name of the type, for error messages (`int64`, `[]string`, `container.HostConfig`). */
  readonly goType: string;
  /** Go's zero value, for array elements given as null. */
  zero(): T;
  /**
   * Decode `v` (never null: the caller handles null). `prev` is the value the
   * field already had (a repeated key): structs and maps decode into it.
   * Returns undefined after saving a type error.
   */
  decode(v: Exclude<JsonValue, null>, st: DecodeState, prev?: T): T | undefined;
}

/** The TypeScript type a schema decodes to. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** What kind of JSON value Go names in an UnmarshalTypeError. */
function kindOf(v: Exclude<JsonValue, null>): string {
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (v instanceof JsonNumber) return "number";
  if (v instanceof JsonObject) return "object";
  return "array";
}

/** A Go string type (`string`, or a named one such as `container.NetworkMode`). */
export function str(goType = "string"): Schema<string> {
  return {
    goType,
    zero: () => "",
    decode: (v, st) => typeof v === "string" ? v : st.save(kindOf(v), goType),
  };
}

export function bool(goType = "bool"): Schema<boolean> {
  return {
    goType,
    zero: () => false,
    decode: (v, st) => typeof v === "boolean" ? v : st.save(kindOf(v), goType),
  };
}

function integer(goType: string, min: bigint, max: bigint): Schema<number> {
  return {
    goType,
    zero: () => 0,
    decode(v, st) {
      if (!(v instanceof JsonNumber)) return st.save(kindOf(v), goType);
      if (!/^-?\d+$/.test(v.text)) return st.save(`number ${v.text}`, goType);
      const n = BigInt(v.text);
      if (n < min || n > max) return st.save(`number ${v.text}`, goType);
      if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        st.saved ??= `${
          st.typeError(`number ${v.text}`, goType)
        }: berth stores integers up to ±2^53 exactly, this one is out of that range`;
        return undefined;
      }
      return Number(n);
    },
  };
}

const I64 = 1n << 63n;
export const int64 = (goType = "int64") => integer(goType, -I64, I64 - 1n);
/** Go's `int` on a 64-bit platform. */
export const int = (goType = "int") => integer(goType, -I64, I64 - 1n);
export const uint64 = (goType = "uint64") => integer(goType, 0n, (1n << 64n) - 1n);
export const uint = (goType = "uint") => integer(goType, 0n, (1n << 64n) - 1n);
export const uint32 = (goType = "uint32") => integer(goType, 0n, (1n << 32n) - 1n);
export const uint16 = (goType = "uint16") => integer(goType, 0n, (1n << 16n) - 1n);

export function float64(goType = "float64"): Schema<number> {
  return {
    goType,
    zero: () => 0,
    decode(v, st) {
      if (!(v instanceof JsonNumber)) return st.save(kindOf(v), goType);
      const n = v.value;
      return Number.isFinite(n) ? n : st.save(`number ${v.text}`, goType);
    },
  };
}

/** A Go slice: null elements take the element's zero value. */
export function slice<T>(elem: Schema<T>, goType = `[]${elem.goType}`): Schema<T[]> {
  return {
    goType,
    zero: () => [],
    decode(v, st) {
      if (!Array.isArray(v)) return st.save(kindOf(v), goType);
      const out: T[] = [];
      for (const x of v) out.push(x === null ? elem.zero() : elem.decode(x, st) ?? elem.zero());
      return out;
    },
  };
}

/** A Go array `[n]T`: extra elements are ignored, missing ones are zero. */
export function array<T>(elem: Schema<T>, n: number, goType = `[${n}]${elem.goType}`): Schema<T[]> {
  return {
    goType,
    zero: () => Array.from({ length: n }, () => elem.zero()),
    decode(v, st) {
      if (!Array.isArray(v)) return st.save(kindOf(v), goType);
      return Array.from(
        { length: n },
        (_, i) =>
          v[i] === undefined || v[i] === null ? elem.zero() : elem.decode(v[i], st) ?? elem.zero(),
      );
    },
  };
}

/** A Go `map[string]T` (keys of a string kind); decodes into the map a repeated key left. */
export function map<T>(
  value: Schema<T>,
  goType = `map[string]${value.goType}`,
): Schema<Record<string, T>> {
  return {
    goType,
    zero: () => ({}),
    decode(v, st, prev) {
      if (!(v instanceof JsonObject)) return st.save(kindOf(v), goType);
      const out: Record<string, T> = prev ?? {};
      for (const [k, x] of v.entries) {
        // Go sets the zero value for a null element of a map
        // the previous value only if it is the map's own: "__proto__" must never name the
        // prototype (Deno removes that accessor; other runtimes have it)
        const prev = Object.hasOwn(out, k) ? out[k] : undefined;
        const d = x === null ? value.zero() : value.decode(x, st, prev);
        setOwn(out, k, d ?? value.zero());
      }
      return out;
    },
  };
}

/** Go's `interface{}`: any JSON, as plain JavaScript values. */
export function any(goType = "interface {}"): Schema<unknown> {
  return { goType, zero: () => null, decode: (v) => toPlain(v) };
}

/** A Go pointer `*T`: its zero value (an array or map element given as null) is null. */
export function ptr<T>(elem: Schema<T>, goType = `*${elem.goType}`): Schema<T | null> {
  return {
    goType,
    zero: () => null,
    decode: (v, st, prev) => elem.decode(v, st, prev ?? undefined),
  };
}

/** Docker's strslice.StrSlice: a list of strings or one string; its errors stop decoding. */
export function strSlice(): Schema<string[]> {
  return {
    goType: "strslice.StrSlice",
    zero: () => [],
    decode(v) {
      if (typeof v === "string") return [v];
      if (Array.isArray(v) && v.every((x) => x === null || typeof x === "string")) {
        return v.map((x) => x ?? "");
      }
      // Go tries []string, then string, and returns the second error as is.
      throw new Fatal(`json: cannot unmarshal ${kindOf(v)} into Go value of type string`);
    },
  };
}

/** Go's `struct{}`: any object, its members ignored. */
export function emptyStruct(goType = "struct {}"): Schema<Record<string, never>> {
  return {
    goType,
    zero: () => ({}),
    decode: (v, st) => v instanceof JsonObject ? {} : st.save(kindOf(v), goType),
  };
}

type Fields = Record<string, Schema<unknown>>;
/** The decoded shape of a struct: every field optional (absent = Go's zero value). */
export type StructOf<F extends Fields> = { [K in keyof F]?: Infer<F[K]> };

/**
 * A Go struct. `name` is its Go type name as errors show it (`HostConfig`,
 * `ContainerConfigWrapper`), `pkg` its package (`container`) for the type in
 * messages. Keys of `fields` are the JSON names, in Go's field order.
 */
export function struct<F extends Fields>(
  name: string,
  fields: F,
  pkg = "",
): Schema<StructOf<F>> & { fields: F } {
  const goType = pkg ? `${pkg}.${name}` : name;
  const byName = new Map(Object.entries(fields));
  const byFold = new Map<string, string>();
  for (const k of Object.keys(fields)) {
    if (!byFold.has(k.toLowerCase())) byFold.set(k.toLowerCase(), k);
  }
  return {
    goType,
    fields,
    zero: () => ({}) as StructOf<F>,
    decode(v, st, prev) {
      if (!(v instanceof JsonObject)) return st.save(kindOf(v), goType);
      const out = (prev ?? {}) as Record<string, unknown>;
      for (const [k, x] of v.entries) {
        const key = byName.has(k) ? k : byFold.get(k.toLowerCase());
        if (key === undefined) continue; // unknown fields are ignored
        if (x === null) {
          delete out[key]; // nil pointer/slice/map, or a no-op: absent either way
          continue;
        }
        const saveStruct = st.struct, depth = st.fields.length;
        st.struct = name;
        st.fields.push(key);
        const d = byName.get(key)!.decode(x, st, out[key]);
        st.struct = saveStruct;
        st.fields.length = depth;
        if (d !== undefined) out[key] = d;
      }
      return out as StructOf<F>;
    },
  };
}

/** Decode a parsed tree against a schema; throws InvalidArgument with Go's words. */
export function decodeValue<T>(schema: Schema<T>, v: JsonValue): T | undefined {
  const st = new DecodeState();
  let out: T | undefined;
  try {
    out = v === null ? undefined : schema.decode(v, st);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    // Go adds the field context of where the custom decoder ran.
    const m = /^json: cannot unmarshal (\S+) into Go value of type (.+)$/.exec(e.message);
    throw new InvalidArgument(m ? st.typeError(m[1], m[2]) : e.message);
  }
  if (st.saved) throw new InvalidArgument(st.saved);
  return out;
}

/**
 * Decode JSON text (a request body, a query parameter) against a schema.
 * Syntax errors are InvalidArgument with Go's words; `null` gives undefined.
 */
export function decodeBody<T>(
  schema: Schema<T>,
  text: string,
  opts: { whole?: boolean } = {},
): T | undefined {
  let v: JsonValue;
  try {
    v = parseGoJson(text, opts);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new InvalidArgument(e.message);
    throw e;
  }
  return decodeValue(schema, v);
}
