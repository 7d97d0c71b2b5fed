import { describe, expect, it } from 'vitest';
import {
  ECS_TASK_STATE_CHANGE,
  parseEvent,
  parseEventBatch,
} from '../../../../functions/domain/ecs-task-event.ts';
import { InvalidEventError } from '../../../../functions/domain/errors.ts';
import { LIFECYCLE_RANK, lifecycleOf } from '../../../../functions/domain/lifecycle.ts';
import { loadEvent, withDetail } from '../../../support/kit/events.ts';

const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/ml/3f0c9a7e5b2d4c1e8a6f0b9d7c3e2a14';

describe('parseEvent', () => {
  it('returns a task event with the id and the validated detail', () => {
    // Prepare
    const event = loadEvent('ecs', 'running-awsvpc');

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed.kind).toBe('task');
    if (parsed.kind !== 'task') return;
    expect(parsed.id).toBe(event.id);
    expect(parsed.detail).toMatchObject({
      taskArn: TASK_ARN,
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
      version: 3,
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      availabilityZone: 'us-east-1a',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/tfs-resnet:7',
    });
    expect(parsed.detail.containers).toHaveLength(1);
    expect(parsed.detail.containers[0]?.networkInterfaces).toEqual([{ privateIpv4Address: '10.0.215.105' }]);
  });

  it.each([
    'provisioning',
    'pending',
    'running-awsvpc',
    'draining',
    'deactivating',
    'stopped',
    'running-bridge',
    'running-sidecars',
    'running-overrides',
    'running-no-models',
  ])('accepts the %s fixture as a task event', (name) => {
    // Act
    const parsed = parseEvent(loadEvent('ecs', name));

    // Assess
    expect(parsed.kind).toBe('task');
  });

  it('keeps the override environment of the event', () => {
    // Act
    const parsed = parseEvent(loadEvent('ecs', 'running-overrides'));

    // Assess
    expect(parsed.kind === 'task' && parsed.detail.overrides?.containerOverrides).toEqual([
      {
        name: 'model-server',
        environment: [
          { name: 'MODEL_NAME', value: 'ranker' },
          { name: 'TFSERVING_MODELS', value: 'ranker-v2' },
        ],
      },
    ]);
  });

  it('keeps the network bindings of a bridge-mode event, duplicates included', () => {
    // Act
    const parsed = parseEvent(loadEvent('ecs', 'running-bridge'));

    // Assess
    expect(parsed.kind === 'task' && parsed.detail.containers[0]?.networkBindings).toHaveLength(3);
    expect(parsed.kind === 'task' && parsed.detail.containerInstanceArn).toBe(
      'arn:aws:ecs:us-east-1:123456789012:container-instance/ml/9b1d7e3f5a2c4b6d8e0f1a3c5e7b9d2f',
    );
  });

  it('tolerates unknown fields in the envelope and the detail', () => {
    // Prepare
    const event = {
      ...withDetail(loadEvent('ecs', 'running-awsvpc'), { someNewField: { nested: true } }),
      'event-bus-name': 'default',
    };

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed.kind).toBe('task');
  });

  it('defaults missing containers to an empty list', () => {
    // Prepare
    const event = withDetail(loadEvent('ecs', 'running-awsvpc'), { containers: undefined });

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed.kind === 'task' && parsed.detail.containers).toEqual([]);
  });

  it('accepts a task ARN in the old format, without the cluster name', () => {
    // Prepare
    const event = withDetail(loadEvent('ecs', 'running-awsvpc'), {
      taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/3f0c9a7e5b2d4c1e8a6f0b9d7c3e2a14',
    });

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed.kind).toBe('task');
  });

  it('ignores an ECS event of another type', () => {
    // Act
    const parsed = parseEvent(loadEvent('ecs', 'service-action'));

    // Assess
    expect(parsed).toEqual({ kind: 'ignored', detailType: 'ECS Service Action', source: 'aws.ecs' });
  });

  it('ignores a scheduled event', () => {
    // Act
    const parsed = parseEvent(loadEvent('scheduled', 'base'));

    // Assess
    expect(parsed).toEqual({ kind: 'ignored', detailType: 'Scheduled Event', source: 'aws.events' });
  });

  it('ignores a task state change from a source other than aws.ecs', () => {
    // Prepare
    const event = { ...loadEvent('ecs', 'running-awsvpc'), source: 'my.app' };

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed).toEqual({ kind: 'ignored', detailType: ECS_TASK_STATE_CHANGE, source: 'my.app' });
  });

  it('ignores an event of another type even when its detail is not a task', () => {
    // Prepare
    const event = { 'detail-type': 'Other', source: 'aws.ecs', detail: 'not an object' };

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed.kind).toBe('ignored');
  });

  it.each([
    ['null', null],
    ['a string', 'event'],
    ['an array', []],
    ['an object without detail-type', { source: 'aws.ecs', detail: {} }],
    ['an object without source', { 'detail-type': ECS_TASK_STATE_CHANGE, detail: {} }],
    ['a numeric detail-type', { 'detail-type': 1, source: 'aws.ecs', detail: {} }],
  ])('throws "not an EventBridge event" for %s', (_, input) => {
    // Act
    const act = () => parseEvent(input);

    // Assess
    expect(act).toThrow(InvalidEventError);
    expect(act).toThrow(/^not an EventBridge event/);
  });

  it('throws for the malformed fixture, naming detail.taskArn and detail.version', () => {
    // Act
    const act = () => parseEvent(loadEvent('ecs', 'malformed-missing-taskarn'));

    // Assess
    expect(act).toThrow(InvalidEventError);
    expect(act).toThrow(/^invalid ECS Task State Change/);
    expect(act).toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([
          expect.stringMatching(/^detail\.taskArn:/),
          expect.stringMatching(/^detail\.version:/),
        ]),
      }),
    );
  });

  it.each([
    ['a missing detail', { detail: undefined }],
    ['a task ARN that is not one', { taskArn: 'arn:aws:ecs:us-east-1:123456789012:service/ml/x' }],
    ['a cluster ARN that is not one', { clusterArn: 'ml' }],
    ['a negative version', { version: -1 }],
    ['a fractional version', { version: 3.5 }],
    ['an empty lastStatus', { lastStatus: '' }],
    ['a missing desiredStatus', { desiredStatus: undefined }],
    ['a container without a name', { containers: [{ image: 'tensorflow/serving' }] }],
    ['a string host port', { containers: [{ name: 'tfserving', networkBindings: [{ hostPort: '8501' }] }] }],
    ['containers that are not a list', { containers: {} }],
  ])('throws InvalidEventError for %s', (_, patch) => {
    // Prepare
    const event =
      'detail' in patch
        ? { ...loadEvent('ecs', 'running-awsvpc'), detail: undefined }
        : withDetail(loadEvent('ecs', 'running-awsvpc'), patch);

    // Act
    const act = () => parseEvent(event);

    // Assess
    expect(act).toThrow(InvalidEventError);
  });
});

