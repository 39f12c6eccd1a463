/**
 * `exec`: create an exec instance, start it hijacked (or detached), resize
 * the tty, then exit with the exec's ExitCode from `GET /exec/{id}/json`.
 * @module
 */
import { collect, command, type Globals, out, parse, requireArgs } from "../cli.ts";
import { ApiError } from "../api.ts";
import {
  parseDetachKeys,
  printErr,
  runStream,
  termSize,
  watchResize,
} from "./containers_stream.ts";

import type { ExecConfig, ExecInspect, IdResponse, Wire } from "../../../core/api/types.ts";

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "Execute a command in a running container",
    {
      interspersed: false,
    },
  )
    .option("-d, --detach", "Detached mode: run command in the background")
    .option("--detach-keys <string>", "Override the key sequence for detaching a container")
    .option("-e, --env <list>", "Set environment variables", collect)
    .option("--env-file <file>", "Read in a file of environment variables", collect)
    .option("-i, --interactive", "Keep STDIN open even if not attached")
    .option("--privileged", "Give extended privileges to the command")
    .option("-t, --tty", "Allocate a pseudo-TTY")
    .option("-u, --user <string>", 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option("-w, --workdir <string>", "Working directory inside the container");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER COMMAND [ARG...]", 2);
  const [ref, ...cmd] = pos;
  if (opts.tty && opts.interactive && !Deno.stdin.isTerminal()) {
    printErr("the input device is not a TTY\n");
    return 1;
  }
  const env: string[] = [];
  for (const f of opts.envFile ?? []) {
    for (const l of Deno.readTextFileSync(f).split(/\r?\n/)) {
      if (l.trim() && !l.trimStart().startsWith("#")) {
        env.push(l.includes("=") ? l : `${l}=${Deno.env.get(l) ?? ""}`);
      }
    }
  }
  for (const e of opts.env ?? []) {
    if (e.includes("=")) env.push(e);
    else if (Deno.env.get(e) !== undefined) env.push(`${e}=${Deno.env.get(e)}`);
  }
  const tty = opts.tty ? termSize() : undefined;
  const api = g.api();
  let id: string;
  try {
    const body: Wire<ExecConfig> = {
      User: opts.user ?? "",
      Privileged: !!opts.privileged,
      Tty: !!opts.tty,
      ConsoleSize: tty ? [tty.rows, tty.columns] : null,
      AttachStdin: !!opts.interactive && !opts.detach,
      AttachStdout: !opts.detach,
      AttachStderr: !opts.detach,
      DetachKeys: opts.detachKeys ?? "",
      Env: env,
      WorkingDir: opts.workdir ?? "",
      Cmd: cmd,
    };
    const r = await api.json<IdResponse>("POST", `/containers/${ref}/exec`, { body });
    id = r.Id;
  } catch (e) {
    if (e instanceof ApiError) printErr(`Error response from daemon: ${e.message}\n`);
    else throw e;
    return 1;
  }
  if (opts.detach) {
    await api.call("POST", `/exec/${id}/start`, { body: { Detach: true, Tty: !!opts.tty } });
    return 0;
  }
  const { conn, head } = await api.hijack("POST", `/exec/${id}/start`, {
    body: { Detach: false, Tty: !!opts.tty, ConsoleSize: tty ? [tty.rows, tty.columns] : null },
  });
  const unResize = opts.tty
    ? watchResize((h, w) => api.call("POST", `/exec/${id}/resize`, { query: { h, w } }))
    : () => {};
  try {
    await runStream(conn, head, {
      tty: !!opts.tty,
      stdin: !!opts.interactive,
      detachKeys: parseDetachKeys(opts.detachKeys),
    });
  } finally {
    unResize();
  }
  const info = await api.json<ExecInspect>("GET", `/exec/${id}/json`);
  void out;
  return Number(info.ExitCode ?? 0);
}
