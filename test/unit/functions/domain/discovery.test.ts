import { describe, expect, it, vi } from 'vitest';
import {
  type Endpoint,
  findEndpoints,
  listModels,
  type ModelEndpoints,
  modelHealth,
  routingEtag,
} from '../../../../functions/domain/discovery.ts';
import { RequestError } from '../../../../functions/domain/errors.ts';
import type { ExclusionReason } from '../../../../functions/domain/health.ts';
import type {
  ModelRegistration,
  ProbeRecord,
  RoundMarker,
  TaskRecord,
} from '../../../../functions/domain/records.ts';
import { refreshSnapshot } from '../../../../functions/domain/snapshots.ts';
import { testDiscoveryDeps } from '../../../support/kit/deps.ts';
import { InMemoryRegistryStore } from '../../../support/kit/in-memory-store.ts';
import {
  CLUSTER_ARN,
  probeRecord,
  registration,
  taskArnOf,
  taskRecord,
} from '../../../support/kit/records.ts';

const NOW = Date.parse('2026-05-04T10:05:00.000Z');

/**
 * Discovery at the default settings over a store holding these records (`round`: every model's
 * marker), with the store's reads counted.
 */
function deps(contents: {
  tasks?: TaskRecord[];
  registrations?: ModelRegistration[];
  probes?: ProbeRecord[];
  round?: RoundMarker;
}) {
  const { round, ...records } = contents;
  const models = [...(records.registrations ?? []), ...(records.probes ?? [])].map((r) => r.model);
  const rounds = round === undefined ? {} : Object.fromEntries(models.map((model) => [model, round]));
  const store = InMemoryRegistryStore.holding({ ...records, rounds });
  const reads = {
    readSnapshot: vi.spyOn(store, 'readSnapshot'),
    readModel: vi.spyOn(store, 'readModel'),
    listRunningTasks: vi.spyOn(store, 'listRunningTasks'),
  };
  return { reads, store, discovery: testDiscoveryDeps({ store, now: () => NOW }) };
}

