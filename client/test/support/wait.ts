/** Polls `probe` until it returns true; rejects when `deadlineMs` passes. Resolves with the time taken. */
export async function within(
  deadlineMs: number,
  probe: () => boolean | Promise<boolean>,
  what = 'condition',
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`${what} not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
