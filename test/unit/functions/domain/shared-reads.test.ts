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
    const shared = sharedReads(source.read, String, () => 0, 20);

    // Act
    const first = shared('resnet');
    const second = shared('resnet');
    source.settle('v1');

    // Assess
    expect(await Promise.all([first, second])).toEqual(['resnet:v1', 'resnet:v1']);
    expect(source.calls()).toBe(1);
  });

  it('starts a new read for another key, after a read settled, and past the age bound', async () => {
    // Prepare
    let now = 0;
    const source = controlledRead();
    const shared = sharedReads(source.read, String, () => now, 20);

    // Act
    const resnet = shared('resnet');
    const bert = shared('bert');
    now = 21;
    const late = shared('resnet');
    source.settle('a');
    source.settle('b');
    source.settle('c');
    await Promise.all([resnet, bert, late]);
    const after = shared('resnet');
    source.settle('d');

    // Assess
    expect([await resnet, await bert, await late, await after]).toEqual([
      'resnet:a',
      'bert:b',
      'resnet:c',
      'resnet:d',
    ]);
    expect(source.calls()).toBe(4);
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
      () => 0,
      20,
    );

    // Act
    const joined = [shared('resnet'), shared('resnet')];
    const results = await Promise.allSettled(joined);
    fail = false;

    // Assess
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await shared('resnet')).toBe('resnet');
  });
});