describe('findEndpoints', () => {
  it('rejects with a 404 ModelNotFound for a model no task declares', async () => {
    // Prepare
    const { discovery } = deps({});

    // Act
    const finding = findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    await expect(finding).rejects.toBeInstanceOf(RequestError);
    await expect(finding).rejects.toMatchObject({ statusCode: 404, code: 'ModelNotFound' });
  });

  it('rejects with a 404 ModelNotFound when every registration of the model is stopping or stopped', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: [
        registration('a', 'resnet', { lifecycle: 'STOPPING', host: undefined }),
        registration('b', 'resnet', { lifecycle: 'STOPPED', host: undefined }),
      ],
      probes: [probeRecord('a', 'resnet', NOW), probeRecord('b', 'resnet', NOW)],
    });

    // Act
    const finding = findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    await expect(finding).rejects.toBeInstanceOf(RequestError);
    await expect(finding).rejects.toMatchObject({ statusCode: 404, code: 'ModelNotFound' });
  });

  it('returns no endpoints for a known model whose endpoint has not been probed successfully yet', async () => {
    // Prepare
    const { discovery } = deps({ registrations: [registration('a', 'resnet')] });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result).toEqual({ model: 'resnet', endpoints: [], stale: false });
  });

  it('returns no endpoints for a known model whose every endpoint is failing', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW, { consecutiveFailures: 2 })],
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints).toEqual([]);
  });

  it('returns a healthy endpoint with every field of the contract', async () => {
    // Prepare
    const lastSuccessAt = NOW - 2500;
    const { discovery } = deps({
      registrations: [
        registration('a', 'resnet', {
          host: '10.0.215.105',
          restPort: 8501,
          grpcPort: 8500,
          availabilityZone: 'us-east-1a',
        }),
      ],
      probes: [probeRecord('a', 'resnet', NOW, { versions: ['8', '7'], lastSuccessAt })],
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result).toEqual({
      model: 'resnet',
      endpoints: [
        {
          id: 'ml/a/tfserving',
          host: '10.0.215.105',
          restPort: 8501,
          grpcPort: 8500,
          versions: ['8', '7'],
          labels: {},
          availabilityZone: 'us-east-1a',
          clusterArn: CLUSTER_ARN,
          taskArn: taskArnOf('a'),
          lastProbeAt: new Date(lastSuccessAt).toISOString(),
        },
      ],
      stale: false,
    });
  });

  it('returns null for an unknown availability zone and a missing gRPC port', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: [registration('a', 'resnet', { availabilityZone: undefined, grpcPort: null })],
      probes: [probeRecord('a', 'resnet', NOW)],
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints[0]).toMatchObject({ availabilityZone: null, grpcPort: null });
  });

  it('returns only the healthy endpoints of the model', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: [
        registration('healthy', 'resnet'),
        registration('stale', 'resnet'),
        registration('expired', 'resnet'),
        registration('failing', 'resnet'),
        registration('draining', 'resnet', { lifecycle: 'STOPPING', host: undefined }),
        registration('unprobed', 'resnet'),
      ],
      probes: [
        probeRecord('healthy', 'resnet', NOW),
        probeRecord('stale', 'resnet', NOW, { lastSuccessAt: NOW - 60_000 }),
        probeRecord('expired', 'resnet', NOW, { expiresAt: NOW / 1000 - 1 }),
        probeRecord('failing', 'resnet', NOW, { consecutiveFailures: 5 }),
        probeRecord('draining', 'resnet', NOW),
      ],
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints.map((e) => e.id)).toEqual(['ml/healthy/tfserving']);
  });

  it('does not serve a probe row without a registration', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW), probeRecord('orphan', 'resnet', NOW)],
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving']);
  });

  it('returns the endpoints ordered by id', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: ['c', 'a', 'b'].map((id) => registration(id, 'resnet')),
      probes: ['b', 'c', 'a'].map((id) => probeRecord(id, 'resnet', NOW)),
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving', 'ml/b/tfserving', 'ml/c/tfserving']);
  });

  it('judges health at the time deps.now gives', async () => {
    // Prepare: the prober is running (its marker is a second old) but has not seen the endpoint.
    const { discovery } = deps({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW, { expiresAt: NOW / 1000 + 3600 })],
      round: { startedAt: NOW + 19_000, recordedAt: NOW + 19_000, seen: new Map() },
    });
    const later = { ...discovery, now: () => NOW + 20_000 };

    // Act
    const result = await findEndpoints(later, 'resnet', { kind: 'model' });

    // Assess
    expect(result).toEqual({ model: 'resnet', endpoints: [], stale: false });
  });

  it('keeps serving, marked stale, the endpoints healthy when the prober last recorded anything', async () => {
    // Prepare: the marker saw both 40 s ago and nothing was recorded since; b has a failure on record.
    const lastRecord = NOW - 40_000;
    const { discovery } = deps({
      registrations: [registration('a', 'resnet'), registration('b', 'resnet')],
      probes: [
        probeRecord('a', 'resnet', lastRecord, { expiresAt: NOW / 1000 + 3600 }),
        probeRecord('b', 'resnet', lastRecord, { expiresAt: NOW / 1000 + 3600, consecutiveFailures: 1 }),
      ],
      round: {
        startedAt: lastRecord,
        recordedAt: lastRecord,
        seen: new Map([['ml/a/tfserving', lastRecord]]),
      },
    });

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result).toMatchObject({ stale: true, asOf: new Date(lastRecord).toISOString() });
    expect(result.endpoints.map((e) => [e.id, e.lastProbeAt])).toEqual([
      ['ml/a/tfserving', new Date(lastRecord).toISOString()],
    ]);
  });

  it("reads the model's snapshot and nothing else when it is usable", async () => {
    // Prepare
    const { discovery, reads, store } = deps({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW)],
    });
    await refreshSnapshot({ store, now: () => NOW - 10_000 }, 'resnet');
    reads.readModel.mockClear();

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving']);
    expect(reads.readSnapshot.mock.calls).toEqual([['resnet']]);
    expect(reads.readModel).not.toHaveBeenCalled();
    expect(reads.listRunningTasks).not.toHaveBeenCalled();
  });

  it('answers from the snapshot, not from writes made after it (the writers rebuild it)', async () => {
    // Prepare: the snapshot says a serves; its row then says failing, without a rebuild.
    const { discovery, store } = deps({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW)],
    });
    await refreshSnapshot({ store, now: () => NOW }, 'resnet');
    await store.recordProbeFailure({
      endpointId: 'ml/a/tfserving',
      model: 'resnet',
      probedAt: NOW,
      error: 'x',
    });
    await store.recordProbeFailure({
      endpointId: 'ml/a/tfserving',
      model: 'resnet',
      probedAt: NOW + 1,
      error: 'x',
    });

    // Act
    const before = await findEndpoints(discovery, 'resnet', { kind: 'model' });
    await refreshSnapshot({ store, now: () => NOW }, 'resnet');
    const after = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(before.endpoints).toHaveLength(1);
    expect(after.endpoints).toEqual([]);
  });

  it.each([
    ['there is no snapshot', undefined, true],
    ['the snapshot was rebuilt longer than UNHEALTHY_AFTER_SECONDS ago', NOW - 10_001, true],
    ['the model has too many endpoints for a snapshot', NOW, false],
  ])('reads the partition when %s', async (_, builtAt, withPartition) => {
    // Prepare: the snapshot (if any) says nothing is registered; the partition says a serves.
    const { discovery, reads, store } = deps({
      registrations: [registration('a', 'resnet')],
      probes: [probeRecord('a', 'resnet', NOW)],
    });
    if (builtAt !== undefined) {
      await store.putSnapshot('resnet', {
        sequence: 1,
        builtAt,
        partitionReadAt: builtAt,
        partition: withPartition
          ? { registrations: [registration('a', 'resnet')], probes: [], rounds: [] }
          : undefined,
      });
    }

    // Act
    const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

    // Assess
    expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving']);
    expect(reads.readModel.mock.calls).toEqual([['resnet']]);
  });

  describe('with a version selector', () => {
    const contents = {
      registrations: [registration('a', 'resnet'), registration('b', 'resnet'), registration('c', 'resnet')],
      probes: [
        probeRecord('a', 'resnet', NOW, { versions: ['2', '1'] }),
        probeRecord('b', 'resnet', NOW, { versions: ['1'] }),
        probeRecord('c', 'resnet', NOW, { versions: ['10'] }),
      ],
    };

    it('returns only the endpoints where that version is AVAILABLE', async () => {
      // Prepare
      const { discovery } = deps(contents);

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'version', version: '2' });

      // Assess
      expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving']);
    });

    it('compares whole versions (1 does not match 10)', async () => {
      // Prepare
      const { discovery } = deps(contents);

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'version', version: '1' });

      // Assess
      expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving', 'ml/b/tfserving']);
    });

    it('lists every AVAILABLE version of a matching endpoint, not only the selected one', async () => {
      // Prepare
      const { discovery } = deps(contents);

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'version', version: '1' });

      // Assess
      expect(result.endpoints[0]?.versions).toEqual(['2', '1']);
    });

    it('returns no endpoints for a version no endpoint serves', async () => {
      // Prepare
      const { discovery } = deps(contents);

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'version', version: '3' });

      // Assess
      expect(result).toEqual({ model: 'resnet', endpoints: [], stale: false });
    });

    it('rejects with a 404 ModelNotFound for an unknown model', async () => {
      // Prepare
      const { discovery } = deps(contents);

      // Act
      const finding = findEndpoints(discovery, 'bert', { kind: 'version', version: '1' });

      // Assess
      await expect(finding).rejects.toBeInstanceOf(RequestError);
      await expect(finding).rejects.toMatchObject({ statusCode: 404, code: 'ModelNotFound' });
    });
  });

  describe('with a label selector', () => {
    it('returns an endpoint whose label resolves to an AVAILABLE version', async () => {
      // Prepare
      const { discovery } = deps({
        registrations: [registration('a', 'resnet')],
        probes: [
          probeRecord('a', 'resnet', NOW, { versions: ['8', '7'], labels: { stable: '7', canary: '8' } }),
        ],
      });

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'label', label: 'stable' });

      // Assess
      expect(result.endpoints.map((e) => e.id)).toEqual(['ml/a/tfserving']);
      expect(result.endpoints[0]?.labels).toEqual({ canary: '8', stable: '7' });
    });

    it('shows only the labels that resolve to a served version', async () => {
      // Prepare
      const { discovery } = deps({
        registrations: [registration('a', 'resnet')],
        probes: [probeRecord('a', 'resnet', NOW, { versions: ['7'], labels: { stable: '7', canary: '8' } })],
      });

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'model' });

      // Assess
      expect(result.endpoints[0]?.labels).toEqual({ stable: '7' });
    });

    it('excludes an endpoint whose label resolves to a version that is not AVAILABLE', async () => {
      // Prepare
      const { discovery } = deps({
        registrations: [registration('a', 'resnet')],
        probes: [probeRecord('a', 'resnet', NOW, { versions: ['7'], labels: { canary: '8' } })],
      });

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'label', label: 'canary' });

      // Assess
      expect(result.endpoints).toEqual([]);
    });

    it('excludes an endpoint where the label did not resolve', async () => {
      // Prepare
      const { discovery } = deps({
        registrations: [registration('a', 'resnet')],
        probes: [probeRecord('a', 'resnet', NOW, { versions: ['7'], labels: {} })],
      });

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'label', label: 'stable' });

      // Assess
      expect(result.endpoints).toEqual([]);
    });

    it.each(['constructor', 'toString', '__proto__'])(
      'does not resolve the label %j from the object prototype',
      async (label) => {
        // Prepare
        const { discovery } = deps({
          registrations: [registration('a', 'resnet')],
          probes: [probeRecord('a', 'resnet', NOW, { versions: ['7'], labels: {} })],
        });

        // Act
        const result = await findEndpoints(discovery, 'resnet', { kind: 'label', label });

        // Assess
        expect(result.endpoints).toEqual([]);
      },
    );

    it('excludes an unhealthy endpoint even when its label resolves', async () => {
      // Prepare
      const { discovery } = deps({
        registrations: [registration('a', 'resnet')],
        probes: [
          probeRecord('a', 'resnet', NOW, {
            versions: ['7'],
            labels: { stable: '7' },
            consecutiveFailures: 2,
          }),
        ],
      });

      // Act
      const result = await findEndpoints(discovery, 'resnet', { kind: 'label', label: 'stable' });

      // Assess
      expect(result.endpoints).toEqual([]);
    });
  });
});

