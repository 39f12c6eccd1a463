/**
 * A tee with backpressure: the source is read only when every live branch
 * has room, so two consumers of different speed never make the faster one
 * buffer the whole stream (the standard `tee()` does). A cancelled branch
 * stops counting; the other goes on.
 *
 * @example
 * ```ts
 * import { balancedTee } from "./tee.ts";
 * const [a, b] = balancedTee(ReadableStream.from([new Uint8Array(3)]));
 * await Promise.all([new Response(a).arrayBuffer(), new Response(b).arrayBuffer()]);
 * ```
 * @module
 */

export function balancedTee(
  src: ReadableStream<Uint8Array>,
  highWaterMark = 4,
): [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>] {
  const reader = src.getReader();
  const ctls: ReadableStreamDefaultController<Uint8Array>[] = [];
  const cancelled = [false, false];
  const waiters: Array<(() => void) | undefined> = [undefined, undefined];
  const wake = (i: number) => {
    const w = waiters[i];
    waiters[i] = undefined;
    w?.();
  };
  const room = (i: number) => cancelled[i] || (ctls[i].desiredSize ?? 0) > 0;
  const branch = (i: number) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        ctls[i] = c;
      },
      pull() {
        wake(i);
      },
      cancel() {
        cancelled[i] = true;
        wake(i);
      },
    }, new CountQueuingStrategy({ highWaterMark }));
  const out: [ReadableStream<Uint8Array>, ReadableStream<Uint8Array>] = [branch(0), branch(1)];
  (async () => {
    for (;;) {
      await Promise.all(
        [0, 1].map((i) => room(i) ? undefined : new Promise<void>((r) => waiters[i] = r)),
      );
      if (cancelled[0] && cancelled[1]) {
        await reader.cancel();
        return;
      }
      const { done, value } = await reader.read();
      for (const i of [0, 1]) {
        if (cancelled[i]) continue;
        if (done) ctls[i].close();
        else ctls[i].enqueue(value);
      }
      if (done) return;
    }
  })().catch((e) => {
    for (const i of [0, 1]) {
      try {
        if (!cancelled[i]) ctls[i].error(e);
      } catch { /* closed */ }
    }
  });
  return out;
}
