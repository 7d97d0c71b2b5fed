import {
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AwsEcsTaskReader } from '../../../functions/adapters/ecs/ecs-task-reader.ts';
import { handleEcsEvent } from '../../../functions/adapters/edges/ecs-events.ts';
import { findEndpoints } from '../../../functions/domain/discovery.ts';
import { RequestError } from '../../../functions/domain/errors.ts';
import { type ReconcileDeps, reconcile } from '../../../functions/domain/reconcile.ts';
import { applyTaskEvent } from '../../../functions/domain/task-events.ts';
import { TfServingStandIn } from '../../../tools/tfserving-stand-in/stand-in.ts';
import { loopbackEvent } from '../../support/kit/events.ts';
import { createTestRegistry, standInHost, type TestRegistry } from '../../support/test-registry.ts';

expect.extend(allCustomMatcher);

/**
 * Reconciliation against the real store and a TF Serving stand-in; ECS (no local engine) is the
 * SDK client mocked at the command level.
 */

const FILE_OCTET = 40;
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';
const ecsMock = mockClient(ECSClient);

/** A task as `DescribeTasks` returns it: the event's detail, with the ENI attachment named as the API names it. */
function describedTask(name: string, host: string): Task {
  const { detail } = loopbackEvent(name, host);
  const attachments = (detail.attachments as { type?: string }[] | undefined)?.map((a) => ({
    ...a,
    type: a.type === 'eni' ? 'ElasticNetworkInterface' : a.type,
  }));
  return { ...detail, attachments } as unknown as Task;
}

describe('reconcile', () => {
  let registry: TestRegistry;
  let tfserving: TfServingStandIn;
  let deps: ReconcileDeps;
  const host = standInHost(FILE_OCTET, 1);
  const warnings: string[] = [];

  beforeEach(async () => {
    ecsMock.reset();
    warnings.length = 0;
    registry = await createTestRegistry();
    tfserving = await TfServingStandIn.start({ host, models: { resnet: { available: ['1'] } } });
    deps = {
      ecs: new AwsEcsTaskReader(new ECSClient({ region: 'us-east-1' })),
      store: registry.store,
      apply: (detail) => applyTaskEvent(detail, registry.taskEvents),
      clusterArns: [CLUSTER],
      log: { warn: (message) => warnings.push(message) },
    };
  });

  afterEach(async () => {
    await tfserving.close();
    registry.close();
  });

  const served = async () => (await findEndpoints(registry.discovery, 'resnet', { kind: 'model' })).endpoints;

  it('registers and probes a running task whose RUNNING event never arrived', async () => {
    // Prepare
    const task = describedTask('running-awsvpc', host);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [task.taskArn as string] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task], failures: [] });

    // Act
    const summary = await reconcile(deps);

    // Assess
    expect(summary).toEqual({ clusters: 1, described: 1, applied: 1, forgotten: 0, errors: 0 });
    expect((await served()).map((e) => e.host)).toEqual([host]);
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: CLUSTER,
      desiredStatus: 'RUNNING',
    });
  });

  it('applies nothing for a task the registry already holds at that version', async () => {
    // Prepare
    const running = loopbackEvent('running-awsvpc', host);
    await handleEcsEvent(registry.taskEvents, running);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [String(running.detail.taskArn)] });
    ecsMock
      .on(DescribeTasksCommand)
      .resolves({ tasks: [describedTask('running-awsvpc', host)], failures: [] });

    // Act
    const summary = await reconcile(deps);

    // Assess
    expect(summary.applied).toBe(0);
  });

  it('retires a task whose stop event never arrived', async () => {
    // Prepare
    const running = loopbackEvent('running-awsvpc', host);
    await handleEcsEvent(registry.taskEvents, running);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [describedTask('stopped', host)], failures: [] });

    // Act
    const summary = await reconcile(deps);

    // Assess
    expect(summary).toMatchObject({ described: 1, applied: 1 });
    await expect(served()).rejects.toBeInstanceOf(RequestError);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, {
      tasks: [String(running.detail.taskArn)],
    });
  });

  it('retires a registered task that ECS no longer knows', async () => {
    // Prepare
    const running = loopbackEvent('running-awsvpc', host);
    await handleEcsEvent(registry.taskEvents, running);
    const taskArn = String(running.detail.taskArn);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: taskArn, reason: 'MISSING' }] });

    // Act
    const summary = await reconcile(deps);

    // Assess
    expect(summary.forgotten).toBe(1);
    expect(await registry.store.getTask(taskArn)).toMatchObject({ lifecycle: 'STOPPED', taskVersion: 4 });
  });

  it('reads every cluster of the account when none is configured, and goes on past a failing one', async () => {
    // Prepare
    const other = 'arn:aws:ecs:us-east-1:123456789012:cluster/other';
    const task = describedTask('running-awsvpc', host);
    ecsMock.on(ListClustersCommand).resolves({ clusterArns: [other, CLUSTER] });
    ecsMock.on(ListTasksCommand, { cluster: other }).rejects(new Error('AccessDeniedException'));
    ecsMock.on(ListTasksCommand, { cluster: CLUSTER }).resolves({ taskArns: [task.taskArn as string] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task], failures: [] });

    // Act
    const summary = await reconcile({ ...deps, clusterArns: [] });

    // Assess
    expect(summary).toMatchObject({ clusters: 2, applied: 1, errors: 1 });
    expect(warnings).toEqual(['reconcile: listing tasks failed']);
  });
});
