/**
 * The CRI's gRPC server (runtime.v1 RuntimeService and ImageService), loaded
 * on the first connection to the CRI socket (./listen.ts). Methods not built
 * yet answer UNIMPLEMENTED.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { fromJSON } from "@grpc/proto-loader";
import { API_JSON } from "./proto/api_json.ts";
import { type BerthError, messageOf } from "../../../core/errdefs/mod.ts";
import { log, logFailure } from "../log.ts";
import type { Daemon } from "../daemon.ts";
import { runtimeHandlers } from "./runtime.ts";
import type { Msg, ServerStream, Unary } from "./types.ts";
import { CriImages } from "./images.ts";
import { CriPods } from "./pods.ts";
import { CriContainers } from "./containers.ts";
import { CriStats } from "./stats.ts";
import { CriStreaming } from "./stream/cri.ts";

/** How the proto's messages look in JS: field names as in the .proto, int64 as number. */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type { Msg, ServerStream, Unary } from "./types.ts";

interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

export function criPackage(): Record<string, Record<string, grpc.ServiceClientConstructor>> {
  const def = fromJSON(API_JSON as Parameters<typeof fromJSON>[0], LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: Record<string, grpc.ServiceClientConstructor> };
  };
  return { v1: pkg.runtime.v1 };
}

const CODES: Record<string, grpc.status> = {
  NotFound: grpc.status.NOT_FOUND,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  AlreadyExists: grpc.status.ALREADY_EXISTS,
  Conflict: grpc.status.FAILED_PRECONDITION,
  Unauthorized: grpc.status.UNAUTHENTICATED,
  Forbidden: grpc.status.PERMISSION_DENIED,
  Unavailable: grpc.status.UNAVAILABLE,
  DeadlineExceeded: grpc.status.DEADLINE_EXCEEDED,
  ResourceExhausted: grpc.status.RESOURCE_EXHAUSTED,
};

function toStatus(e: unknown): Partial<grpc.StatusObject> {
  const kind = (e as BerthError)?.kind;
  return { code: (kind && CODES[kind]) ?? grpc.status.UNKNOWN, details: messageOf(e) };
}

/** grpc-js handlers for a service: the given unary and server-streaming ones, UNIMPLEMENTED for the rest. */
function handlersFor(
  service: string,
  def: Record<string, MethodDef>,
  impl: Record<string, Unary>,
  streams: Record<string, ServerStream> = {},
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, m] of Object.entries(def)) {
    const st = streams[name];
    if (st && !m.requestStream && m.responseStream) {
      out[name] = ((call: grpc.ServerWritableStream<Msg, Msg>) => {
        const ac = new AbortController();
        call.on("cancelled", () => ac.abort());
        call.on("close", () => ac.abort());
        st(call.request, (r) => call.write(r), ac.signal).then(() => {
          if (!call.cancelled) call.end();
        }, (e) => {
          log.debug(`CRI ${service}.${name}: ${messageOf(e)}`);
          call.emit("error", toStatus(e));
        });
      }) as grpc.handleServerStreamingCall<Msg, Msg>;
      continue;
    }
    const fn = impl[name];
    if (fn && !m.requestStream && !m.responseStream) {
      out[name] = ((call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
        fn(call.request).then((r) => cb(null, r), (e) => {
          log.debug(`CRI ${service}.${name}: ${messageOf(e)}`);
          cb(toStatus(e));
        });
      }) as grpc.handleUnaryCall<Msg, Msg>;
      continue;
    }
    const err = {
      code: grpc.status.UNIMPLEMENTED,
      details: `berth does not implement runtime.v1.${service}/${name} yet`,
    };
    out[name] = m.responseStream
      ? ((call: grpc.ServerWritableStream<Msg, Msg>) => call.emit("error", err))
      : ((_call: unknown, cb: grpc.sendUnaryData<Msg>) => cb(err));
  }
  return out;
}

/** What ./listen.ts holds: grpc-js's connection injector, and the end of everything the CRI runs. */
export interface CriInjector {
  injectConnection(c: import("node:net").Socket): void;
  destroy(): void;
}

export async function createCriServer(s: Daemon): Promise<CriInjector> {
  const v1 = criPackage().v1;
  const pods = new CriPods(s);
  await pods.init();
  const images = new CriImages(s);
  const containers = new CriContainers(pods, images);
  await containers.init();
  const streaming = new CriStreaming(s.config, pods, containers);
  const server = new grpc.Server();
  const rt = v1.RuntimeService.service as unknown as Record<string, MethodDef>;
  const im = v1.ImageService.service as unknown as Record<string, MethodDef>;
  server.addService(
    v1.RuntimeService.service,
    handlersFor("RuntimeService", rt, {
      ...runtimeHandlers(s),
      ...pods.handlers(),
      ...containers.handlers(),
      ...new CriStats(pods, containers).handlers(),
      ...streaming.handlers(),
    }, containers.streams()),
  );
  server.addService(
    v1.ImageService.service,
    handlersFor("ImageService", im, images.handlers()),
  );
  const inj = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    injectConnection: (c) => inj.injectConnection(c),
    destroy: () => {
      inj.destroy();
      streaming.close().catch(logFailure("CRI: closing the streaming server"));
    },
  };
}
