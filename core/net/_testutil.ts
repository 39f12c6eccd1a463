/**
 * Test helpers: throwaway named network namespaces (`ip netns add
 * berth-test-…`) and command runners. Cleanup is the caller's `finally`.
 * @module
 */

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

export async function sh(cmd: string[], stdin?: string): Promise<Out> {
  const p = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await p.output();
  const d = new TextDecoder();
  return { code: o.code, stdout: d.decode(o.stdout), stderr: d.decode(o.stderr) };
}

/** Run and throw with stderr on failure. */
export async function must(cmd: string[], stdin?: string): Promise<string> {
  const o = await sh(cmd, stdin);
  if (o.code !== 0) throw new Error(`${cmd.join(" ")}: ${o.stderr.trim()}`);
  return o.stdout;
}

export function rand(n = 6): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, n);
}

/** A named netns with lo up; returns its name and path. */
export async function newNetns(): Promise<{ name: string; path: string }> {
  const name = `berth-test-${rand()}`;
  await must(["ip", "netns", "add", name]);
  await must(["ip", "-n", name, "link", "set", "lo", "up"]);
  return { name, path: `/run/netns/${name}` };
}

export async function delNetns(name: string): Promise<void> {
  await sh(["ip", "netns", "del", name]);
}

/** `ip netns exec NAME cmd…` */
export function inNs(name: string, cmd: string[]): Promise<Out> {
  return sh(["ip", "netns", "exec", name, ...cmd]);
}
