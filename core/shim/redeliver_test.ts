import { assert, assertEquals } from "../testing/assert.ts";
import { disposition, dropped, parseDisposition, redeliverWhenCaught } from "./redeliver.ts";

const status = (cgt: string, ign: string, nspid: string) =>
  `Name:\ttop\nNSpid:\t${nspid}\nSigBlk:\t0000000000000000\nSigIgn:\t${ign}\nSigCgt:\t${cgt}\n`;

Deno.test("parseDisposition: SigCgt/SigIgn bits and whether it is a namespace's pid 1", () => {
  // busybox top as a container's pid 1: SIGTERM (15, bit 14) caught
  const top = parseDisposition(status("0000000003807a27", "0000000000000000", "17106\t1"), 15);
  assertEquals(top, { nsInit: true, caught: true, ignored: false });
  const sh = parseDisposition(status("0000000000000000", "0000000000000004", "42\t1"), 15);
  assertEquals(sh, { nsInit: true, caught: false, ignored: false });
  assertEquals(parseDisposition(status("0", "0000000000004000", "42\t1"), 15)!.ignored, true);
  assertEquals(parseDisposition(status("0", "0", "42"), 15)!.nsInit, false);
  assertEquals(parseDisposition("Name:\tx\n", 15), null);
  assertEquals(parseDisposition(status("0", "0", "1"), 0), null);
});

Deno.test("dropped: only when pid 1 had no handler and did not ignore it, before and after", () => {
  const lost = { nsInit: true, caught: false, ignored: false };
  assert(dropped(lost, lost));
  assert(!dropped(lost, { ...lost, caught: true })); // the handler came in between: maybe delivered
  assert(!dropped({ ...lost, nsInit: false }, { ...lost, nsInit: false })); // not init: it died
  assert(!dropped({ ...lost, ignored: true }, { ...lost, ignored: true }));
  assert(!dropped(null, lost));
});

Deno.test("redeliverWhenCaught: sends once the process has a handler; not after it is done", async () => {
  // a real process that installs a SIGUSR1 handler after a moment (not a namespace init:
  // redeliverWhenCaught only polls; the caller decides a signal was dropped)
  const p = new Deno.Command("sh", {
    args: ["-c", "sleep 0.3; trap 'echo got; exit 0' USR1; while :; do sleep 0.05; done"],
    stdout: "piped",
  }).spawn();
  try {
    assertEquals(disposition(p.pid, 10)!.caught, false);
    let sent = 0;
    const ok = await redeliverWhenCaught(
      p.pid,
      10,
      () => {
        sent++;
        p.kill("SIGUSR1");
        return Promise.resolve();
      },
      new Promise(() => {}),
      10_000,
    );
    assert(ok);
    assertEquals(sent, 1);
    const out = await p.output();
    assertEquals(new TextDecoder().decode(out.stdout), "got\n");
  } finally {
    try {
      p.kill("SIGKILL");
    } catch { /* exited */ }
  }
  // done first: nothing is sent
  const q = new Deno.Command("sleep", { args: ["5"] }).spawn();
  const sentAfterDone = await redeliverWhenCaught(
    q.pid,
    15,
    () => {
      throw new Error("must not send");
    },
    Promise.resolve(),
    10_000,
  );
  assertEquals(sentAfterDone, false);
  q.kill("SIGKILL");
  await q.status;
});
