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
