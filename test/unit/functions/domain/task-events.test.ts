import { describe, expect, it, vi } from 'vitest';
import { findEndpoints } from '../../../../functions/domain/discovery.ts';
import type { TaskDetail } from '../../../../functions/domain/ecs-task-event.ts';
import { RequestError } from '../../../../functions/domain/errors.ts';
import type { EcsLookups } from '../../../../functions/domain/ports.ts';
import type { TaskDefinition } from '../../../../functions/domain/task-endpoints.ts';
import {
  applyTaskEvent,
  DEFAULT_TOMBSTONE_SECONDS,
  notAppliedBecause,
} from '../../../../functions/domain/task-events.ts';
import { testDiscoveryDeps, testTaskEventDeps } from '../../../support/kit/deps.ts';
import { type TaskEventFixture, taskDetail } from '../../../support/kit/events.ts';
import { InMemoryRegistryStore } from '../../../support/kit/in-memory-store.ts';
import { singleContainerDefinition, taskDefinition } from '../../../support/kit/task-definitions.ts';
import { FakeTfServing } from '../../../support/kit/tfserving.ts';

const NOW = Date.parse('2026-05-04T10:00:35.000Z');
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ml/3f0c9a7e5b2d4c1e8a6f0b9d7c3e2a14';
const ENDPOINT_ID = 'ml/3f0c9a7e5b2d4c1e8a6f0b9d7c3e2a14/tfserving';
const AWSVPC_ADDRESS = { host: '10.0.215.105', restPort: 8501 };
const SIDECARS_ID = 'ml/8b2e4f6a1c3d4e5f9a7b6c5d4e3f2a1b/tfserving';
const SIDECARS_ADDRESS = { host: '10.0.131.42', restPort: 8501 };
const BRIDGE_HOST = '10.0.9.17';

interface SetupOptions {
  readonly taskDefinition?: TaskDefinition;
  readonly containerInstanceHost?: string;
}

function setup(options: SetupOptions = {}) {
  const store = new InMemoryRegistryStore();
  const tfserving = new FakeTfServing();
  const lookups = {
    taskDefinition: vi.fn<EcsLookups['taskDefinition']>(async () => options.taskDefinition),
    containerInstanceHost: vi.fn<EcsLookups['containerInstanceHost']>(
      async () => options.containerInstanceHost,
    ),
  };
  const now = () => NOW;
  const deps = testTaskEventDeps({ store, tfserving, lookups, now });
  const apply = (detail: TaskDetail) => applyTaskEvent(detail, deps);
  const applyFixture = (name: TaskEventFixture) => apply(taskDetail(name));
  const discover = (model: string) =>
    findEndpoints(testDiscoveryDeps({ store, now }), model, { kind: 'model' });
  return { store, tfserving, lookups, deps, apply, applyFixture, discover };
}

/** A set-up whose TF Serving already has `resnet` version 7 AVAILABLE on the awsvpc task. */
function setupServingResnet(options: SetupOptions = {}) {
  const context = setup(options);
  context.tfserving.status(AWSVPC_ADDRESS, 'resnet', { ok: true, versions: ['7'] });
  return context;
}

