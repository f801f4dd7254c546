/**
 * Resolves after `ms`. With `unref`, the timer does not keep the process alive (for back-off
 * inside a library that must not hold up a process that is otherwise done).
 */
export function sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
}

const blocker = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks this thread for `ms` (to about 0.1 ms), event loop included, as a slower processor's
 * compute would: the straggler test hook's slowdown. A timer cannot stand in for it: setTimeout
 * waits whole milliseconds and overshoots by 1–2 ms, more than a small batch's whole gradient, so
 * a balancer sizing batches by the measured compute would chase the timer's noise.
 */
export function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(blocker, 0, 0, ms);
}
