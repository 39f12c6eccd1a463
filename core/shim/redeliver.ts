/**
 * A stop signal that reaches a container too early. The kernel drops a signal
 * sent to the init of a pid namespace (a container's pid 1) unless init has a
 * handler for it, and it is not kept pending. A stop that comes while pid 1 is
 * still starting (`sh -c top` between its execs, an app before it installs its
 * SIGTERM handler) is therefore lost, and the stop waits out its whole grace
 * period for a process that would have ended at once (critest's "removing
 * stopped container" stops right after StartContainer and gives up at 60 s).
 * When the signal was certainly dropped — pid 1 had no handler for it and did
 * not ignore it, both just before and just after the kill — the shim sends it
 * once more as soon as pid 1 has a handler. Docker and containerd send once;
 * this only differs where theirs is lost.
 * @module
 */

/** How pid `pid` would take signal `sig` now, from /proc/<pid>/status; null when it is gone. */
export interface SignalDisposition {
  /** pid 1 of its own pid namespace */
  nsInit: boolean;
  caught: boolean;
  ignored: boolean;
}

/** Parse a /proc/<pid>/status text for `sig`. */
export function parseDisposition(status: string, sig: number): SignalDisposition | null {
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s*(.*)$`, "m"))?.[1];
  const cgt = field("SigCgt"), ign = field("SigIgn"), nspid = field("NSpid");
  if (cgt === undefined || ign === undefined || sig < 1 || sig > 64) return null;
  const bit = 1n << BigInt(sig - 1);
  return {
    nsInit: nspid !== undefined && nspid.trim().split(/\s+/).at(-1) === "1",
    caught: (BigInt(`0x${cgt.trim()}`) & bit) !== 0n,
    ignored: (BigInt(`0x${ign.trim()}`) & bit) !== 0n,
  };
}

export function disposition(pid: number, sig: number): SignalDisposition | null {
  try {
    return parseDisposition(Deno.readTextFileSync(`/proc/${pid}/status`), sig);
  } catch {
    return null; // gone (or never there): nothing to deliver to
  }
}

/** Was a kill of `sig` dropped: no handler and not ignored by a pid-namespace init, before and after? */
export function dropped(
  before: SignalDisposition | null,
  after: SignalDisposition | null,
): boolean {
  const lost = (d: SignalDisposition | null) => !!d && d.nsInit && !d.caught && !d.ignored;
  return lost(before) && lost(after);
}

/**
 * Poll pid `pid` until it has a handler for `sig`, then call `send` once. Ends
 * without sending when `done` resolves (the task exited), the process is gone
 * or ignores the signal, or after `limitMs`.
 */
export function redeliverWhenCaught(
  pid: number,
  sig: number,
  send: () => Promise<void>,
  done: Promise<unknown>,
  limitMs = 120_000,
  everyMs = 25,
): Promise<boolean> {
  return new Promise((resolve) => {
    let over = false;
    const end = Date.now() + limitMs;
    const finish = (sent: boolean) => {
      over = true;
      clearTimeout(timer);
      resolve(sent);
    };
    done.then(() => finish(false), () => finish(false));
    let timer = setTimeout(function poll() {
      if (over) return;
      const d = disposition(pid, sig);
      if (!d || d.ignored || Date.now() > end) return finish(false);
      if (d.caught) {
        // the task's exit path reports a failure to send; the stop's timeout still holds
        send().then(() => finish(true), () => finish(false));
        return;
      }
      timer = setTimeout(poll, everyMs);
    }, everyMs);
  });
}
