/**
 * `run`, `create`, `start`, `attach`: create the container (pulling a
 * missing image), attach before start so no output is lost, wait, and map
 * failures to docker's exit codes (125 daemon error, 126 cannot invoke,
 * 127 not found, else the container's code).
 * @module
 */
import { command, type Globals, out, parse, requireArgs } from "../cli.ts";
import { ApiError } from "../api.ts";
import { containerFlags, createBody } from "./containers_opts.ts";
import type {
  ContainerCreateRequest,
  ContainerJSON,
  IdResponse,
  JSONMessage,
} from "../../../core/api/types.ts";
import {
  parseDetachKeys,
  printErr,
  proxySignals,
  runStream,
  termSize,
  watchResize,
} from "./containers_stream.ts";
import { peerGone } from "../../../core/errdefs/ignore.ts";

/** docker's exit code for a failed start, from the error text. */
export function startFailureCode(msg: string): number {
  if (/executable file not found|no such file or directory/i.test(msg)) return 127;
  if (/permission denied|is a directory|cannot execute/i.test(msg)) return 126;
  return 125;
}

function withTag(ref: string): string {
  const last = ref.slice(ref.lastIndexOf("/") + 1);
  return last.includes(":") || ref.includes("@") ? ref : `${ref}:latest`;
}

async function pull(g: Globals, ref: string, quiet: boolean): Promise<void> {
  const full = withTag(ref);
  const at = full.lastIndexOf(":");
  const res = await g.api().request("POST", "/images/create", {
    query: { fromImage: full.slice(0, at), tag: full.slice(at + 1) },
  });
  for await (const m of g.api().jsonLines<JSONMessage>(res)) {
    if (m.errorDetail || m.error) throw new Error(m.error ?? m.errorDetail?.message);
    if (!quiet && m.status) printErr(`${m.id ? m.id + ": " : ""}${m.status}\n`);
  }
}

/** POST /containers/create, pulling once on "No such image". */
export async function createContainer(
  g: Globals,
  body: ContainerCreateRequest,
  name: string | undefined,
  o: { pull?: string; quiet?: boolean },
): Promise<string> {
  const doCreate = () =>
    g.api().json<IdResponse>("POST", "/containers/create", {
      query: { name },
      body,
    });
  if (o.pull === "always") await pull(g, body.Image, !!o.quiet);
  try {
    const r = await doCreate();
    for (const w of r.Warnings ?? []) printErr(`WARNING: ${w}\n`);
    return r.Id;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || !/^No such image/.test(e.message)) throw e;
    if (o.pull === "never") throw e;
    printErr(`Unable to find image '${withTag(body.Image)}' locally\n`);
    await pull(g, body.Image, !!o.quiet);
    return (await doCreate()).Id;
  }
}

function daemonError(cmd: string, e: unknown, code = 125): number {
  const msg = e instanceof ApiError
    ? `Error response from daemon: ${e.message}`
    : (e as Error).message;
  printErr(`berth: ${msg}\n\nRun 'berth ${cmd} --help' for more information\n`);
  return code;
}

