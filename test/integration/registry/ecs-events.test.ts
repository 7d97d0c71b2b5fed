import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerDiscovery } from '../../../functions/adapters/edges/discovery-api.ts';
import { handleEcsEvent } from '../../../functions/adapters/edges/ecs-events.ts';
import { InvalidEventError } from '../../../functions/domain/errors.ts';
import { probeEndpointModel } from '../../../functions/domain/probe.ts';
import { isAddressable } from '../../../functions/domain/task-endpoints.ts';
import type { TaskEventOutcome } from '../../../functions/domain/task-events.ts';
import { TfServingStandIn } from '../../../tools/tfserving-stand-in/stand-in.ts';
import { loadEvent, loopbackEvent } from '../../support/kit/events.ts';
import { singleContainerDefinition } from '../../support/kit/task-definitions.ts';
import { createTestRegistry, standInHost, type TestRegistry } from '../../support/test-registry.ts';

const FILE_OCTET = 10;

async function discover(registry: TestRegistry, path: { model: string; version?: string; label?: string }) {
  const resource =
    path.version !== undefined
      ? '/models/{model}/versions/{version}'
      : path.label !== undefined
        ? '/models/{model}/labels/{label}'
        : '/models/{model}';
  const response = await answerDiscovery(registry.discovery, {
    httpMethod: 'GET',
    resource,
    pathParameters: path as Record<string, string>,
    headers: {},
  });
  return {
    statusCode: response.statusCode,
    body: response.body === '' ? undefined : JSON.parse(response.body),
  };
}

const endpointIds = (body: { endpoints: { id: string }[] }) => body.endpoints.map((e) => e.id);

