/**
 * Engine API: `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`
 * with a container Config (or nothing) as the body → 201 `{"Id"}`
 * (containers/commit.ts).
 * @module
 */
import type { ApiRouter } from "../server.ts";
import { commitContainer } from "../containers/commit.ts";
import { cmpVersion } from "../api_version.ts";
import { readBody } from "../api/body.ts";
import { CommitConfig } from "../../../core/api/containers.ts";

export function register(r: ApiRouter): void {
  r.add("POST", "/commit", async (ctx) => {
    const body = await readBody(ctx, CommitConfig, { empty: "optional" });
    const q = ctx.query;
    // moby: pause defaults to true from API 1.13 on
    const pause = q.get("pause") === null || q.get("pause") === ""
      ? cmpVersion(ctx.apiVersion, "1.13") >= 0
      : ctx.flag("pause");
    const id = await commitContainer(ctx.daemon, {
      container: q.get("container") ?? "",
      repo: q.get("repo") ?? "",
      tag: q.get("tag") ?? "",
      comment: q.get("comment") ?? "",
      author: q.get("author") ?? "",
      pause,
      changes: q.getAll("changes"),
      // Go decodes into a wrapper embedding *Config: no Config field set, no Config
      config: Object.keys(body).some((k) => !/^(hostconfig|networkingconfig)$/i.test(k))
        ? body
        : null,
    });
    ctx.send(201, { Id: id });
  });
}