describe('listModels', () => {
  it('lists every model with a healthy endpoint, its endpoint count and its versions newest first', async () => {
    // Prepare
    const { discovery } = deps({
      tasks: [taskRecord('a', ['resnet', 'bert']), taskRecord('b', ['resnet'])],
      registrations: [registration('a', 'resnet'), registration('a', 'bert'), registration('b', 'resnet')],
      probes: [
        probeRecord('a', 'resnet', NOW, { versions: ['2', '1'] }),
        probeRecord('b', 'resnet', NOW, { versions: ['10'] }),
        probeRecord('a', 'bert', NOW, { versions: ['3'] }),
      ],
    });

    // Act
    const result = await listModels(discovery);

    // Assess
    expect(result).toEqual({
      models: [
        { name: 'bert', endpoints: 1, versions: ['3'] },
        { name: 'resnet', endpoints: 2, versions: ['10', '2', '1'] },
      ],
      stale: false,
    });
  });

  it('leaves out a model with no healthy endpoint', async () => {
    // Prepare
    const { discovery } = deps({
      tasks: [taskRecord('a', ['resnet', 'bert'])],
      registrations: [registration('a', 'resnet'), registration('a', 'bert')],
      probes: [
        probeRecord('a', 'resnet', NOW),
        probeRecord('a', 'bert', NOW, { lastSuccessAt: NOW - 3_600_000 }),
      ],
    });

    // Act
    const result = await listModels(discovery);

    // Assess
    expect(result.models.map((m) => m.name)).toEqual(['resnet']);
  });

  it('counts only the healthy endpoints and their versions', async () => {
    // Prepare
    const { discovery } = deps({
      tasks: [taskRecord('a', ['resnet']), taskRecord('b', ['resnet'])],
      registrations: [registration('a', 'resnet'), registration('b', 'resnet')],
      probes: [
        probeRecord('a', 'resnet', NOW, { versions: ['1'] }),
        probeRecord('b', 'resnet', NOW, { versions: ['2'], consecutiveFailures: 9 }),
      ],
    });

    // Act
    const result = await listModels(discovery);

    // Assess
    expect(result.models).toEqual([{ name: 'resnet', endpoints: 1, versions: ['1'] }]);
  });

  it('reads each model partition once, even when several tasks declare the model', async () => {
    // Prepare
    const { discovery, reads } = deps({
      tasks: [taskRecord('a', ['resnet']), taskRecord('b', ['resnet']), taskRecord('c', ['bert'])],
    });

    // Act
    await listModels(discovery);

    // Assess
    expect(reads.listRunningTasks).toHaveBeenCalledOnce();
    expect(reads.readModel.mock.calls.map(([model]) => model).sort()).toEqual(['bert', 'resnet']);
  });

  it('returns an empty list for an empty registry', async () => {
    // Prepare
    const { discovery } = deps({});

    // Act
    const result = await listModels(discovery);

    // Assess
    expect(result).toEqual({ models: [], stale: false });
  });
});

