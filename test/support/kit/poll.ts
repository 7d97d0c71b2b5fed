/**
 * Polls `probe` until it returns true, and resolves with the milliseconds that took; rejects, naming
 * `what`, once `deadlineMs` has passed. What a test waits for, it waits for with a deadline.
 */
export async function within(
  deadlineMs: number,
  probe: () => boolean | Promise<boolean>,
  what = 'condition',
  pollMs = 10,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`${what} not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