/** Attach (hijacked), wait, start, stream; returns the exit code. */
async function attachAndStart(
  g: Globals,
  id: string,
  o: {
    tty: boolean;
    stdin: boolean;
    stdout: boolean;
    stderr: boolean;
    detachKeys?: string;
    waitCondition: string;
    sigProxy: boolean;
    start: boolean;
    cmdName: string;
  },
): Promise<number> {
  const api = g.api();
  const { conn, head } = await api.hijack("POST", `/containers/${id}/attach`, {
    query: {
      stream: true,
      stdin: o.stdin,
      stdout: o.stdout,
      stderr: o.stderr,
      detachKeys: o.detachKeys,
    },
  });
  const wait = await api.request("POST", `/containers/${id}/wait`, {
    query: { condition: o.waitCondition },
  });
  if (o.start) {
    try {
      await api.call("POST", `/containers/${id}/start`);
    } catch (e) {
      conn.close();
      await wait.body?.cancel().catch(peerGone);
      const msg = e instanceof ApiError ? e.message : (e as Error).message;
      return daemonError(o.cmdName, e, startFailureCode(msg));
    }
  }
  const unResize = o.tty
    ? watchResize((h, w) => api.call("POST", `/containers/${id}/resize`, { query: { h, w } }))
    : () => {};
  const unSig = o.sigProxy && !o.tty
    ? proxySignals((sig) => api.call("POST", `/containers/${id}/kill`, { query: { signal: sig } }))
    : () => {};
  let detached = false;
  try {
    detached = (await runStream(conn, head, {
      tty: o.tty,
      stdin: o.stdin,
      detachKeys: parseDetachKeys(o.detachKeys),
    })).detached;
  } finally {
    unResize();
    unSig();
  }
  if (detached) {
    await wait.body?.cancel().catch(peerGone);
    return 0;
  }
  const text = await wait.text();
  try {
    const w = JSON.parse(text);
    if (w.Error?.Message) printErr(`${w.Error.Message}\n`);
    return Number(w.StatusCode ?? 0);
  } catch {
    return 125;
  }
}

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const create = name === "create";
  const c = containerFlags(
    command(
      name,
      "[OPTIONS] IMAGE [COMMAND] [ARG...]",
      create ? "Create a new container" : "Create and run a new container from an image",
      {
        interspersed: false,
      },
    ),
  );
  if (!create) {
    c.option("-d, --detach", "Run container in background and print container ID")
      .option("--detach-keys <string>", "Override the key sequence for detaching a container")
      .option("--sig-proxy [bool]", "Proxy received signals to the process", "true");
  }
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] IMAGE [COMMAND] [ARG...]", 1);
  const [image, ...cmd] = pos;
  const tty = opts.tty ? termSize() : undefined;
  if (opts.tty && opts.interactive && !Deno.stdin.isTerminal() && !create) {
    printErr("the input device is not a TTY\n");
    return 1;
  }
  let body: ContainerCreateRequest;
  try {
    body = createBody(opts, image, cmd, tty);
  } catch (e) {
    printErr(`invalid argument: ${(e as Error).message}\nSee 'berth ${name} --help'.\n`);
    return 125;
  }
  let id: string;
  try {
    id = await createContainer(g, body, opts.name, { pull: opts.pull, quiet: opts.quiet });
  } catch (e) {
    return daemonError(name, e);
  }
  if (opts.cidfile) await Deno.writeTextFile(opts.cidfile, id);
  if (create) {
    out(`${id}\n`);
    return 0;
  }
  if (opts.detach) {
    try {
      await g.api().call("POST", `/containers/${id}/start`);
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : (e as Error).message;
      return daemonError(name, e, startFailureCode(msg));
    }
    out(`${id}\n`);
    return 0;
  }
  return await attachAndStart(g, id, {
    tty: !!opts.tty,
    stdin: body.AttachStdin,
    stdout: body.AttachStdout,
    stderr: body.AttachStderr,
    detachKeys: opts.detachKeys,
    waitCondition: opts.rm ? "removed" : "next-exit",
    sigProxy: opts.sigProxy !== "false",
    start: true,
    cmdName: name,
  });
}

export async function start(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Start one or more stopped containers",
  )
    .option("-a, --attach", "Attach STDOUT/STDERR and forward signals")
    .option("--detach-keys <string>", "Override the key sequence for detaching a container")
    .option("-i, --interactive", "Attach container's STDIN");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER [CONTAINER...]", 1);
  if (opts.attach || opts.interactive) {
    if (pos.length > 1) {
      printErr("Error: you cannot start and attach multiple containers at once\n");
      return 1;
    }
    const info = await g.api().json<ContainerJSON>("GET", `/containers/${pos[0]}/json`);
    return await attachAndStart(g, info.Id, {
      tty: !!info.Config.Tty,
      stdin: !!opts.interactive && !!info.Config.OpenStdin,
      stdout: true,
      stderr: true,
      detachKeys: opts.detachKeys,
      waitCondition: "next-exit",
      sigProxy: true,
      start: true,
      cmdName: name,
    });
  }
  let code = 0;
  for (const ref of pos) {
    try {
      await g.api().call("POST", `/containers/${ref}/start`);
      out(`${ref}\n`);
    } catch (e) {
      printErr(`Error response from daemon: ${(e as Error).message}\n`);
      code = 1;
    }
  }
  if (code) printErr(`Error: failed to start containers: ${pos.join(", ")}\n`);
  return code;
}

export async function attach(name: string, args: string[], g: Globals): Promise<number> {
  const c = command(
    name,
    "[OPTIONS] CONTAINER",
    "Attach local standard input, output, and error streams to a running container",
  )
    .option("--detach-keys <string>", "Override the key sequence for detaching a container")
    .option("--no-stdin", "Do not attach STDIN")
    .option("--sig-proxy [bool]", "Proxy all received signals to the process", "true");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, "[OPTIONS] CONTAINER", 1, 1);
  const info = await g.api().json<ContainerJSON>("GET", `/containers/${pos[0]}/json`);
  if (!info.State.Running) {
    printErr("You cannot attach to a stopped container, start it first\n");
    return 1;
  }
  if (info.State.Paused) {
    printErr("You cannot attach to a paused container, unpause it first\n");
    return 1;
  }
  const stdin = opts.stdin !== false && !!info.Config.OpenStdin;
  return await attachAndStart(g, info.Id, {
    tty: !!info.Config.Tty,
    stdin,
    stdout: true,
    stderr: true,
    detachKeys: opts.detachKeys,
    waitCondition: "next-exit",
    sigProxy: opts.sigProxy !== "false",
    start: false,
    cmdName: name,
  });
}
