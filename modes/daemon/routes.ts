/**
 * The list of Engine API route groups. Each area registers its own file here
 * (one line each), explicitly — nothing registers itself at import.
 * @module
 */
import type { ApiRouter } from "./server.ts";
import { register as system } from "./routes/system.ts";
import { register as images } from "./routes/images.ts";
import { register as containers } from "./routes/containers.ts";
import { register as exec } from "./routes/exec.ts";
import { register as volumes } from "./routes/volumes.ts";
import { register as networks } from "./routes/networks.ts";
import { register as build } from "./routes/build.ts";
import { register as swarm } from "./routes/swarm.ts";
import { register as plugins } from "./routes/plugins.ts";
import { register as archive } from "./routes/archive.ts";
import { register as df } from "./routes/df.ts";
import { register as stats } from "./routes/stats.ts";
import { register as update } from "./routes/update.ts";
import { register as commit } from "./routes/commit.ts";
import { register as events } from "./routes/events.ts";

export function registerAll(r: ApiRouter): void {
  system(r);
  images(r);
  containers(r);
  exec(r);
  volumes(r);
  networks(r);
  build(r);
  swarm(r);
  plugins(r);
  archive(r);
  df(r);
  stats(r);
  update(r);
  commit(r);
  events(r);
}