describe('modelHealth', () => {
  const running = registration('a', 'resnet');

  it('rejects with a 404 ModelNotFound for a model no running task declares, as discovery does', async () => {
    // Prepare
    const { discovery } = deps({ registrations: [registration('a', 'resnet', { lifecycle: 'STOPPED' })] });

    // Act
    const asking = modelHealth(discovery, 'resnet');

    // Assess
    await expect(asking).rejects.toBeInstanceOf(RequestError);
    await expect(asking).rejects.toMatchObject({ statusCode: 404, code: 'ModelNotFound' });
  });

  it('answers a served endpoint with every field of the contract', async () => {
    // Prepare
    const { discovery } = deps({
      registrations: [running],
      probes: [
        probeRecord('a', 'resnet', NOW, { versions: ['2', '1'], labels: { stable: '2', canary: '3' } }),
      ],
    });

    // Act
    const health = await modelHealth(discovery, 'resnet');

    // Assess
    expect(health).toEqual({
      model: 'resnet',
      stale: false,
      endpoints: [
        {
          id: 'ml/a/tfserving',
          host: '10.0.0.1',
          restPort: 8501,
          grpcPort: 8500,
          versions: ['2', '1'],
          labels: { canary: '3', stable: '2' },
          availabilityZone: 'us-east-1a',
          clusterArn: CLUSTER_ARN,
          taskArn: taskArnOf('a'),
          lastProbeAt: new Date(NOW - 1000).toISOString(),
          served: true,
          reason: null,
          lifecycle: 'RUNNING',
          consecutiveFailures: 0,
          lastError: null,
          lastSuccessAt: new Date(NOW - 1000).toISOString(),
        },
      ],
    });
  });

  it.each<[ExclusionReason, ModelRegistration, ProbeRecord | undefined, Record<string, unknown>]>([
    [
      'not-running',
      registration('a', 'resnet', { lifecycle: 'STOPPING' }),
      probeRecord('a', 'resnet', NOW),
      { lifecycle: 'STOPPING' },
    ],
    [
      'not-running',
      registration('a', 'resnet', { host: undefined, restPort: undefined }),
      undefined,
      { host: null, restPort: null, lastProbeAt: null },
    ],
    [
      'never-probed-ok',
      running,
      undefined,
      { lastProbeAt: null, lastSuccessAt: null, consecutiveFailures: 0 },
    ],
    [
      'never-probed-ok',
      running,
      probeRecord('a', 'resnet', NOW, {
        versions: [],
        lastSuccessAt: undefined,
        consecutiveFailures: 3,
        lastError: 'connect ECONNREFUSED 10.0.0.1:8501',
      }),
      { consecutiveFailures: 3, lastError: 'connect ECONNREFUSED 10.0.0.1:8501', lastSuccessAt: null },
    ],
    [
      'row-expired',
      running,
      probeRecord('a', 'resnet', NOW, { expiresAt: Math.floor(NOW / 1000) - 1 }),
      { versions: ['1'] },
    ],
    [
      'stale',
      running,
      probeRecord('a', 'resnet', NOW, {
        lastSuccessAt: NOW - 15_000,
        probedAt: NOW - 500,
        consecutiveFailures: 1,
        lastError: 'timed out after 2000 ms',
      }),
      { lastSuccessAt: new Date(NOW - 15_000).toISOString(), lastProbeAt: new Date(NOW - 500).toISOString() },
    ],
    [
      'failing',
      running,
      probeRecord('a', 'resnet', NOW, {
        lastSuccessAt: NOW - 3_000,
        probedAt: NOW - 500,
        consecutiveFailures: 2,
        lastError: 'HTTP 503',
      }),
      { consecutiveFailures: 2, lastError: 'HTTP 503' },
    ],
    ['no-available-version', running, probeRecord('a', 'resnet', NOW, { versions: [] }), { versions: [] }],
  ])(
    'answers an endpoint excluded as %s with that reason and its evidence',
    async (reason, excluded, probe, evidence) => {
      // Prepare: task b keeps the model known whatever a's state.
      const { discovery } = deps({
        registrations: [excluded, registration('b', 'resnet')],
        probes: probe === undefined ? [] : [probe],
      });

      // Act
      const health = await modelHealth(discovery, 'resnet');

      // Assess
      expect(health.endpoints.find((e) => e.id === 'ml/a/tfserving')).toMatchObject({
        served: false,
        reason,
        ...evidence,
      });
    },
  );

  it('counts the round marker’s sighting as the latest probe and the last success', async () => {
    // Prepare
    const round: RoundMarker = {
      startedAt: NOW - 200,
      recordedAt: NOW - 100,
      seen: new Map([['ml/a/tfserving', NOW - 200]]),
    };
    const { discovery } = deps({
      registrations: [running],
      probes: [probeRecord('a', 'resnet', NOW, { lastSuccessAt: NOW - 8_000, probedAt: NOW - 8_000 })],
      round,
    });

    // Act
    const [endpoint] = (await modelHealth(discovery, 'resnet')).endpoints;

    // Assess
    expect(endpoint).toMatchObject({
      served: true,
      lastProbeAt: new Date(NOW - 200).toISOString(),
      lastSuccessAt: new Date(NOW - 200).toISOString(),
    });
  });

  it('says stale, as of the prober’s last record, when the prober has stalled', async () => {
    // Prepare: nothing recorded for 60 s, longer than UNHEALTHY_AFTER_SECONDS.
    const { discovery } = deps({
      registrations: [running],
      probes: [probeRecord('a', 'resnet', NOW, { lastSuccessAt: NOW - 60_000, probedAt: NOW - 60_000 })],
    });

    // Act
    const health = await modelHealth(discovery, 'resnet');

    // Assess
    expect(health).toMatchObject({ stale: true, asOf: new Date(NOW - 60_000).toISOString() });
    expect(health.endpoints).toEqual([expect.objectContaining({ served: true, reason: null })]);
  });

  it('answers every registered endpoint, served or not, ordered by id, from one read', async () => {
    // Prepare
    const { discovery, reads } = deps({
      registrations: [
        registration('c', 'resnet'),
        running,
        registration('b', 'resnet', { lifecycle: 'STOPPED' }),
      ],
      probes: [probeRecord('a', 'resnet', NOW), probeRecord('c', 'resnet', NOW, { consecutiveFailures: 5 })],
    });

    // Act
    const health = await modelHealth(discovery, 'resnet');

    // Assess
    expect(health.endpoints.map((e) => [e.id, e.reason])).toEqual([
      ['ml/a/tfserving', null],
      ['ml/b/tfserving', 'not-running'],
      ['ml/c/tfserving', 'failing'],
    ]);
    expect(reads.readModel).toHaveBeenCalledTimes(1);
    expect(reads.listRunningTasks).not.toHaveBeenCalled();
  });
});

