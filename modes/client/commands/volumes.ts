/**
 * `volume create|ls|inspect|rm|prune`.
 * @module
 */
import {
  collect,
  command,
  filterFlag,
  filtersQuery,
  type Globals,
  kvMap,
  out,
  parse,
  requireArgs,
} from "../cli.ts";
import { ApiError } from "../api.ts";
import { humanSize, printFormatted, renderTemplate } from "../format.ts";

import type { PruneReport, Volume, VolumeCreate, VolumeList } from "../../../core/api/types.ts";

export async function run(name: string, args: string[], g: Globals): Promise<number> {
  const api = g.api();
  switch (name) {
    case "volume create": {
      const c = command(name, "[OPTIONS] [VOLUME]", "Create a volume")
        .option("-d, --driver <string>", "Specify volume driver name", "local")
        .option("--label <list>", "Set metadata for a volume", collect)
        .option("-o, --opt <map>", "Set driver specific options", collect)
        .option("--name <string>", "Specify volume name");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, "[OPTIONS] [VOLUME]", 0, 1);
      const body: VolumeCreate = {
        Name: pos[0] ?? opts.name ?? "",
        Driver: opts.driver,
        DriverOpts: kvMap(opts.opt),
        Labels: kvMap(opts.label),
      };
      const v = await api.json<Volume>("POST", "/volumes/create", { body });
      out(`${v.Name}\n`);
      return 0;
    }
    case "volume ls": {
      const c = command(name, "[OPTIONS]", "List volumes")
        .option("-f, --filter <filter>", 'Provide filter values (e.g. "dangling=true")', filterFlag)
        .option("--format <string>", "Format output using a custom template")
        .option("-q, --quiet", "Only display volume names");
      const { opts } = parse(c, args, name);
      const r = await api.json<VolumeList>("GET", "/volumes", {
        query: { filters: filtersQuery(opts.filter) },
      });
      const vols = (r.Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name));
      if (opts.quiet) {
        out(vols.map((v) => v.Name + "\n").join(""));
        return 0;
      }
      const rows = vols.map((v) => ({
        Driver: v.Driver,
        Name: v.Name,
        Mountpoint: v.Mountpoint,
        Scope: v.Scope,
        Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(","),
        Links: "N/A",
        Size: "N/A",
      }));
      out(printFormatted(rows, opts.format, {
        defaultTable: "table {{.Driver}}\t{{.Name}}",
        headers: {
          Driver: "DRIVER",
          Name: "VOLUME NAME",
          Mountpoint: "MOUNTPOINT",
          Scope: "SCOPE",
        },
        toJson: (x) => x,
      }));
      return 0;
    }
    case "volume inspect": {
      const c = command(
        name,
        "[OPTIONS] VOLUME [VOLUME...]",
        "Display detailed information on one or more volumes",
      )
        .option("-f, --format <string>", "Format output using a custom template");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, "[OPTIONS] VOLUME [VOLUME...]", 1);
      const found: Volume[] = [];
      let code = 0;
      for (const n of pos) {
        try {
          found.push(await api.json<Volume>("GET", `/volumes/${n}`));
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 404) throw e;
          console.error(`Error: No such volume: ${n}`);
          code = 1;
        }
      }
      if (opts.format) { for (const f of found) out(renderTemplate(opts.format, f) + "\n"); }
      else out(JSON.stringify(found, null, 4) + "\n");
      return code;
    }
    case "volume rm": {
      const c = command(name, "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes")
        .option("-f, --force", "Force the removal of one or more volumes");
      const { opts, args: pos } = parse(c, args, name);
      requireArgs(pos, name, "[OPTIONS] VOLUME [VOLUME...]", 1);
      let code = 0;
      for (const n of pos) {
        try {
          await api.call("DELETE", `/volumes/${n}`, { query: { force: opts.force } });
          out(`${n}\n`);
        } catch (e) {
          console.error(`Error response from daemon: ${(e as Error).message}`);
          code = 1;
        }
      }
      return code;
    }
    case "volume prune": {
      const c = command(name, "[OPTIONS]", "Remove unused local volumes")
        .option("-a, --all", "Remove all unused volumes, not just anonymous ones")
        .option("--filter <filter>", 'Provide filter values (e.g. "label=<label>")', filterFlag)
        .option("-f, --force", "Do not prompt for confirmation");
      const { opts } = parse(c, args, name);
      if (!opts.force) {
        out(
          `WARNING! This will remove ${
            opts.all ? "all" : "anonymous"
          } local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] `,
        );
        const buf = new Uint8Array(64);
        const n = await Deno.stdin.read(buf);
        const ans = n ? new TextDecoder().decode(buf.subarray(0, n)).trim().toLowerCase() : "";
        if (ans !== "y" && ans !== "yes") return 0;
      }
      const f = [...(opts.filter ?? []), ...(opts.all ? ["all=true"] : [])];
      const r = await api.json<PruneReport>("POST", "/volumes/prune", {
        query: { filters: filtersQuery(f) },
      });
      if (r.VolumesDeleted?.length) out(`Deleted Volumes:\n${r.VolumesDeleted.join("\n")}\n\n`);
      out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
      return 0;
    }
  }
  console.error(`berth: '${name}' is not a berth command.`);
  return 1;
}
