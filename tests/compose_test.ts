/**
 * docker-compose 1.29 (Debian's) against the daemon (issue 13): a web
 * service that `depends_on` a db with `condition: service_healthy` starts
 * once the db's healthcheck passes; `ps`, `logs`, `exec`, `down -v` (named
 * volume, user network). Old code: the db never had a State.Health and
 * compose gave up on the dependency.
 */
import { assert, assertEquals, assertStringIncludes } from "../core/testing/assert.ts";
import { containerDaemon, expectCode } from "./containers_helpers.ts";
import { run } from "./fixtures/daemon.ts";

const COMPOSE = "/usr/bin/docker-compose";
const haveCompose = await Deno.stat(COMPOSE).then(() => true, () => false);
if (!haveCompose) console.error("SKIP compose: docker-compose is not installed");

const FILE = `
services:
  db:
    image: busybox
    command: sh -c "trap 'exit 0' TERM; sleep 2; touch /tmp/ready; echo db ready; sleep 600 & wait"
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      timeout: 1s
      retries: 30
    volumes:
      - dbdata:/data
    networks: [appnet]
  web:
    image: busybox
    command: sh -c "trap 'exit 0' TERM; ping -c 1 -W 2 db >/dev/null && echo web reached db; sleep 600 & wait"
    depends_on:
      db:
        condition: service_healthy
    networks: [appnet]
volumes:
  dbdata:
networks:
  appnet:
`;

Deno.test({
  name: "compose: depends_on service_healthy, ps, logs, exec, down -v",
  ignore: !haveCompose,
  fn: async () => {
    const d = await containerDaemon();
    const dir = `${d.base}/app`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/docker-compose.yml`, FILE);
    const compose = (args: string[]) =>
      run([COMPOSE, "--ansi", "never", "-p", "hc", ...args], {
        env: {
          DOCKER_HOST: d.host,
          DOCKER_CONFIG: `${d.base}/docker-config`,
          COMPOSE_FILE: `${dir}/docker-compose.yml`,
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        },
        timeoutMs: 90000,
      });
    try {
      const since = (Date.now() / 1000).toFixed(3);
      expectCode(await compose(["up", "-d"]), 0, "up");
      const ps = expectCode(await compose(["ps"]), 0, "ps").stdout;
      assert(/hc_db_1 .* Up \(healthy\)/.test(ps), ps);
      assert(/hc_web_1 .* Up/.test(ps), ps);
      // web started only once db was healthy
      const ev = expectCode(
        await d.docker([
          "events",
          "--since",
          since,
          "--until",
          (Date.now() / 1000).toFixed(3),
          "--filter",
          "type=container",
          "--format",
          "{{.Action}} {{.Actor.Attributes.name}}",
        ]),
        0,
      ).stdout.split("\n");
      const healthy = ev.indexOf("health_status: healthy hc_db_1");
      const webStart = ev.indexOf("start hc_web_1");
      assert(healthy >= 0 && webStart > healthy, ev.join("\n"));
      let logs = "";
      for (let i = 0; i < 50 && !logs.includes("web reached db"); i++) {
        logs = expectCode(await compose(["logs", "--no-color"]), 0, "logs").stdout;
        await new Promise((r) => setTimeout(r, 100));
      }
      assertStringIncludes(logs, "web reached db");
      assertStringIncludes(logs, "db ready");
      const ex = expectCode(await compose(["exec", "-T", "db", "sh", "-c", "ls /tmp/ready"]), 0);
      assertEquals(ex.stdout.trim(), "/tmp/ready");
      expectCode(await compose(["down", "-v"]), 0, "down");
      assertEquals(expectCode(await d.docker(["ps", "-aq"]), 0).stdout, "");
      const vols = expectCode(await d.docker(["volume", "ls", "-q"]), 0).stdout;
      assert(!vols.includes("hc_dbdata"), vols);
      const nets = expectCode(await d.docker(["network", "ls", "--format", "{{.Name}}"]), 0);
      assert(!nets.stdout.includes("hc_appnet"), nets.stdout);
    } finally {
      await d.stop();
    }
  },
});