describe('ECS events handler', () => {
  let registry: TestRegistry;
  let tfserving: TfServingStandIn;
  const host = standInHost(FILE_OCTET, 1);

  beforeEach(async () => {
    registry = await createTestRegistry();
    tfserving = await TfServingStandIn.start({ host, models: { resnet: { available: ['1', '2'] } } });
  });

  afterEach(async () => {
    await tfserving.close();
    registry.close();
  });

  it('serves a RUNNING endpoint whose model is AVAILABLE at once, without waiting for a probe round', async () => {
    // Prepare
    const running = loopbackEvent('running-awsvpc', host);

    // Act
    await handleEcsEvent(registry.taskEvents, running);
    const answer = await discover(registry, { model: 'resnet' });

    // Assess
    expect(answer.statusCode).toBe(200);
    expect(answer.body.endpoints).toEqual([
      expect.objectContaining({
        id: 'ml/3f0c9a7e5b2d4c1e8a6f0b9d7c3e2a14/tfserving',
        host,
        restPort: 8501,
        grpcPort: 8500,
        versions: ['2', '1'],
        availabilityZone: 'us-east-1a',
        taskArn: running.detail.taskArn,
        lastProbeAt: new Date(registry.clock.ms).toISOString(),
      }),
    ]);
  });

  it('knows but does not serve a RUNNING endpoint whose model is still loading', async () => {
    // Prepare: TF Serving refuses connections until its initial models are loaded.
    await tfserving.die();

    // Act
    await handleEcsEvent(registry.taskEvents, loopbackEvent('running-awsvpc', host));
    const answer = await discover(registry, { model: 'resnet' });

    // Assess
    expect(answer).toEqual({ statusCode: 200, body: { model: 'resnet', endpoints: [], stale: false } });
  });

  it('excludes an endpoint as soon as ECS says it is draining, before the container stops', async () => {
    // Prepare
    await handleEcsEvent(registry.taskEvents, loopbackEvent('running-awsvpc', host));

    // Act
    await handleEcsEvent(registry.taskEvents, loopbackEvent('draining', host));
    const answer = await discover(registry, { model: 'resnet' });

    // Assess: no registered task declares resnet any more.
    expect(answer.statusCode).toBe(404);
    expect(answer.body.error.code).toBe('ModelNotFound');
  });

  it('keeps a stopped task stopped when its RUNNING event arrives late', async () => {
    // Prepare
    await handleEcsEvent(registry.taskEvents, loopbackEvent('stopped', host));

    // Act
    const outcome = await handleEcsEvent(registry.taskEvents, loopbackEvent('running-awsvpc', host));
    const answer = await discover(registry, { model: 'resnet' });

    // Assess
    expect(outcome).toMatchObject({ applied: false, probes: [] });
    expect(answer.statusCode).toBe(404);
  });

  it('keeps a drained endpoint out when a probe that started before the drain writes after it', async () => {
    // Prepare
    const running = loopbackEvent('running-awsvpc', host);
    const { endpoints } = (await handleEcsEvent(registry.taskEvents, running)) as TaskEventOutcome;
    const [endpoint] = endpoints.filter(isAddressable);
    if (endpoint === undefined) throw new Error('the RUNNING fixture has no addressable endpoint');
    await handleEcsEvent(registry.taskEvents, loopbackEvent('draining', host));

    // Act: the late probe finds the model AVAILABLE and writes its result.
    const late = await probeEndpointModel(registry.probe, {
      endpoint,
      model: 'resnet',
    });
    const answer = await discover(registry, { model: 'resnet' });

    // Assess
    expect(late.ok).toBe(true);
    expect(answer.statusCode).toBe(404);
  });

  it('keeps probing, and retires on stop, every model an earlier event registered, even one a later event no longer derived', async () => {
    // Prepare: the task definition declares resnet and bert; later its lookup fails (throttled, say).
    let lookupWorks = true;
    const deps = {
      ...registry.taskEvents,
      lookups: {
        taskDefinition: async () =>
          lookupWorks
            ? singleContainerDefinition({
                name: 'tfserving',
                environment: { TFSERVING_MODELS: 'resnet,bert' },
              })
            : undefined,
        containerInstanceHost: async () => undefined,
      },
    };
    tfserving.load('bert', '1');
    const running = loopbackEvent('running-awsvpc', host);
    running.detail.overrides = { containerOverrides: [{ name: 'tfserving' }] };
    await handleEcsEvent(deps, running);
    const bertBefore = await discover(registry, { model: 'bert' });
    lookupWorks = false;
    await handleEcsEvent(deps, { ...running, detail: { ...running.detail, version: 4 } });
    const probedAfterLookupFailed = (await registry.store.getTask(String(running.detail.taskArn)))?.endpoints;

    // Act
    await handleEcsEvent(deps, loopbackEvent('stopped', host));

    // Assess
    expect(endpointIds(bertBefore.body)).toHaveLength(1);
    expect(probedAfterLookupFailed?.map((e) => e.models)).toEqual([['resnet', 'bert']]);
    expect((await discover(registry, { model: 'bert' })).statusCode).toBe(404);
    expect((await discover(registry, { model: 'resnet' })).statusCode).toBe(404);
  });

  it('applies a duplicate event as a no-op', async () => {
    // Prepare
    const running = loopbackEvent('running-awsvpc', host);
    await handleEcsEvent(registry.taskEvents, running);
    const before = await discover(registry, { model: 'resnet' });

    // Act
    await handleEcsEvent(registry.taskEvents, structuredClone(running));
    const after = await discover(registry, { model: 'resnet' });

    // Assess
    expect(after).toEqual(before);
    expect(endpointIds(after.body)).toHaveLength(1);
  });

  it('registers every model a container declares and only the TF Serving container of a task with sidecars', async () => {
    // Prepare: the fixture's tfserving container declares resnet and bert with labels stable and canary.
    tfserving.load('bert', '7');
    tfserving.setLabel('resnet', 'stable', '1');
    tfserving.setLabel('bert', 'canary', '7');
    const event = loopbackEvent('running-sidecars', host);

    // Act
    const outcome = await handleEcsEvent(registry.taskEvents, event);
    const stable = await discover(registry, { model: 'resnet', label: 'stable' });
    const canary = await discover(registry, { model: 'resnet', label: 'canary' });
    const bertCanary = await discover(registry, { model: 'bert', label: 'canary' });
    const version = await discover(registry, { model: 'resnet', version: '0002' });

    // Assess
    expect(outcome).toMatchObject({ endpoints: [expect.objectContaining({ containerName: 'tfserving' })] });
    expect(endpointIds(stable.body)).toHaveLength(1);
    expect(canary.body.endpoints).toEqual([]);
    expect(endpointIds(bertCanary.body)).toHaveLength(1);
    expect(endpointIds(version.body)).toHaveLength(1);
  });

  it('ignores events of other kinds', async () => {
    // Act
    const outcome = await handleEcsEvent(registry.taskEvents, loadEvent('ecs', 'service-action'));

    // Assess
    expect(outcome).toEqual({ status: 'ignored', detailType: 'ECS Service Action' });
  });

  it('rejects a malformed task event with the reasons, so EventBridge retries and the DLQ see it', async () => {
    // Act
    const applying = handleEcsEvent(registry.taskEvents, loadEvent('ecs', 'malformed-missing-taskarn'));

    // Assess
    await expect(applying).rejects.toBeInstanceOf(InvalidEventError);
    await expect(applying).rejects.toThrow(
      /detail\.taskArn.*detail\.version|detail\.version.*detail\.taskArn/s,
    );
  });
});
