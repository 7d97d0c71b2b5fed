import pMap from 'p-map';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelRegistration, TaskRecord } from '../../../functions/domain/records.ts';
import { createTestRegistry, type TestRegistry } from '../../support/test-registry.ts';

const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ml/0123456789abcdef0123456789abcdef';
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';

const task = (patch: Partial<TaskRecord> = {}): TaskRecord => ({
  taskArn: TASK_ARN,
  clusterArn: CLUSTER_ARN,
  taskVersion: 3,
  lifecycle: 'RUNNING',
  availabilityZone: 'us-east-1a',
  endpoints: [
    {
      id: 'ml/0123/tfserving',
      containerName: 'tfserving',
      host: '127.0.0.2',
      restPort: 8501,
      grpcPort: 8500,
      models: ['resnet'],
      labels: [],
    },
  ],
  ...patch,
});

const registration = (patch: Partial<ModelRegistration> = {}): ModelRegistration => ({
  endpointId: 'ml/0123/tfserving',
  model: 'resnet',
  taskArn: TASK_ARN,
  clusterArn: CLUSTER_ARN,
  availabilityZone: 'us-east-1a',
  host: '127.0.0.2',
  restPort: 8501,
  grpcPort: 8500,
  taskVersion: 3,
  lifecycle: 'RUNNING',
  ...patch,
});

describe('RegistryStore', () => {
  let registry: TestRegistry;

  beforeEach(async () => {
    registry = await createTestRegistry();
  });

  afterEach(() => registry.close());

  it('applies a newer version of a task and reports the write', async () => {
    // Prepare
    await registry.store.putTask(task({ taskVersion: 2, lifecycle: 'PENDING' }));

    // Act
    const applied = await registry.store.putTask(task());

    // Assess
    expect(applied).toBe(true);
    expect(await registry.store.getTask(TASK_ARN)).toMatchObject({ taskVersion: 3, lifecycle: 'RUNNING' });
  });

  it('returns false, without an error, when an older version loses to the stored one', async () => {
    // Prepare
    await registry.store.putTask(task({ taskVersion: 4, lifecycle: 'STOPPING' }));

    // Act
    const applied = await registry.store.putTask(task({ taskVersion: 3 }));

    // Assess
    expect(applied).toBe(false);
    expect(await registry.store.getTask(TASK_ARN)).toMatchObject({ taskVersion: 4, lifecycle: 'STOPPING' });
  });

  it('applies the same version again, so a redelivered event finishes what a failed attempt began', async () => {
    // Prepare
    await registry.store.putTask(task());

    // Act
    const applied = await registry.store.putTask(task());

    // Assess
    expect(applied).toBe(true);
  });

  it('never moves a stopping task back to running, whatever its version says', async () => {
    // Prepare
    await registry.store.putRegistration(registration({ taskVersion: 4, lifecycle: 'STOPPING' }));

    // Act
    const applied = await registry.store.putRegistration(
      registration({ taskVersion: 5, lifecycle: 'RUNNING' }),
    );

    // Assess
    expect(applied).toBe(false);
    expect((await registry.store.readModel('resnet')).registrations).toEqual([
      expect.objectContaining({ lifecycle: 'STOPPING', taskVersion: 4 }),
    ]);
  });

  it('lists only running tasks for the probe', async () => {
    // Prepare
    await registry.store.putTask(task());
    await registry.store.putTask(task({ taskArn: `${TASK_ARN}0`, lifecycle: 'STOPPED', taskVersion: 6 }));
    await registry.store.putTask(task({ taskArn: `${TASK_ARN}1`, lifecycle: 'PENDING', taskVersion: 1 }));

    // Act
    const running = await registry.store.listRunningTasks();

    // Assess
    expect(running.map((t) => t.taskArn)).toEqual([TASK_ARN]);
  });

  it('does not create a probe row for a failure, so a late failure leaves nothing behind a stopped task', async () => {
    // Act
    const written = await registry.store.recordProbeFailure({
      endpointId: 'ml/0123/tfserving',
      model: 'resnet',
      probedAt: 1,
      error: 'connect ECONNREFUSED',
    });

    // Assess
    expect(written).toBe(false);
    expect((await registry.store.readModel('resnet')).probes).toEqual([]);
  });

  it('counts consecutive failures and resets them on success', async () => {
    // Prepare
    const base = { endpointId: 'ml/0123/tfserving', model: 'resnet' };
    await registry.store.recordProbeSuccess({
      ...base,
      versions: ['2'],
      labels: {},
      probedAt: 1000,
      expiresAt: 100,
    });
    await registry.store.recordProbeFailure({ ...base, probedAt: 2000, error: 'HTTP 500' });
    await registry.store.recordProbeFailure({ ...base, probedAt: 3000, error: 'timeout after 2000 ms' });
    const failing = (await registry.store.readModel('resnet')).probes[0];

    // Act
    await registry.store.recordProbeSuccess({
      ...base,
      versions: ['3', '2'],
      labels: { stable: '3' },
      probedAt: 4000,
      expiresAt: 104,
    });
    const recovered = (await registry.store.readModel('resnet')).probes[0];

    // Assess
    expect(failing).toMatchObject({
      consecutiveFailures: 2,
      lastSuccessAt: 1000,
      lastError: 'timeout after 2000 ms',
      expiresAt: 100,
    });
    expect(recovered).toMatchObject({
      consecutiveFailures: 0,
      lastSuccessAt: 4000,
      lastError: undefined,
      versions: ['3', '2'],
      labels: { stable: '3' },
      expiresAt: 104,
    });
  });

  it('reads registrations and probe rows of a model in one partition, apart from other models', async () => {
    // Prepare
    await registry.store.putRegistration(registration());
    await registry.store.putRegistration(registration({ model: 'bert' }));
    await registry.store.recordProbeSuccess({
      endpointId: 'ml/0123/tfserving',
      model: 'resnet',
      versions: ['1'],
      labels: {},
      probedAt: 1,
      expiresAt: 10,
    });

    // Act
    const partition = await registry.store.readModel('resnet');

    // Assess
    expect(partition.registrations).toEqual([registration()]);
    expect(partition.probes).toEqual([
      expect.objectContaining({ endpointId: 'ml/0123/tfserving', versions: ['1'] }),
    ]);
  });

  it('reads a model partition larger than one 1 MB page', async () => {
    // Prepare: enough registrations to need pagination.
    const padding = 'x'.repeat(2_000);
    await pMap(
      Array.from({ length: 600 }, (_, i) => i),
      (i) => registry.store.putRegistration(registration({ endpointId: `ml/${i}/tfserving`, host: padding })),
      { concurrency: 16 },
    );

    // Act
    const partition = await registry.store.readModel('resnet');

    // Assess
    expect(partition.registrations).toHaveLength(600);
  });
});
