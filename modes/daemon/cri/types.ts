/**
 * The shapes the CRI's handlers share (./server.ts wires them into grpc-js;
 * ./runtime.ts and ./images.ts implement them): a message as the proto
 * loader gives it, and a unary method.
 * @module
 */

/** A proto message in JS: field names as in the .proto, int64 as number (./server.ts LOADER_OPTIONS). */
// deno-lint-ignore no-explicit-any
export type Msg = any;
/** A unary gRPC method: request message in, response message out (a throw is the call's error). */
export type Unary = (req: Msg) => Promise<Msg>;