describe('applyTaskEvent', () => {
  describe('RUNNING', () => {
    it('registers the endpoint for its model with its address, as RUNNING', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();

      // Act
      const outcome = await applyFixture('running-awsvpc');

      // Assess
      expect(outcome).toMatchObject({
        applied: true,
        lifecycle: 'RUNNING',
        taskArn: TASK_ARN,
        taskVersion: 3,
      });
      expect(store.registration(ENDPOINT_ID, 'resnet')).toEqual({
        registration: {
          endpointId: ENDPOINT_ID,
          model: 'resnet',
          taskArn: TASK_ARN,
          clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
          availabilityZone: 'us-east-1a',
          host: '10.0.215.105',
          restPort: 8501,
          grpcPort: 8500,
          taskVersion: 3,
          lifecycle: 'RUNNING',
        },
        expiresAt: undefined,
      });
    });

    it('registers each endpoint × model of the task', async () => {
      // Prepare
      const { applyFixture, store } = setup();

      // Act
      await applyFixture('running-sidecars');

      // Assess
      expect(
        [...store.registrations.values()].map((r) => [r.registration.endpointId, r.registration.model]),
      ).toEqual([
        [SIDECARS_ID, 'resnet'],
        [SIDECARS_ID, 'bert'],
      ]);
    });

    it('probes each registered endpoint × model at once', async () => {
      // Prepare
      const { applyFixture, tfserving } = setup();
      tfserving.status(SIDECARS_ADDRESS, 'resnet', { ok: true, versions: ['2'] });

      // Act
      const outcome = await applyFixture('running-sidecars');

      // Assess
      expect(tfserving.statusCalls).toEqual([
        { ...SIDECARS_ADDRESS, model: 'resnet' },
        { ...SIDECARS_ADDRESS, model: 'bert' },
      ]);
      expect(outcome.probes).toEqual([
        {
          ok: true,
          versions: ['2'],
          labels: {},
          written: true,
          unchanged: false,
          endpointId: SIDECARS_ID,
          model: 'resnet',
        },
        {
          ok: false,
          reason: 'connect ECONNREFUSED 10.0.131.42:8501',
          written: false,
          endpointId: SIDECARS_ID,
          model: 'bert',
        },
      ]);
    });

    it('serves an endpoint whose model is already AVAILABLE right after its event', async () => {
      // Prepare
      const { applyFixture, discover } = setupServingResnet();

      // Act
      await applyFixture('running-awsvpc');

      // Assess
      expect(await discover('resnet')).toMatchObject({
        model: 'resnet',
        endpoints: [{ id: ENDPOINT_ID, host: '10.0.215.105', restPort: 8501, versions: ['7'] }],
      });
    });

    it('keeps a registered endpoint whose models are still loading known but unserved', async () => {
      // Prepare
      const { applyFixture, discover } = setup();

      // Act
      await applyFixture('running-awsvpc');

      // Assess
      expect(await discover('resnet')).toEqual({ model: 'resnet', endpoints: [], stale: false });
    });

    it('stores the task as RUNNING with its endpoints and no expiry', async () => {
      // Prepare
      const { applyFixture, store } = setup();

      // Act
      await applyFixture('running-awsvpc');

      // Assess
      const task = await store.getTask(TASK_ARN);
      expect(task).toMatchObject({ taskVersion: 3, lifecycle: 'RUNNING', availabilityZone: 'us-east-1a' });
      expect(task?.endpoints.map((e) => e.id)).toEqual([ENDPOINT_ID]);
      expect(task).not.toHaveProperty('expiresAt');
    });

    it('reads the task definition by its ARN and uses its labels', async () => {
      // Prepare
      const { applyFixture, lookups, store } = setup({ taskDefinition: taskDefinition('tfs-resnet-7') });

      // Act
      await applyFixture('running-awsvpc');

      // Assess
      expect(lookups.taskDefinition).toHaveBeenCalledWith(
        'arn:aws:ecs:us-east-1:123456789012:task-definition/tfs-resnet:7',
      );
      expect((await store.getTask(TASK_ARN))?.endpoints[0]?.labels).toEqual(['stable']);
    });

    it('registers a bridge-mode endpoint on the container instance address and its host port', async () => {
      // Prepare
      const { applyFixture, lookups, store } = setup({ containerInstanceHost: BRIDGE_HOST });

      // Act
      await applyFixture('running-bridge');

      // Assess
      expect(lookups.containerInstanceHost).toHaveBeenCalledWith(
        'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
        'arn:aws:ecs:us-east-1:123456789012:container-instance/ml/9b1d7e3f5a2c4b6d8e0f1a3c5e7b9d2f',
      );
      expect(
        store.registration('ml/5f6e1d2c3b4a49788695a4b3c2d1e0f9/tfserving', 'bert')?.registration,
      ).toMatchObject({
        host: BRIDGE_HOST,
        restPort: 49159,
        grpcPort: 49158,
      });
    });

    it('does not look up a container instance for an awsvpc task', async () => {
      // Prepare
      const { applyFixture, lookups } = setup();

      // Act
      await applyFixture('running-awsvpc');

      // Assess
      expect(lookups.containerInstanceHost).not.toHaveBeenCalled();
    });

    it('neither registers nor probes an endpoint without an address, but stores the task', async () => {
      // Prepare
      const { apply, store, tfserving } = setup();
      const detail = taskDetail('running-bridge');

      // Act: bridge mode with the container instance address unknown
      const outcome = await apply(detail);

      // Assess
      expect(outcome.applied).toBe(true);
      expect(outcome.skipped).toEqual([
        { container: 'tfserving', reason: 'the container instance address is unknown' },
      ]);
      expect(store.registrations.size).toBe(0);
      expect(tfserving.statusCalls).toEqual([]);
      expect((await store.getTask(detail.taskArn))?.lifecycle).toBe('RUNNING');
    });

    it('registers nothing for a task without TF Serving declarations', async () => {
      // Prepare
      const { applyFixture, store } = setup();

      // Act
      const outcome = await applyFixture('running-no-models');

      // Assess
      expect(outcome.endpoints).toEqual([]);
      expect(store.registrations.size).toBe(0);
    });

    it('applies a duplicate event again without changing the registry', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      await applyFixture('running-awsvpc');
      const before = store.snapshot();

      // Act
      const outcome = await applyFixture('running-awsvpc');

      // Assess
      expect(outcome.applied).toBe(true);
      expect(store.snapshot()).toEqual(before);
    });
  });

  describe('PENDING', () => {
    it.each(['provisioning', 'pending'] as const)('registers nothing for the %s event', async (name) => {
      // Prepare
      const { applyFixture, store } = setup();

      // Act
      const outcome = await applyFixture(name);

      // Assess
      expect(outcome).toMatchObject({ applied: true, lifecycle: 'PENDING', endpoints: [], probes: [] });
      expect(store.registrations.size).toBe(0);
    });

    it('neither looks anything up nor probes', async () => {
      // Prepare
      const { applyFixture, lookups, tfserving } = setup({ taskDefinition: taskDefinition('tfs-resnet-7') });

      // Act
      await applyFixture('pending');

      // Assess
      expect(lookups.taskDefinition).not.toHaveBeenCalled();
      expect(lookups.containerInstanceHost).not.toHaveBeenCalled();
      expect(tfserving.statusCalls).toEqual([]);
    });

    it('stores the task as PENDING, so a later RUNNING event still applies', async () => {
      // Prepare
      const { applyFixture, store } = setup();

      // Act
      await applyFixture('pending');
      const running = await applyFixture('running-awsvpc');

      // Assess
      expect(running.applied).toBe(true);
      expect((await store.getTask(TASK_ARN))?.lifecycle).toBe('RUNNING');
    });
  });

  describe('drain (desiredStatus STOPPED)', () => {
    it('writes a STOPPING tombstone without an address, expiring after the tombstone time', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      await applyFixture('running-awsvpc');

      // Act
      const outcome = await applyFixture('draining');

      // Assess
      expect(outcome).toMatchObject({ applied: true, lifecycle: 'STOPPING', probes: [] });
      expect(store.registration(ENDPOINT_ID, 'resnet')).toEqual({
        registration: expect.objectContaining({
          lifecycle: 'STOPPING',
          taskVersion: 4,
          host: undefined,
          restPort: undefined,
          grpcPort: null,
        }),
        expiresAt: NOW / 1000 + DEFAULT_TOMBSTONE_SECONDS,
      });
    });

    it('deletes the probe rows of the endpoint', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      await applyFixture('running-awsvpc');
      expect(store.probe(ENDPOINT_ID, 'resnet')).toBeDefined();

      // Act
      await applyFixture('draining');

      // Assess
      expect(store.probe(ENDPOINT_ID, 'resnet')).toBeUndefined();
    });

    it('removes the endpoint from discovery at once', async () => {
      // Prepare
      const { applyFixture, discover } = setupServingResnet();
      await applyFixture('running-awsvpc');

      // Act
      await applyFixture('draining');

      // Assess
      const discovering = discover('resnet');
      await expect(discovering).rejects.toBeInstanceOf(RequestError);
      await expect(discovering).rejects.toMatchObject({ statusCode: 404, code: 'ModelNotFound' });
    });

    it('stores the task as a STOPPING tombstone that the probe no longer walks', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      await applyFixture('running-awsvpc');

      // Act
      await applyFixture('draining');

      // Assess
      expect(await store.getTask(TASK_ARN)).toMatchObject({
        lifecycle: 'STOPPING',
        taskVersion: 4,
        expiresAt: NOW / 1000 + DEFAULT_TOMBSTONE_SECONDS,
      });
      expect(await store.listRunningTasks()).toEqual([]);
    });

    it('does not probe', async () => {
      // Prepare
      const { applyFixture, tfserving } = setupServingResnet();

      // Act
      await applyFixture('draining');

      // Assess
      expect(tfserving.statusCalls).toEqual([]);
    });
  });

  describe('STOPPED', () => {
    it('writes a STOPPED tombstone and deletes the probe rows', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      await applyFixture('running-awsvpc');

      // Act
      const outcome = await applyFixture('stopped');

      // Assess
      expect(outcome).toMatchObject({ applied: true, lifecycle: 'STOPPED' });
      expect(store.registration(ENDPOINT_ID, 'resnet')).toMatchObject({
        registration: { lifecycle: 'STOPPED', taskVersion: 6, host: undefined },
        expiresAt: NOW / 1000 + DEFAULT_TOMBSTONE_SECONDS,
      });
      expect(store.probes.size).toBe(0);
    });

    it('retires models only the earlier registration had', async () => {
      // Prepare: RUNNING was derived with the task definition (resnet, bert, embedder) ...
      const { apply, store, lookups, tfserving } = setup({
        taskDefinition: taskDefinition('tfs-custom-ports-1'),
      });
      const address = { host: '10.0.142.7', restPort: 9000 };
      for (const model of ['resnet', 'bert', 'embedder'])
        tfserving.status(address, model, { ok: true, versions: ['1'] });
      const overrides = {
        containerOverrides: [{ name: 'tfserving', environment: [{ name: 'MODEL_NAME', value: 'resnet' }] }],
      };
      const running = taskDetail('running-no-models', { overrides });
      await apply(running);
      // ... the stop is derived from the event alone (the ECS API failed): resnet only
      lookups.taskDefinition.mockResolvedValue(undefined);
      const id = 'ml/0e1f2a3b4c5d4e6f8a9b0c1d2e3f4a5b/tfserving';

      // Act
      await apply({ ...running, version: 6, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });

      // Assess
      for (const model of ['resnet', 'bert', 'embedder']) {
        expect(store.registration(id, model)?.registration.lifecycle).toBe('STOPPED');
        expect(store.probe(id, model)).toBeUndefined();
      }
    });

    it('retires the models of an earlier delivery that a later RUNNING event of the task no longer derived', async () => {
      // Prepare: RUNNING v3 read the task definition (resnet and bert) ...
      const definition = singleContainerDefinition({
        name: 'tfserving',
        image: 'tensorflow/serving:2.15.0',
        environment: { TFSERVING_MODELS: 'resnet,bert' },
      });
      const { apply, store, lookups } = setupServingResnet({ taskDefinition: definition });
      const running = taskDetail('running-awsvpc', { overrides: undefined });
      await apply(running);
      // ... a later RUNNING event of the same task (v4, e.g. a container state change) and the STOPPED
      // event were handled where the ECS API was unavailable: the event alone declares no model
      lookups.taskDefinition.mockResolvedValue(undefined);
      await apply({ ...running, version: 4 });

      // Act
      await apply({ ...running, version: 6, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });

      // Assess: no registration is left RUNNING behind a stopped task
      expect(store.registration(ENDPOINT_ID, 'bert')?.registration.lifecycle).toBe('STOPPED');
    });

    it('writes tombstones for a task never seen before, so a late RUNNING event cannot revive it', async () => {
      // Prepare
      const { applyFixture, store, tfserving } = setupServingResnet();
      await applyFixture('stopped');

      // Act
      const late = await applyFixture('running-awsvpc');

      // Assess
      expect(late.applied).toBe(false);
      expect(store.registration(ENDPOINT_ID, 'resnet')?.registration.lifecycle).toBe('STOPPED');
      expect(tfserving.statusCalls).toEqual([]);
    });

    it('treats DEACTIVATING as stopping', async () => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      await applyFixture('running-awsvpc');

      // Act
      const outcome = await applyFixture('deactivating');

      // Assess
      expect(outcome.lifecycle).toBe('STOPPING');
      expect(store.registration(ENDPOINT_ID, 'resnet')?.registration.lifecycle).toBe('STOPPING');
    });
  });

  describe('stale events', () => {
    it.each([
      ['a late PENDING after RUNNING', ['running-awsvpc'], 'pending', 'superseded'],
      ['a late RUNNING after the drain', ['running-awsvpc', 'draining'], 'running-awsvpc', 'task-stopping'],
      ['a late RUNNING after STOPPED', ['running-awsvpc', 'stopped'], 'running-awsvpc', 'task-stopping'],
      ['a late drain after STOPPED', ['running-awsvpc', 'stopped'], 'draining', 'task-stopping'],
      ['a late PROVISIONING after PENDING', ['pending'], 'provisioning', 'superseded'],
    ] as const)('reports %s applied: false (%s) and changes nothing', async (_, earlier, late, reason) => {
      // Prepare
      const { applyFixture, store } = setupServingResnet();
      for (const name of earlier) await applyFixture(name);
      const before = store.snapshot();

      // Act
      const outcome = await applyFixture(late);

      // Assess
      expect(outcome.applied).toBe(false);
      expect(outcome.notApplied?.reason).toBe(reason);
      expect(outcome.probes).toEqual([]);
      expect(store.snapshot()).toEqual(before);
    });

    it('does not probe for a stale RUNNING event', async () => {
      // Prepare
      const { applyFixture, tfserving } = setupServingResnet();
      await applyFixture('draining');

      // Act
      await applyFixture('running-awsvpc');

      // Assess
      expect(tfserving.statusCalls).toEqual([]);
    });

    it('rejects a RUNNING event with a higher version once the task is stopping', async () => {
      // Prepare
      const { apply, applyFixture } = setupServingResnet();
      await applyFixture('draining');

      // Act
      const outcome = await apply(taskDetail('running-awsvpc', { version: 9 }));

      // Assess: not "stale": the task is stopping, which is final
      expect(outcome).toMatchObject({
        applied: false,
        notApplied: { reason: 'task-stopping', message: expect.stringMatching(/STOPPING.*new ARN/) },
      });
    });

    it('says a lower version of a running task was superseded, naming the version applied', async () => {
      // Prepare
      const { apply } = setupServingResnet();
      await apply(taskDetail('running-awsvpc', { version: 7 }));

      // Act
      const outcome = await apply(taskDetail('running-awsvpc', { version: 5 }));

      // Assess
      expect(outcome.notApplied).toEqual({
        reason: 'superseded',
        message: 'a later event of this task was already applied (version 7, RUNNING)',
      });
    });

    it.each([
      ['no task at all (its row gone)', undefined],
      ['the same state', { taskVersion: 3, lifecycle: 'RUNNING' } as const],
    ])('calls a lost write against %s concurrent', (_, current) => {
      // Act
      const why = notAppliedBecause(current, 3, 'RUNNING');

      // Assess
      expect(why.reason).toBe('concurrent');
    });

    it('ends in the same state whatever the delivery order, duplicates included', async () => {
      // Prepare
      const lifecycle: TaskEventFixture[] = ['pending', 'running-awsvpc', 'draining', 'stopped'];
      const inOrder = setupServingResnet();
      for (const name of lifecycle) await inOrder.applyFixture(name);
      const expected = inOrder.store.snapshot();

      for (const order of permutations(lifecycle)) {
        const { applyFixture, store } = setupServingResnet();

        // Act
        for (const name of [...order, ...order]) await applyFixture(name);

        // Assess
        expect(store.snapshot(), order.join(' → ')).toEqual(expected);
      }
    });
  });
});

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}
