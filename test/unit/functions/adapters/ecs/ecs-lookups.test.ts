import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ServerException,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { allCustomMatcher, type CustomMatcher } from 'aws-sdk-client-mock-vitest';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ec2PrivateIpLookup } from '../../../../../functions/adapters/aws-clients.ts';
import {
  AwsEcsLookups,
  asTaskDefinition,
  eventOnlyLookups,
} from '../../../../../functions/adapters/ecs/ecs-lookups.ts';
import type { WarnLog } from '../../../../../functions/domain/ports.ts';
import { describeTaskDefinitionOutput, taskDefinition } from '../../../../support/kit/task-definitions.ts';

expect.extend(allCustomMatcher);

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExplicitAny: must match vitest's own declaration
  interface Matchers<T = any> extends CustomMatcher<T> {}
}

const ecsMock = mockClient(ECSClient);
const ec2Mock = mockClient(EC2Client);

const RESNET_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/tfs-resnet:7';
const CUSTOM_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/tfs-custom-ports:1';
const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';
const INSTANCE_ARN =
  'arn:aws:ecs:us-east-1:123456789012:container-instance/ml/9b1d7e3f5a2c4b6d8e0f1a3c5e7b9d2f';
const EC2_INSTANCE_ID = 'i-0a1b2c3d4e5f60718';
const PRIVATE_IP = '10.0.9.17';
const BACKOFF_MS = 60_000;

function lookups() {
  let now = Date.parse('2026-05-04T10:00:00.000Z');
  const log = { warn: vi.fn<WarnLog['warn']>() };
  const subject = new AwsEcsLookups(new ECSClient({}), ec2PrivateIpLookup(), log, () => now);
  return {
    subject,
    log,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function unavailable(): ServerException {
  return new ServerException({ $metadata: { httpStatusCode: 501 }, message: 'not implemented' });
}

function answerBridgeLookups() {
  ecsMock.on(DescribeContainerInstancesCommand).resolves({
    containerInstances: [{ containerInstanceArn: INSTANCE_ARN, ec2InstanceId: EC2_INSTANCE_ID }],
  });
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: EC2_INSTANCE_ID, PrivateIpAddress: PRIVATE_IP }] }],
  });
}

beforeEach(() => {
  ecsMock.reset();
  ec2Mock.reset();
});

describe('asTaskDefinition', () => {
  it('fills what a container definition leaves out and drops port mappings without a container port', () => {
    // Act
    const definition = asTaskDefinition({
      containerDefinitions: [
        {},
        {
          name: 'tfserving',
          environment: [{ name: 'MODEL_NAME' }, { value: 'orphan' }],
          portMappings: [{ hostPort: 8501 }, { containerPort: 8500, name: 'grpc' }],
        },
      ],
    });

    // Assess
    expect(definition).toEqual({
      containers: [
        { name: '', image: undefined, environment: {}, dockerLabels: {}, portMappings: [] },
        {
          name: 'tfserving',
          image: undefined,
          environment: { MODEL_NAME: '', '': 'orphan' },
          dockerLabels: {},
          portMappings: [{ containerPort: 8500, name: 'grpc', appProtocol: undefined }],
        },
      ],
    });
  });

  it('reads no container from a definition without any', () => {
    // Act / Assess
    expect(asTaskDefinition({})).toEqual({ containers: [] });
  });
});

