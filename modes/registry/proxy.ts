import type { Upstream } from "./context.ts";
import type { Storage } from "./storage.ts";
export class ProxyUpstream implements Upstream {
  constructor(_s: Storage, _u: string, _a: { username?: string; password?: string }) {}
  manifest(): Promise<null> {
    return Promise.resolve(null);
  }
  blob(): Promise<null> {
    return Promise.resolve(null);
  }
  tags(): Promise<null> {
    return Promise.resolve(null);
  }
}
