import { describe, expect, it, vi } from 'vitest';
import { handleEcsEventBatch } from '../../../../../functions/adapters/edges/ecs-events.ts';
import { findEndpoints } from '../../../../../functions/domain/discovery.ts';
import { StoreUnavailableError } from '../../../../../functions/domain/errors.ts';
import { testDiscoveryDeps, testTaskEventDeps } from '../../../../support/kit/deps.ts';
import { loopbackEvent } from '../../../../support/kit/events.ts';
import { failingStore, InMemoryRegistryStore } from '../../../../support/kit/in-memory-store.ts';
import { available, FakeTfServing } from '../../../../support/kit/tfserving.ts';

const NOW = Date.parse('2026-05-04T10:00:35.000Z');
const hostOf = (i: number) => `127.0.1.${i + 1}`;
const taskIdOf = (i: number) => i.toString(16).padStart(32, '0');

/** `count` tasks serving `resnet` version 7 on loopback, each with its RUNNING event. */
function fleet(count: number) {
  const store = new InMemoryRegistryStore();
  const tfserving = new FakeTfServing();
  for (let i = 0; i < count; i += 1)
    tfserving.status({ host: hostOf(i), restPort: 8501 }, 'resnet', available('7'));
  const running = Array.from({ length: count }, (_, i) =>
    loopbackEvent('running-awsvpc', hostOf(i), taskIdOf(i)),
  );
  const now = () => NOW;
  const served = async () =>
    (await findEndpoints(testDiscoveryDeps({ store, now }), 'resnet', { kind: 'model' })).endpoints
      .map((e) => e.host)
      .sort();
  return { store, tfserving, running, now, served };
}

describe('handleEcsEventBatch', () => {
  it("applies every event of a batch, then rebuilds each model's snapshot once, and discovery right after sees them all", async () => {
    // Prepare
    const { store, tfserving, running, now, served } = fleet(25);
    const claims = vi.spyOn(store, 'claimSnapshot');

    // Act
    const { results, unavailable } = await handleEcsEventBatch(
      testTaskEventDeps({ store, tfserving, now }),
      running,
    );

    // Assess
    expect(unavailable).toBeUndefined();
    expect(results).toHaveLength(25);
    expect(claims.mock.calls).toEqual([['resnet']]);
    expect(await served()).toEqual(Array.from({ length: 25 }, (_, i) => hostOf(i)).sort());
  });

  it('puts a drain in a batch in effect for the discovery call right after it', async () => {
    // Prepare
    const { store, tfserving, running, now, served } = fleet(3);
    const deps = testTaskEventDeps({ store, tfserving, now });
    await handleEcsEventBatch(deps, running);

    // Act
    await handleEcsEventBatch(deps, [loopbackEvent('draining', hostOf(1), taskIdOf(1))]);

    // Assess
    expect(await served()).toEqual([hostOf(0), hostOf(2)]);
  });

  it('reports the store unavailable when the batch rebuild fails, after applying every event', async () => {
    // Prepare: the snapshot's sequence cannot be claimed; every other write lands.
    const { store, tfserving, running, now } = fleet(3);
    const down = new StoreUnavailableError('UpdateItem', new Error('aborted'));
    const deps = testTaskEventDeps({ store: failingStore(store, { claimSnapshot: down }), tfserving, now });

    // Act
    const { results, unavailable } = await handleEcsEventBatch(deps, running);

    // Assess
    expect(results).toHaveLength(3);
    expect(unavailable).toBe(down);
    expect(store.registrations.size).toBe(3);
  });
});
