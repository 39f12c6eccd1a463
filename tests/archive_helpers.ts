/**
 * Helpers for the `docker cp` tests: the X-Docker-Container-Path-Stat header
 * of a HEAD request on a daemon's unix socket.
 * @module
 */

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** HEAD /containers/{id}/archive?path=…: the status and the decoded stat header. */
export async function statHeader(
  socket: string,
  ctr: string,
  path: string,
): Promise<{ status: number; stat?: PathStat }> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  try {
    const res = await fetch(
      `http://d/containers/${ctr}/archive?path=${encodeURIComponent(path)}`,
      { method: "HEAD", client },
    );
    await res.body?.cancel();
    const h = res.headers.get("X-Docker-Container-Path-Stat");
    if (!h) return { status: res.status };
    const bytes = Uint8Array.from(atob(h), (c) => c.charCodeAt(0));
    return { status: res.status, stat: JSON.parse(new TextDecoder().decode(bytes)) };
  } finally {
    client.close();
  }
}
