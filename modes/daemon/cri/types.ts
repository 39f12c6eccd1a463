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
/**
 * A server-streaming gRPC method: `send` each response; resolve when done
 * (`signal` aborts when the client goes), reject to end the call with an error.
 */
export type ServerStream = (
  req: Msg,
  send: (m: Msg) => void,
  signal: AbortSignal,
) => Promise<void>;