describe('routingEtag', () => {
  const endpoint: Endpoint = {
    id: 'ml/a/tfserving',
    host: '10.0.0.1',
    restPort: 8501,
    grpcPort: 8500,
    versions: ['2', '1'],
    labels: { stable: '2' },
    availabilityZone: 'us-east-1a',
    clusterArn: CLUSTER_ARN,
    taskArn: taskArnOf('a'),
    lastProbeAt: '2026-05-04T10:04:59.000Z',
  };
  const body = (patch: Partial<Endpoint> = {}): ModelEndpoints => ({
    model: 'resnet',
    endpoints: [{ ...endpoint, ...patch }],
    stale: false,
  });

  it('returns a weak ETag', () => {
    // Act / Assess
    expect(routingEtag(body())).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
  });

  it('returns the same ETag for the same routing', () => {
    // Act / Assess
    expect(routingEtag(body())).toBe(routingEtag(body()));
  });

  it('ignores lastProbeAt', () => {
    // Act / Assess
    expect(routingEtag(body({ lastProbeAt: '2026-05-04T10:05:04.000Z' }))).toBe(routingEtag(body()));
  });

  it.each<[string, Partial<Endpoint>]>([
    ['the id', { id: 'ml/b/tfserving' }],
    ['the host', { host: '10.0.0.2' }],
    ['the REST port', { restPort: 9000 }],
    ['the gRPC port', { grpcPort: null }],
    ['the versions', { versions: ['2'] }],
    ['a new version', { versions: ['3', '2', '1'] }],
    ['a label moving to another version', { labels: { stable: '1' } }],
  ])('changes with %s', (_, patch) => {
    // Act / Assess
    expect(routingEtag(body(patch))).not.toBe(routingEtag(body()));
  });

  it('changes when an endpoint is added', () => {
    // Prepare
    const two: ModelEndpoints = {
      model: 'resnet',
      endpoints: [endpoint, { ...endpoint, id: 'ml/b/tfserving' }],
      stale: false,
    };

    // Act / Assess
    expect(routingEtag(two)).not.toBe(routingEtag(body()));
  });

  describe('for the model list', () => {
    const list = (endpoints: number, versions: string[]) => ({
      models: [{ name: 'resnet', endpoints, versions }],
    });

    it('returns the same ETag for the same list', () => {
      // Act / Assess
      expect(routingEtag(list(2, ['2']))).toBe(routingEtag(list(2, ['2'])));
    });

    it('changes when an endpoint count changes', () => {
      // Act / Assess
      expect(routingEtag(list(3, ['2']))).not.toBe(routingEtag(list(2, ['2'])));
    });

    it('changes when a version appears', () => {
      // Act / Assess
      expect(routingEtag(list(2, ['3', '2']))).not.toBe(routingEtag(list(2, ['2'])));
    });
  });
});
