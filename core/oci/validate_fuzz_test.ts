/**
 * Fuzz: manifests, indexes and image configs (issue 11), what registries,
 * `load` archives and registry clients hand the daemon. parseManifestOrIndex
 * and validateConfig throw only InvalidArgument, and a config they accept
 * gives containers what they need: mergeImageConfig runs on it.
 */
import { InvalidArgument } from "../errdefs/mod.ts";
import { fuzz } from "../testing/fuzz.ts";
import { mergeImageConfig } from "./runtime_spec.ts";
import { parseManifestOrIndex, validateConfig } from "./validate.ts";

const D = "sha256:" + "ab".repeat(32);
const desc = (mt: string) => ({ mediaType: mt, digest: D, size: 7 });

/** Inputs a fuzz run once broke the validators with. */
const REGRESSIONS: string[] = [
  // accepted, then "(image?.Env ?? []) is not iterable" at every create from the image
  '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{"Env":5}}',
];

Deno.test("fuzz: manifests, indexes and image configs", async () => {
  await fuzz({
    name: "oci-documents",
    seeds: [
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: desc("application/vnd.oci.image.config.v1+json"),
        layers: [desc("application/vnd.oci.image.layer.v1.tar+gzip")],
        subject: desc("application/vnd.oci.image.manifest.v1+json"),
        annotations: { a: "b" },
      }),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
        manifests: [{
          ...desc("application/vnd.docker.distribution.manifest.v2+json"),
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
        }],
      }),
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [D] },
        config: {
          Env: ["PATH=/bin"],
          Cmd: ["sh"],
          Entrypoint: null,
          WorkingDir: "/w",
          User: "1:1",
          Labels: { a: "b" },
          ExposedPorts: { "80/tcp": {} },
          Volumes: { "/data": {} },
          Healthcheck: { Test: ["CMD", "true"], Interval: 1000000000, Retries: 3 },
          OnBuild: null,
          StopSignal: "SIGTERM",
        },
        history: [{ created_by: "x" }],
      }),
    ],
    dictionary: ["null", "5", "[]", "{}", '"x"', "[5]", '{"a":5}', ",", ":", '"Env":', '"Cmd":'],
    regressions: REGRESSIONS,
    maxLen: 2048,
    expected: (e) => e instanceof InvalidArgument || e instanceof SyntaxError,
    run(input) {
      try {
        parseManifestOrIndex(input);
      } catch (e) {
        if (!(e instanceof InvalidArgument)) throw e;
      }
      const c = validateConfig(JSON.parse(new TextDecoder().decode(input)));
      mergeImageConfig(c.config, {});
      mergeImageConfig(c.config, { Env: ["A=1"], Cmd: ["x"] });
    },
  });
});
