/**
 * `berth commit [-a] [-m] [-c]... [-p] CONTAINER [REPOSITORY[:TAG]]` (docker
 * commit): prints the new image's ID.
 * @module
 */
import { collect, command, type Globals, parse, requireArgs } from "../cli.ts";
import { parseNormalizedNamed } from "../../../core/oci/reference.ts";

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const usage = "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]";
  const c = command(name, usage, "Create a new image from a container's changes")
    .option("-a, --author <string>", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
    .option("-c, --change <list>", "Apply Dockerfile instruction to the created image", collect)
    .option("-m, --message <string>", "Commit message")
    .option("-p, --pause", "Pause container during commit (default true)");
  const { opts, args: pos } = parse(c, args, name);
  requireArgs(pos, name, usage, 1, 2);
  let repo = "", tag = "";
  if (pos[1]) {
    let ref;
    try {
      ref = parseNormalizedNamed(pos[1]);
    } catch (e) {
      console.error((e as Error).message);
      return 1;
    }
    if (ref.digest) {
      console.error("refusing to create a tag with a digest reference");
      return 1;
    }
    const i = pos[1].lastIndexOf(":");
    const hasTag = i > pos[1].lastIndexOf("/");
    repo = hasTag ? pos[1].slice(0, i) : pos[1];
    tag = hasTag ? pos[1].slice(i + 1) : "";
  }
  const pause = opts.pause !== false;
  const res = await g.api().json<{ Id: string }>("POST", "/commit", {
    query: {
      container: pos[0],
      repo: repo || undefined,
      tag: tag || undefined,
      comment: opts.message,
      author: opts.author,
      pause: pause ? "1" : "0",
      changes: opts.change ?? [],
    },
    body: null,
  });
  console.log(res.Id);
  return 0;
}
