import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sharedReads } from '../../../../functions/domain/shared-reads.ts';

/** A read that settles when told to, counting its calls. */
function controlledRead() {
  const pending: ((value: string) => void)[] = [];
  let calls = 0;
  const read = (key: string) => {
    calls += 1;
    return new Promise<string>((resolve) => pending.push((v) => resolve(`${key}:${v}`)));
  };
  return { read, calls: () => calls, settle: (value: string) => pending.shift()?.(value) };
}

describe('sharedReads', () => {
  it('lets concurrent requests for one key share the read in flight', async () => {
    // Prepare
    const source = controlledRead();
    const shared = sharedReads(source.read, String, { maxAgeMs: 20, now: () => 0 });

    // Act
    const first = shared.read('resnet');
    const second = shared.read('resnet');
    source.settle('v1');

    // Assess
    expect(await Promise.all([first, second])).toEqual(['resnet:v1', 'resnet:v1']);
    expect(source.calls()).toBe(1);
  });

  it('reuses a settled answer strictly within the bound from when its read started, then reads again', async () => {
    // Prepare
    let now = 0;
    const source = controlledRead();
    const shared = sharedReads(source.read, String, { maxAgeMs: 20, now: () => now });
    const first = shared.read('resnet');
    source.settle('a');
    await first;

    // Act
    now = 19;
    const reused = await shared.read('resnet');
    now = 20;
    const fresh = shared.read('resnet');
    source.settle('b');

    // Assess
    expect([reused, await fresh]).toEqual(['resnet:a', 'resnet:b']);
    expect(source.calls()).toBe(2);
  });

  it('reads each key on its own, and anew after forget', async () => {
    // Prepare
    const source = controlledRead();
    const shared = sharedReads(source.read, String, { maxAgeMs: 20, now: () => 0 });

    // Act
    const resnet = shared.read('resnet');
    const bert = shared.read('bert');
    source.settle('a');
    source.settle('b');
    await Promise.all([resnet, bert]);
    shared.forget();
    const after = shared.read('resnet');
    source.settle('c');

    // Assess
    expect([await resnet, await bert, await after]).toEqual(['resnet:a', 'bert:b', 'resnet:c']);
    expect(source.calls()).toBe(3);
  });

  it('keeps nothing once settled with a zero bound, sharing only reads in flight', async () => {
    // Prepare
    const source = controlledRead();
    const shared = sharedReads(source.read, String, { maxAgeMs: 0, now: () => 0 });

    // Act
    const joined = [shared.read('resnet'), shared.read('resnet')];
    source.settle('a');
    await Promise.all(joined);
    const later = shared.read('resnet');
    source.settle('b');

    // Assess
    expect(await later).toBe('resnet:b');
    expect(source.calls()).toBe(2);
  });

  it('shares a failure with the requests that joined it, and not with later ones', async () => {
    // Prepare
    let fail = true;
    const shared = sharedReads(
      async (key: string) => {
        if (fail) throw new Error(`${key} down`);
        return key;
      },
      String,
      { maxAgeMs: 20, now: () => 0 },
    );

    // Act
    const results = await Promise.allSettled([shared.read('resnet'), shared.read('resnet')]);
    fail = false;

    // Assess
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await shared.read('resnet')).toBe('resnet');
  });

  it('with refreshAfterMs, answers from the settled read and starts the next, which the requests after the bound get without waiting', async () => {
    // Prepare
    let now = 0;
    const source = controlledRead();
    const shared = sharedReads(source.read, String, { maxAgeMs: 20, refreshAfterMs: 10, now: () => now });
    const first = shared.read('resnet');
    source.settle('a');
    await first;

    // Act
    now = 9;
    const early = await shared.read('resnet');
    const callsBeforeRefresh = source.calls();
    now = 10;
    const refreshing = await shared.read('resnet');
    now = 15;
    const stillOld = await shared.read('resnet');
    source.settle('b');
    await Promise.resolve();
    now = 21;
    const next = await shared.read('resnet');

    // Assess
    expect([early, refreshing, stillOld, next]).toEqual(['resnet:a', 'resnet:a', 'resnet:a', 'resnet:b']);
    expect(callsBeforeRefresh).toBe(1);
    // One read started at 10 (for 'b', shared from 20 on without waiting), and, 'b' being 11 ms old
    // at 21, the next one; none for the request at 15, whose next read was already in flight.
    expect(source.calls()).toBe(3);
  });

  it('never shares a read started before forget, even one that settles after it', async () => {
    // Prepare
    let now = 0;
    const source = controlledRead();
    const shared = sharedReads(source.read, String, { maxAgeMs: 20, refreshAfterMs: 5, now: () => now });
    const first = shared.read('resnet');
    source.settle('a');
    await first;
    now = 6;
    await shared.read('resnet'); // starts the next read, 'b', in the background

    // Act
    shared.forget();
    const afterForget = shared.read('resnet'); // its own read, 'c'
    source.settle('b');
    source.settle('c');
    now = 7;

    // Assess
    expect(await afterForget).toBe('resnet:c');
    expect(await shared.read('resnet')).toBe('resnet:c');
  });

  it('answers every request from a read started within the bound before it and after the last forget (any interleaving)', async () => {
    type Step =
      | { kind: 'request'; advance: number }
      | { kind: 'settle'; index: number; fail: boolean }
      | { kind: 'forget' };
    const step = fc.oneof(
      fc.record({ kind: fc.constant('request' as const), advance: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ kind: fc.constant('settle' as const), index: fc.nat(), fail: fc.boolean() }),
      fc.record({ kind: fc.constant('forget' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        async (steps: Step[], refreshAfterMs) => {
          // Prepare: each read answers the time it started; settled in any order.
          let now = 0;
          let forgottenAt = Number.NEGATIVE_INFINITY;
          const pending: { resolve: () => void; reject: () => void }[] = [];
          const shared = sharedReads(
            (_key: string) => {
              const startedAt = now;
              return new Promise<number>((resolve, reject) =>
                pending.push({ resolve: () => resolve(startedAt), reject: () => reject(new Error('down')) }),
              );
            },
            String,
            { maxAgeMs: 20, refreshAfterMs, now: () => now },
          );
          const answers: Promise<void>[] = [];
          const violations: string[] = [];

          // Act
          for (const s of steps) {
            if (s.kind === 'request') {
              now += s.advance;
              const askedAt = now;
              const since = forgottenAt;
              answers.push(
                shared.read('resnet').then(
                  (startedAt) => {
                    if (startedAt < askedAt - 20 || startedAt < since)
                      violations.push(
                        `asked at ${askedAt}, read started at ${startedAt}, forgot at ${since}`,
                      );
                  },
                  () => undefined,
                ),
              );
            } else if (s.kind === 'settle' && pending.length > 0) {
              const [read] = pending.splice(s.index % pending.length, 1);
              if (s.fail) read?.reject();
              else read?.resolve();
              await new Promise((resolve) => setImmediate(resolve));
            } else if (s.kind === 'forget') {
              shared.forget();
              forgottenAt = now;
            }
          }
          for (const read of pending.splice(0)) read.resolve();
          await Promise.all(answers);

          // Assess
          expect(violations).toEqual([]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