describe('AwsEcsLookups', () => {
  describe('taskDefinition', () => {
    it('sends DescribeTaskDefinition for the ARN', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinitionOutput('tfs-resnet-7'));
      const { subject } = lookups();

      // Act
      await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(ecsMock).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
        taskDefinition: RESNET_ARN,
      });
    });

    it('returns the environment, Docker labels and port mappings of each container', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinitionOutput('tfs-custom-ports-1'));
      const { subject } = lookups();

      // Act
      const definition = await subject.taskDefinition(CUSTOM_ARN);

      // Assess
      expect(definition).toEqual({
        containers: [
          {
            name: 'tfserving',
            image: 'tensorflow/serving:2.15.0',
            environment: { TFSERVING_MODELS: 'resnet,bert' },
            dockerLabels: {
              'tfserving.rest-port': '9000',
              'tfserving.grpc-port': '9001',
              'tfserving.models': 'embedder',
            },
            portMappings: [
              { containerPort: 9000, name: 'rest', appProtocol: 'http' },
              { containerPort: 9001, name: 'grpc', appProtocol: 'grpc' },
            ],
          },
        ],
      });
    });

    it('caches the answer per ARN: a second call sends no command', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinitionOutput('tfs-resnet-7'));
      const { subject } = lookups();
      const first = await subject.taskDefinition(RESNET_ARN);

      // Act
      const second = await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(second).toEqual(first);
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
    });

    it('shares one request between concurrent calls for the same ARN', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinitionOutput('tfs-resnet-7'));
      const { subject } = lookups();

      // Act
      await Promise.all([subject.taskDefinition(RESNET_ARN), subject.taskDefinition(RESNET_ARN)]);

      // Assess
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
    });

    it('sends one command per ARN', async () => {
      // Prepare
      ecsMock
        .on(DescribeTaskDefinitionCommand, { taskDefinition: RESNET_ARN })
        .resolves(describeTaskDefinitionOutput('tfs-resnet-7'))
        .on(DescribeTaskDefinitionCommand, { taskDefinition: CUSTOM_ARN })
        .resolves(describeTaskDefinitionOutput('tfs-custom-ports-1'));
      const { subject } = lookups();

      // Act
      const [resnet, custom] = [
        await subject.taskDefinition(RESNET_ARN),
        await subject.taskDefinition(CUSTOM_ARN),
      ];

      // Assess
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 2);
      expect(resnet?.containers[0]?.environment).toEqual({ MODEL_NAME: 'resnet' });
      expect(custom?.containers[0]?.environment).toEqual({ TFSERVING_MODELS: 'resnet,bert' });
    });

    it('returns undefined when the ECS API fails (LocalStack answers 501)', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).rejects(unavailable());
      const { subject } = lookups();

      // Act
      const definition = await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(definition).toBeUndefined();
    });

    it('logs a warning naming the ARN and the error when the lookup fails', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).rejects(unavailable());
      const { subject, log } = lookups();

      // Act
      await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(log.warn).toHaveBeenCalledWith('task definition lookup failed, using the event alone', {
        resource: RESNET_ARN,
        error: expect.stringContaining('not implemented'),
      });
    });

    it('returns undefined for an answer without a task definition', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).resolves({});
      const { subject, log } = lookups();

      // Act
      const definition = await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(definition).toBeUndefined();
      expect(log.warn).toHaveBeenCalledTimes(1);
    });

    it('does not retry a failed lookup before the backoff', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).rejects(unavailable());
      const { subject, advance } = lookups();
      await subject.taskDefinition(RESNET_ARN);
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinitionOutput('tfs-resnet-7'));
      advance(BACKOFF_MS - 1);

      // Act
      const definition = await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(definition).toBeUndefined();
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
    });

    it('retries a failed lookup after the backoff', async () => {
      // Prepare
      ecsMock.on(DescribeTaskDefinitionCommand).rejects(unavailable());
      const { subject, advance } = lookups();
      await subject.taskDefinition(RESNET_ARN);
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(describeTaskDefinitionOutput('tfs-resnet-7'));
      advance(BACKOFF_MS);

      // Act
      const definition = await subject.taskDefinition(RESNET_ARN);

      // Assess
      expect(definition).toEqual(taskDefinition('tfs-resnet-7'));
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 2);
    });

    it('backs off per ARN: a failure of one does not hold back another', async () => {
      // Prepare
      ecsMock
        .on(DescribeTaskDefinitionCommand, { taskDefinition: RESNET_ARN })
        .rejects(unavailable())
        .on(DescribeTaskDefinitionCommand, { taskDefinition: CUSTOM_ARN })
        .resolves(describeTaskDefinitionOutput('tfs-custom-ports-1'));
      const { subject } = lookups();
      await subject.taskDefinition(RESNET_ARN);

      // Act
      const custom = await subject.taskDefinition(CUSTOM_ARN);

      // Assess
      expect(custom).toBeDefined();
      expect(ecsMock).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
        taskDefinition: CUSTOM_ARN,
      });
    });
  });

  describe('containerInstanceHost', () => {
    it('asks ECS for the container instance of the cluster', async () => {
      // Prepare
      answerBridgeLookups();
      const { subject } = lookups();

      // Act
      await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(ecsMock).toHaveReceivedCommandWith(DescribeContainerInstancesCommand, {
        cluster: CLUSTER_ARN,
        containerInstances: [INSTANCE_ARN],
      });
    });

    it('asks EC2 for the instance behind it', async () => {
      // Prepare
      answerBridgeLookups();
      const { subject } = lookups();

      // Act
      await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: [EC2_INSTANCE_ID] });
    });

    it('returns the private IP of the EC2 instance', async () => {
      // Prepare
      answerBridgeLookups();
      const { subject } = lookups();

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBe(PRIVATE_IP);
    });

    it('caches the address per container instance: a second call sends no command', async () => {
      // Prepare
      answerBridgeLookups();
      const { subject } = lookups();
      await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBe(PRIVATE_IP);
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeContainerInstancesCommand, 1);
      expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1);
    });

    it('returns undefined and logs a warning when ECS fails, without asking EC2', async () => {
      // Prepare
      ecsMock.on(DescribeContainerInstancesCommand).rejects(unavailable());
      const { subject, log } = lookups();

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBeUndefined();
      expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand);
      expect(log.warn).toHaveBeenCalledWith(
        'container instance lookup failed, bridge-mode endpoints skipped',
        {
          resource: INSTANCE_ARN,
          error: expect.stringContaining('not implemented'),
        },
      );
    });

    it('returns undefined when the container instance has no EC2 instance id', async () => {
      // Prepare
      ecsMock.on(DescribeContainerInstancesCommand).resolves({ containerInstances: [] });
      const { subject, log } = lookups();

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBeUndefined();
      expect(log.warn).toHaveBeenCalledWith(
        expect.any(String),
        expect.objectContaining({ error: expect.stringContaining('no EC2 instance id') }),
      );
    });

    it('returns undefined when the EC2 instance has no private IP', async () => {
      // Prepare
      ecsMock
        .on(DescribeContainerInstancesCommand)
        .resolves({ containerInstances: [{ ec2InstanceId: EC2_INSTANCE_ID }] });
      ec2Mock
        .on(DescribeInstancesCommand)
        .resolves({ Reservations: [{ Instances: [{ InstanceId: EC2_INSTANCE_ID }] }] });
      const { subject } = lookups();

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBeUndefined();
    });

    it('does not retry a failed lookup before the backoff', async () => {
      // Prepare
      ecsMock.on(DescribeContainerInstancesCommand).rejects(unavailable());
      const { subject, advance } = lookups();
      await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);
      answerBridgeLookups();
      advance(BACKOFF_MS - 1);

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBeUndefined();
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeContainerInstancesCommand, 1);
    });

    it('retries a failed lookup after the backoff', async () => {
      // Prepare
      ecsMock.on(DescribeContainerInstancesCommand).rejects(unavailable());
      const { subject, advance } = lookups();
      await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);
      answerBridgeLookups();
      advance(BACKOFF_MS);

      // Act
      const host = await subject.containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN);

      // Assess
      expect(host).toBe(PRIVATE_IP);
      expect(ecsMock).toHaveReceivedCommandTimes(DescribeContainerInstancesCommand, 2);
    });
  });
});

describe('eventOnlyLookups', () => {
  it('never returns a task definition', async () => {
    // Act / Assess
    expect(await eventOnlyLookups('127.0.0.1').taskDefinition(RESNET_ARN)).toBeUndefined();
  });

  it('returns the configured container instance host', async () => {
    // Act / Assess
    expect(await eventOnlyLookups('127.0.0.1').containerInstanceHost(CLUSTER_ARN, INSTANCE_ARN)).toBe(
      '127.0.0.1',
    );
  });
});
