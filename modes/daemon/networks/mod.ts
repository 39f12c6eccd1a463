/**
 * The daemon's network area: records and persistence (records.ts), shared
 * state (state.ts), container wiring (endpoints.ts), start-up recovery and
 * shutdown (recover.ts), the service behind /networks (service.ts), API
 * shapes (views.ts) and the area hooks (area.ts).
 * @module
 */
export { NetworkService } from "./service.ts";
export { startNetworks, stopNetworks } from "./area.ts";
export type { ContainerNet, EndpointState, NetworkRecord } from "./records.ts";
