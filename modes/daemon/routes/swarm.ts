/**
 * Engine API: swarm, services, nodes, tasks, secrets, configs. berth is a
 * node outside any swarm, and answers these as dockerd does on such a node
 * (moby v20.10.24 daemon/cluster/helpers.go errNoManager, errors.go errNoSwarm):
 * 503 "not a swarm manager" for the manager endpoints, 503 "not part of a
 * swarm" for leave. Joining or creating a swarm is not supported.
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { Unavailable } from "../../../core/errdefs/mod.ts";

/** errNoManager for a node with no swarm (moby daemon/cluster/helpers.go). */
export const NOT_MANAGER =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** errNoSwarm (moby daemon/cluster/errors.go). */
export const NO_SWARM = "This node is not part of a swarm";

const MANAGER_ROUTES: [string, string][] = [
  ["GET", "/swarm"],
  ["GET", "/swarm/unlockkey"],
  ["POST", "/swarm/update"],
  ["GET", "/services"],
  ["GET", "/services/{id}"],
  ["POST", "/services/create"],
  ["POST", "/services/{id}/update"],
  ["DELETE", "/services/{id}"],
  ["GET", "/services/{id}/logs"],
  ["GET", "/nodes"],
  ["GET", "/nodes/{id}"],
  ["DELETE", "/nodes/{id}"],
  ["POST", "/nodes/{id}/update"],
  ["GET", "/tasks"],
  ["GET", "/tasks/{id}"],
  ["GET", "/tasks/{id}/logs"],
  ["GET", "/secrets"],
  ["POST", "/secrets/create"],
  ["GET", "/secrets/{id}"],
  ["DELETE", "/secrets/{id}"],
  ["POST", "/secrets/{id}/update"],
  ["GET", "/configs"],
  ["POST", "/configs/create"],
  ["GET", "/configs/{id}"],
  ["DELETE", "/configs/{id}"],
  ["POST", "/configs/{id}/update"],
];

export function register(r: ApiRouter): void {
  for (const [method, path] of MANAGER_ROUTES) {
    r.add(method, path, () => {
      throw new Unavailable(NOT_MANAGER);
    });
  }
  r.add("POST", "/swarm/leave", () => {
    throw new Unavailable(NO_SWARM);
  });
  r.add("POST", "/swarm/unlock", () => {
    throw new Unavailable(NOT_MANAGER);
  });
  for (const path of ["/swarm/init", "/swarm/join"]) {
    r.add("POST", path, () => {
      throw new Unavailable("berth does not support swarm mode");
    });
  }
}