describe('parseEventBatch', () => {
  it('parses a single event as a batch of one', () => {
    // Act
    const parsed = parseEventBatch(loadEvent('ecs', 'pending'));

    // Assess
    expect(parsed).toHaveLength(1);
    expect(parsed[0]?.kind).toBe('task');
  });

  it('parses an array of events in order, ignored ones included', () => {
    // Prepare
    const batch = [
      loadEvent('ecs', 'pending'),
      loadEvent('ecs', 'service-action'),
      loadEvent('ecs', 'stopped'),
    ];

    // Act
    const parsed = parseEventBatch(batch);

    // Assess
    expect(parsed.map((p) => p.kind)).toEqual(['task', 'ignored', 'task']);
  });

  it('returns nothing for an empty batch', () => {
    // Act / Assess
    expect(parseEventBatch([])).toEqual([]);
  });

  it('throws for the whole batch when one event is invalid, naming its index', () => {
    // Prepare
    const batch = [loadEvent('ecs', 'pending'), loadEvent('ecs', 'malformed-missing-taskarn')];

    // Act
    const act = () => parseEventBatch(batch);

    // Assess
    expect(act).toThrow(InvalidEventError);
    expect(act).toThrow(/^event \[1\] is invalid ECS Task State Change: .*detail\.taskArn/);
  });

  it('throws for a batch holding something that is not an event', () => {
    // Act
    const act = () => parseEventBatch([loadEvent('ecs', 'pending'), 42]);

    // Assess
    expect(act).toThrow(InvalidEventError);
    expect(act).toThrow(/^event \[1\] is not an EventBridge event/);
  });

  it('throws the event error itself for a single invalid event', () => {
    // Act
    const act = () => parseEventBatch(loadEvent('ecs', 'malformed-missing-taskarn'));

    // Assess
    expect(act).toThrow(InvalidEventError);
    expect(act).toThrow(/^invalid ECS Task State Change/);
  });
});

describe('lifecycleOf', () => {
  it.each([
    ['PROVISIONING', 'RUNNING', 'PENDING'],
    ['PENDING', 'RUNNING', 'PENDING'],
    ['ACTIVATING', 'RUNNING', 'PENDING'],
    ['RUNNING', 'RUNNING', 'RUNNING'],
    ['RUNNING', 'STOPPED', 'STOPPING'],
    ['PENDING', 'STOPPED', 'STOPPING'],
    ['DEACTIVATING', 'STOPPED', 'STOPPING'],
    ['STOPPING', 'STOPPED', 'STOPPING'],
    ['DEPROVISIONING', 'STOPPED', 'STOPPING'],
    ['STOPPED', 'STOPPED', 'STOPPED'],
  ] as const)('maps lastStatus %s with desiredStatus %s to %s', (lastStatus, desiredStatus, expected) => {
    // Act / Assess
    expect(lifecycleOf({ lastStatus, desiredStatus })).toBe(expected);
  });

  it('treats the draining fixture (RUNNING, desired STOPPED) as stopping', () => {
    // Prepare
    const parsed = parseEvent(loadEvent('ecs', 'draining'));

    // Act / Assess
    expect(parsed.kind === 'task' && lifecycleOf(parsed.detail)).toBe('STOPPING');
  });

  it('ranks lifecycles so that they only move forward', () => {
    // Act / Assess
    expect(LIFECYCLE_RANK.PENDING).toBeLessThan(LIFECYCLE_RANK.RUNNING);
    expect(LIFECYCLE_RANK.RUNNING).toBeLessThan(LIFECYCLE_RANK.STOPPING);
    expect(LIFECYCLE_RANK.STOPPING).toBeLessThan(LIFECYCLE_RANK.STOPPED);
  });
});
