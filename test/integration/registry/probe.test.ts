import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handleEcsEvent } from '../../../functions/adapters/edges/ecs-events.ts';
import { findEndpoints, modelHealth } from '../../../functions/domain/discovery.ts';
import { runProbeRound } from '../../../functions/domain/probe.ts';
import type { Misbehaviour } from '../../../tools/tfserving-stand-in/stand-in.ts';
import { TfServingStandIn } from '../../../tools/tfserving-stand-in/stand-in.ts';
import { loopbackEvent } from '../../support/kit/events.ts';
import { createTestRegistry, standInHost, type TestRegistry } from '../../support/test-registry.ts';

const FILE_OCTET = 20;
// One rule short, every other one very large: each rule must exclude on its own.
const LARGE = '3600';

/** A probe round `afterMs` after the previous probe (each probe is stamped with the test clock). */
function roundAfter(registry: TestRegistry, afterMs = 1000) {
  registry.clock.advance(afterMs);
  return runProbeRound(registry.probe);
}

async function servedHosts(registry: TestRegistry, model = 'resnet'): Promise<string[]> {
  const { endpoints } = await findEndpoints(registry.discovery, model, { kind: 'model' });
  return endpoints.map((e) => e.host);
}

describe('probe round', () => {
  const stands: TfServingStandIn[] = [];
  let registry: TestRegistry | undefined;

  async function fleet(env: Record<string, string>, size: number) {
    registry = await createTestRegistry({ PROBE_TIMEOUT_MS: '300', ...env });
    for (let n = 1; n <= size; n += 1) {
      const host = standInHost(FILE_OCTET, n);
      stands.push(await TfServingStandIn.start({ host, models: { resnet: { available: ['3'] } } }));
      await handleEcsEvent(registry.taskEvents, loopbackEvent('running-awsvpc', host, `task${n}`));
    }
    return registry;
  }

  beforeEach(() => {
    stands.length = 0;
  });

  afterEach(async () => {
    await Promise.all(stands.map((s) => s.close()));
    registry?.close();
  });

  it('probes every registered endpoint and writes one marker for the model when nothing changed', async () => {
    // Prepare
    const registry = await fleet({}, 3);

    // Act
    const summary = await roundAfter(registry);

    // Assess
    expect(summary).toMatchObject({ targets: 3, healthy: 3, failed: 0, writes: 1, errors: 0 });
    expect(await servedHosts(registry)).toHaveLength(3);
  });

  it('writes the row of an endpoint whose versions changed', async () => {
    // Prepare
    const registry = await fleet({}, 3);
    const [changed] = stands as [TfServingStandIn];
    changed.load('resnet', '4');

    // Act
    const summary = await roundAfter(registry);
    const { endpoints } = await findEndpoints(registry.discovery, 'resnet', {
      kind: 'version',
      version: '4',
    });

    // Assess
    expect(summary.writes).toBe(2);
    expect(endpoints.map((e) => e.host)).toEqual([changed.host]);
  });

  it('keeps serving endpoints that rounds vouch for long after their rows were written', async () => {
    // Prepare: rows are written at registration; later rounds find nothing changed.
    const registry = await fleet({ UNHEALTHY_AFTER_SECONDS: '10' }, 2);

    // Act
    for (let round = 0; round < 5; round += 1) await roundAfter(registry, 5_000);
    const { endpoints } = await findEndpoints(registry.discovery, 'resnet', { kind: 'model' });

    // Assess: 25 s after the rows were written, the last round (just now) vouches for both.
    expect(endpoints).toHaveLength(2);
    expect(endpoints.map((e) => e.lastProbeAt)).toEqual([
      new Date(registry.clock.ms).toISOString(),
      new Date(registry.clock.ms).toISOString(),
    ]);
  });

  it('serves an endpoint whose server has loaded 8,500 versions over its life (a status answer over 1 MiB)', async () => {
    // Prepare
    registry = await createTestRegistry({ PROBE_TIMEOUT_MS: '2000' });
    const host = standInHost(FILE_OCTET, 1);
    stands.push(
      await TfServingStandIn.start({
        host,
        models: { resnet: { available: ['1700008500'], history: 8_500 } },
      }),
    );

    // Act
    await handleEcsEvent(registry.taskEvents, loopbackEvent('running-awsvpc', host, 'history'));
    const summary = await roundAfter(registry);

    // Assess
    expect(summary).toMatchObject({ targets: 1, healthy: 1 });
    expect(await servedHosts(registry)).toEqual([host]);
  });

  it.each<[string, Misbehaviour]>([
    ['answers 500', 'http-500'],
    ['answers an HTML page', 'html'],
    ['answers garbage', 'non-json'],
    ['answers truncated JSON', 'truncated-json'],
    ['answers an oversized body', 'oversized'],
    ['answers JSON of the wrong shape', 'wrong-shape'],
    ['hangs', 'hang'],
  ])('excludes an endpoint that %s for FAILURE_THRESHOLD probes in a row', async (_, mode) => {
    // Prepare
    const registry = await fleet(
      { FAILURE_THRESHOLD: '2', UNHEALTHY_AFTER_SECONDS: LARGE, REMOVE_AFTER_SECONDS: LARGE },
      2,
    );
    const [bad, good] = stands as [TfServingStandIn, TfServingStandIn];
    bad.misbehave(mode);

    // Act
    await roundAfter(registry);
    const afterOne = await servedHosts(registry);
    await roundAfter(registry);
    const afterTwo = await servedHosts(registry);

    // Assess
    expect(afterOne).toEqual([bad.host, good.host].sort());
    expect(afterTwo).toEqual([good.host]);
  });

  it('excludes an endpoint that died, and serves it again on its first successful probe', async () => {
    // Prepare
    const registry = await fleet(
      { FAILURE_THRESHOLD: '1', UNHEALTHY_AFTER_SECONDS: LARGE, REMOVE_AFTER_SECONDS: LARGE },
      1,
    );
    const [stand] = stands as [TfServingStandIn];
    await stand.die();
    await roundAfter(registry);
    const whileDead = await servedHosts(registry);

    // Act
    await stand.revive();
    await roundAfter(registry);

    // Assess
    expect(whileDead).toEqual([]);
    expect(await servedHosts(registry)).toEqual([stand.host]);
  });

  it('excludes an endpoint whose last successful probe is older than UNHEALTHY_AFTER_SECONDS', async () => {
    // Prepare
    const registry = await fleet(
      { UNHEALTHY_AFTER_SECONDS: '10', FAILURE_THRESHOLD: '1000', REMOVE_AFTER_SECONDS: LARGE },
      1,
    );
    const [stand] = stands as [TfServingStandIn];
    stand.misbehave('http-500');

    // Act
    await roundAfter(registry, 9_000);
    const atNine = await servedHosts(registry);
    registry.clock.advance(2_000);
    const atEleven = await servedHosts(registry);

    // Assess
    expect(atNine).toEqual([stand.host]);
    expect(atEleven).toEqual([]);
  });

  it('excludes an endpoint whose row expired, even though TTL has not deleted it', async () => {
    // Prepare: no probe succeeds after registration.
    const registry = await fleet(
      { REMOVE_AFTER_SECONDS: '5', UNHEALTHY_AFTER_SECONDS: LARGE, FAILURE_THRESHOLD: '1000' },
      1,
    );

    // Act
    registry.clock.advance(4_000);
    const beforeExpiry = await servedHosts(registry);
    registry.clock.advance(1_000);
    const atExpiry = await servedHosts(registry);

    // Assess
    expect(beforeExpiry).toHaveLength(1);
    expect(atExpiry).toEqual([]);
  });

  it('excludes an endpoint whose model is no longer AVAILABLE although TF Serving answers 200', async () => {
    // Prepare
    const registry = await fleet({ FAILURE_THRESHOLD: '1' }, 1);
    const [stand] = stands as [TfServingStandIn];

    // Act: the model was removed from the config: every version END, still 200.
    stand.removeModel('resnet');
    await roundAfter(registry);

    // Assess
    expect(await servedHosts(registry)).toEqual([]);
  });

  it('keeps serving the old version when a new version fails to load', async () => {
    // Prepare
    const registry = await fleet({}, 1);
    const [stand] = stands as [TfServingStandIn];

    // Act
    stand.failLoad('resnet', '4');
    await roundAfter(registry);
    const { endpoints } = await findEndpoints(registry.discovery, 'resnet', {
      kind: 'version',
      version: '3',
    });
    const failed = await findEndpoints(registry.discovery, 'resnet', { kind: 'version', version: '4' });

    // Assess
    expect(endpoints.map((e) => e.versions)).toEqual([['3']]);
    expect(failed.endpoints).toEqual([]);
  });

  it('does not let a probe that started earlier overwrite a later one', async () => {
    // Prepare
    const registry = await fleet({ FAILURE_THRESHOLD: '1' }, 1);
    const [stand] = stands as [TfServingStandIn];
    stand.load('resnet', '4');
    await roundAfter(registry, 5_000);

    // Act: a failed probe stamped before the successful (written) one arrives late.
    stand.misbehave('http-500');
    const late = await roundAfter(registry, -1_000);
    registry.clock.advance(1_000);

    // Assess
    expect(late).toMatchObject({ failed: 1, writes: 0 });
    expect(await servedHosts(registry)).toEqual([stand.host]);
  });

  it('answers the health of every endpoint from the engine: served, failing with its error, draining', async () => {
    // Prepare
    const registry = await fleet({ FAILURE_THRESHOLD: '2' }, 3);
    const [dead, , drained] = stands as [TfServingStandIn, TfServingStandIn, TfServingStandIn];
    await dead.die();
    await handleEcsEvent(registry.taskEvents, loopbackEvent('draining', drained.host, 'task3'));

    // Act
    await roundAfter(registry);
    await roundAfter(registry);
    const health = await modelHealth(registry.discovery, 'resnet');

    // Assess
    const byTask = (task: string) => health.endpoints.find((e) => e.taskArn.endsWith(`/${task}`));
    expect(health.endpoints).toHaveLength(3);
    expect(byTask('task1')).toMatchObject({
      served: false,
      reason: 'failing',
      consecutiveFailures: 2,
      lastError: expect.stringMatching(/ECONNREFUSED|refused/i),
      lifecycle: 'RUNNING',
    });
    expect(byTask('task2')).toMatchObject({ served: true, reason: null, versions: ['3'], lastError: null });
    expect(byTask('task3')).toMatchObject({ served: false, reason: 'not-running', lifecycle: 'STOPPING' });
  });
});
