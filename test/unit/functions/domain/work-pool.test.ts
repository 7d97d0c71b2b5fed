import { describe, expect, it } from 'vitest';
import { runPooled } from '../../../../functions/domain/work-pool.ts';
import { within } from '../../../support/kit/poll.ts';

/** A task that settles when told to, recording when it started. */
function gate<T>() {
  let open = (_: T) => {};
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('runPooled', () => {
  it('resolves an empty list at once', async () => {
    // Act / Assess
    expect(await runPooled([], async () => 1, { concurrency: 2, slowAfterMs: 10, maxWaiting: 2 })).toEqual(
      [],
    );
  });

  it('returns the results in item order, whatever the order they settle in', async () => {
    // Act
    const results = await runPooled(
      [30, 0, 10],
      async (ms) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return ms * 2;
      },
      { concurrency: 3, slowAfterMs: 1_000, maxWaiting: 3 },
    );

    // Assess
    expect(results).toEqual([60, 0, 20]);
  });

  it('runs at most `concurrency` items while none is slow', async () => {
    // Prepare
    let running = 0;
    let most = 0;

    // Act
    await runPooled(
      Array.from({ length: 12 }, (_, i) => i),
      async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
      },
      { concurrency: 3, slowAfterMs: 1_000, maxWaiting: 10 },
    );

    // Assess
    expect(most).toBe(3);
  });

  it('lets a hung item give its slot up, so the items behind it run', async () => {
    // Prepare
    const hung = gate<string>();
    const started: number[] = [];
    const slow: number[] = [];

    // Act
    const done = runPooled(
      [0, 1, 2],
      (item) => {
        started.push(item);
        return item === 0 ? hung.promise : Promise.resolve(`fast ${item}`);
      },
      { concurrency: 1, slowAfterMs: 20, maxWaiting: 5, onSlow: (index) => slow.push(index) },
    );
    await within(2_000, () => started.length === 3, '3 started', 2);
    hung.open('late');

    // Assess
    expect(slow).toEqual([0]);
    expect(await done).toEqual(['late', 'fast 1', 'fast 2']);
  });

  it('keeps a slow item in its slot once `maxWaiting` items are waiting', async () => {
    // Prepare
    const gates = [gate<number>(), gate<number>(), gate<number>()];
    const started: number[] = [];

    // Act
    const done = runPooled(
      [0, 1, 2],
      (item) => {
        started.push(item);
        return (gates[item] as ReturnType<typeof gate<number>>).promise;
      },
      { concurrency: 1, slowAfterMs: 10, maxWaiting: 1 },
    );
    await within(2_000, () => started.length === 2, '2 started', 2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const whileFull = [...started];
    gates[0]?.open(0);
    await within(2_000, () => started.length === 3, '3 started', 2);
    gates[1]?.open(1);
    gates[2]?.open(2);

    // Assess: item 1 could not wait (item 0 held the only waiting place), so item 2 waited for it.
    expect(whileFull).toEqual([0, 1]);
    expect(await done).toEqual([0, 1, 2]);
  });

  it('rejects when an item rejects', async () => {
    // Act / Assess
    await expect(
      runPooled([1], async () => Promise.reject(new Error('boom')), {
        concurrency: 1,
        slowAfterMs: 10,
        maxWaiting: 1,
      }),
    ).rejects.toThrow('boom');
  });
});
