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
    const shared = sharedReads(source.read, String, 20, () => 0);

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
    const shared = sharedReads(source.read, String, 20, () => now);
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
    const shared = sharedReads(source.read, String, 20, () => 0);

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
    const shared = sharedReads(source.read, String, 0, () => 0);

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
      20,
      () => 0,
    );

    // Act
    const results = await Promise.allSettled([shared.read('resnet'), shared.read('resnet')]);
    fail = false;

    // Assess
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await shared.read('resnet')).toBe('resnet');
  });
});
