import { describe, expect, it } from 'vitest';
import type { TaskDetail } from '../../../../functions/domain/ecs-task-event.ts';
import {
  type DeriveOptions,
  deriveEndpoints,
  type EndpointRegistration,
  endpointId,
  isAddressable,
  resourceName,
} from '../../../../functions/domain/task-endpoints.ts';
import { taskDetail } from '../../../support/kit/events.ts';
import { endpointOf } from '../../../support/kit/records.ts';
import { DEFAULT_SETTINGS } from '../../../support/kit/settings.ts';
import { singleContainerDefinition, taskDefinition } from '../../../support/kit/task-definitions.ts';

const NAMES = DEFAULT_SETTINGS.tfservingContainerNames;
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';
const AWSVPC_TASK_ID = '3f0c9a7e5b2d4c1e8a6f0b9d7c3e2a14';
const BRIDGE_HOST = '10.0.9.17';

function derive(detail: TaskDetail, options: Partial<DeriveOptions> = {}) {
  return deriveEndpoints(detail, { tfservingContainerNames: NAMES, ...options });
}

function only(endpoints: EndpointRegistration[]): EndpointRegistration {
  expect(endpoints).toHaveLength(1);
  const [endpoint] = endpoints;
  if (endpoint === undefined) throw new Error('no endpoint');
  return endpoint;
}

/** The awsvpc RUNNING fixture with its run-time environment override replaced. */
function awsvpcWithEnvironment(environment: { name: string; value: string }[]): TaskDetail {
  return taskDetail('running-awsvpc', {
    overrides: { containerOverrides: [{ name: 'tfserving', environment }] },
  });
}

describe('deriveEndpoints', () => {
  describe('from the event alone', () => {
    it('registers the TF Serving container of an awsvpc task at its ENI address and default ports', () => {
      // Prepare
      const detail = taskDetail('running-awsvpc');

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(endpoints).toEqual([
        {
          id: `ml/${AWSVPC_TASK_ID}/tfserving`,
          containerName: 'tfserving',
          host: '10.0.215.105',
          restPort: 8501,
          grpcPort: 8500,
          models: ['resnet'],
          labels: [],
        },
      ]);
      expect(skipped).toEqual([]);
    });

    it('takes models from the override environment (MODEL_NAME and TFSERVING_MODELS)', () => {
      // Prepare
      const detail = taskDetail('running-overrides');

      // Act
      const endpoint = only(derive(detail).endpoints);

      // Assess
      expect(endpoint).toMatchObject({
        id: 'ml/c4d5e6f7a8b94c0d9e1f2a3b4c5d6e7f/model-server',
        host: '10.0.76.18',
        models: ['ranker', 'ranker-v2'],
      });
    });

    it('takes labels from the TFSERVING_LABELS environment', () => {
      // Prepare
      const detail = taskDetail('running-sidecars');

      // Act
      const endpoint = only(derive(detail).endpoints);

      // Assess
      expect(endpoint.labels).toEqual(['stable', 'canary']);
    });

    it('ignores sidecars (log router, envoy) and registers the TF Serving container only', () => {
      // Prepare
      const detail = taskDetail('running-sidecars');

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(endpoints.map((e) => e.containerName)).toEqual(['tfserving']);
      expect(endpoints[0]?.models).toEqual(['resnet', 'bert']);
      expect(skipped).toEqual([]);
    });

    it('reports an official-image container that declares no model as skipped, without guessing "model"', () => {
      // Prepare
      const detail = taskDetail('running-no-models');

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(endpoints).toEqual([]);
      expect(skipped).toEqual([
        {
          container: 'tfserving',
          reason: 'declares no model (MODEL_NAME, TFSERVING_MODELS, tfserving.models)',
        },
      ]);
    });

    it('leaves the host undefined while ECS has not given the task an address', () => {
      // Prepare
      const detail = taskDetail('provisioning');

      // Act
      const endpoint = only(derive(detail).endpoints);

      // Assess
      expect(endpoint.host).toBeUndefined();
      expect(isAddressable(endpoint)).toBe(false);
    });

    it('takes the address from the ENI attachment when the container has none', () => {
      // Prepare
      const detail = taskDetail('running-awsvpc');
      const containers = detail.containers.map((c) => ({ ...c, networkInterfaces: [] }));

      // Act
      const endpoint = only(derive({ ...detail, containers }).endpoints);

      // Assess
      expect(endpoint.host).toBe('10.0.215.105');
    });

    it('takes the address from an ElasticNetworkInterface attachment (DescribeTasks spelling)', () => {
      // Prepare
      const detail = taskDetail('running-awsvpc');
      const containers = detail.containers.map((c) => ({ ...c, networkInterfaces: [] }));
      const attachments = [
        {
          type: 'ElasticNetworkInterface',
          status: 'ATTACHED',
          details: [{ name: 'privateIPv4Address', value: '10.0.1.2' }],
        },
      ];

      // Act
      const endpoint = only(derive({ ...detail, containers, attachments }).endpoints);

      // Assess
      expect(endpoint.host).toBe('10.0.1.2');
    });

    it('trims, splits and de-duplicates comma-separated model lists', () => {
      // Prepare
      const detail = awsvpcWithEnvironment([
        { name: 'MODEL_NAME', value: 'resnet' },
        { name: 'TFSERVING_MODELS', value: ' bert , resnet,, embedder ,' },
      ]);

      // Act
      const endpoint = only(derive(detail).endpoints);

      // Assess
      expect(endpoint.models).toEqual(['resnet', 'bert', 'embedder']);
    });

    it('ignores invalid model names and reports them', () => {
      // Prepare
      const detail = awsvpcWithEnvironment([{ name: 'TFSERVING_MODELS', value: 'resnet,a/b,c:d' }]);

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(only(endpoints).models).toEqual(['resnet']);
      expect(skipped).toEqual([{ container: 'tfserving', reason: 'invalid model names ignored: a/b, c:d' }]);
    });

    it('skips a container whose every model name is invalid', () => {
      // Prepare
      const detail = awsvpcWithEnvironment([{ name: 'MODEL_NAME', value: 'a/b' }]);

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(endpoints).toEqual([]);
      expect(skipped.map((s) => s.reason)).toEqual([
        'invalid model names ignored: a/b',
        'declares no model (MODEL_NAME, TFSERVING_MODELS, tfserving.models)',
      ]);
    });

    it('ignores invalid label names', () => {
      // Prepare
      const detail = awsvpcWithEnvironment([
        { name: 'MODEL_NAME', value: 'resnet' },
        { name: 'TFSERVING_LABELS', value: 'stable,bad/label,canary' },
      ]);

      // Act
      const endpoint = only(derive(detail).endpoints);

      // Assess
      expect(endpoint.labels).toEqual(['stable', 'canary']);
    });

    it('detects a container by declared models whatever its image and name', () => {
      // Prepare
      const detail = taskDetail('running-overrides');

      // Act
      const { endpoints } = derive(detail, { tfservingContainerNames: ['something-else'] });

      // Assess
      expect(endpoints.map((e) => e.containerName)).toEqual(['model-server']);
    });

    it('treats a container named in tfservingContainerNames as TF Serving', () => {
      // Prepare: a custom image that declares nothing, named as configured
      const detail = taskDetail('running-overrides', {
        overrides: { containerOverrides: [{ name: 'model-server' }] },
      });

      // Act
      const { skipped } = derive(detail, { tfservingContainerNames: ['model-server'] });

      // Assess
      expect(skipped).toEqual([
        { container: 'model-server', reason: expect.stringMatching(/^declares no model/) },
      ]);
    });

    it('ignores a custom-image container that is not named as TF Serving and declares nothing', () => {
      // Prepare
      const detail = taskDetail('running-overrides', {
        overrides: { containerOverrides: [{ name: 'model-server' }] },
      });

      // Act
      const result = derive(detail);

      // Assess
      expect(result).toEqual({ endpoints: [], skipped: [] });
    });

    it('detects a TF Serving GPU image (any tag)', () => {
      // Prepare
      const detail = taskDetail('running-bridge', { overrides: undefined });
      const containers = detail.containers.map((c) => ({ ...c, name: 'server' }));

      // Act
      const { skipped } = derive({ ...detail, containers }, { containerInstanceHost: BRIDGE_HOST });

      // Assess: recognised as TF Serving (and so reported), though it declares no model
      expect(detail.containers[0]?.image).toBe('tensorflow/serving:2.15.0-gpu');
      expect(skipped.map((s) => s.container)).toEqual(['server']);
    });

    it('registers every TF Serving container of a task, each with its own id', () => {
      // Prepare
      const detail = taskDetail('running-awsvpc');
      const [container] = detail.containers;
      const containers = [container, { ...container, name: 'tf-serving' }].flatMap((c) => (c ? [c] : []));
      const overrides = {
        containerOverrides: [
          { name: 'tfserving', environment: [{ name: 'MODEL_NAME', value: 'resnet' }] },
          { name: 'tf-serving', environment: [{ name: 'MODEL_NAME', value: 'bert' }] },
        ],
      };

      // Act
      const { endpoints } = derive({ ...detail, containers, overrides });

      // Assess
      expect(endpoints.map((e) => [e.id, e.models])).toEqual([
        [`ml/${AWSVPC_TASK_ID}/tfserving`, ['resnet']],
        [`ml/${AWSVPC_TASK_ID}/tf-serving`, ['bert']],
      ]);
    });
  });

  describe('with the task definition', () => {
    it('adds the Docker label tfserving.labels of the task definition', () => {
      // Prepare
      const detail = taskDetail('running-awsvpc');

      // Act
      const endpoint = only(derive(detail, { taskDefinition: taskDefinition('tfs-resnet-7') }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({
        models: ['resnet'],
        labels: ['stable'],
        restPort: 8501,
        grpcPort: 8500,
      });
    });

    it('takes MODEL_NAME from the task definition environment when the event has no override', () => {
      // Prepare
      const detail = taskDetail('running-awsvpc', { overrides: undefined });

      // Act
      const endpoint = only(derive(detail, { taskDefinition: taskDefinition('tfs-resnet-7') }).endpoints);

      // Assess
      expect(endpoint.models).toEqual(['resnet']);
    });

    it('lets the override environment win over the task definition environment', () => {
      // Prepare
      const detail = awsvpcWithEnvironment([{ name: 'MODEL_NAME', value: 'resnet50' }]);

      // Act
      const endpoint = only(derive(detail, { taskDefinition: taskDefinition('tfs-resnet-7') }).endpoints);

      // Assess
      expect(endpoint.models).toEqual(['resnet50']);
    });

    it('unions MODEL_NAME, TFSERVING_MODELS and the Docker label tfserving.models', () => {
      // Prepare
      const detail = taskDetail('running-no-models', {
        overrides: {
          containerOverrides: [{ name: 'tfserving', environment: [{ name: 'MODEL_NAME', value: 'ranker' }] }],
        },
      });

      // Act
      const endpoint = only(
        derive(detail, { taskDefinition: taskDefinition('tfs-custom-ports-1') }).endpoints,
      );

      // Assess
      expect(endpoint.models).toEqual(['ranker', 'resnet', 'bert', 'embedder']);
    });

    it('unions labels from TFSERVING_LABELS and the Docker label tfserving.labels, without duplicates', () => {
      // Prepare
      const detail = awsvpcWithEnvironment([
        { name: 'MODEL_NAME', value: 'resnet' },
        { name: 'TFSERVING_LABELS', value: 'canary,stable' },
      ]);

      // Act
      const endpoint = only(derive(detail, { taskDefinition: taskDefinition('tfs-resnet-7') }).endpoints);

      // Assess
      expect(endpoint.labels).toEqual(['canary', 'stable']);
    });

    it('reads the ports from the labels tfserving.rest-port and tfserving.grpc-port', () => {
      // Prepare
      const detail = taskDetail('running-no-models');

      // Act
      const endpoint = only(
        derive(detail, { taskDefinition: taskDefinition('tfs-custom-ports-1') }).endpoints,
      );

      // Assess
      expect(endpoint).toMatchObject({ host: '10.0.142.7', restPort: 9000, grpcPort: 9001 });
    });

    it('prefers the port labels over the port mappings', () => {
      // Prepare
      const definition = singleContainerDefinition({
        name: 'tfserving',
        environment: { MODEL_NAME: 'resnet' },
        dockerLabels: { 'tfserving.rest-port': '7001', 'tfserving.grpc-port': '7002' },
        portMappings: [
          { containerPort: 9000, appProtocol: 'http' },
          { containerPort: 9001, appProtocol: 'grpc' },
        ],
      });

      // Act
      const endpoint = only(derive(taskDetail('running-awsvpc'), { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ restPort: 7001, grpcPort: 7002 });
    });

    it('reads the ports from the port mappings by appProtocol', () => {
      // Prepare
      const definition = singleContainerDefinition({
        name: 'tfserving',
        portMappings: [
          { containerPort: 9101, appProtocol: 'grpc' },
          { containerPort: 9100, appProtocol: 'http' },
        ],
      });

      // Act
      const endpoint = only(derive(taskDetail('running-awsvpc'), { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ restPort: 9100, grpcPort: 9101 });
    });

    it('reads the ports from the port mappings by name', () => {
      // Prepare
      const definition = singleContainerDefinition({
        name: 'tfserving',
        portMappings: [
          { containerPort: 9200, name: 'tfs-grpc' },
          { containerPort: 9201, name: 'tfs-rest' },
        ],
      });

      // Act
      const endpoint = only(derive(taskDetail('running-awsvpc'), { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ restPort: 9201, grpcPort: 9200 });
    });

    it.each(['abc', '0', '70000', '-1', ''])(
      'ignores an invalid tfserving.rest-port label %j and falls back to the port mappings',
      (label) => {
        // Prepare
        const definition = singleContainerDefinition({
          name: 'tfserving',
          dockerLabels: { 'tfserving.rest-port': label },
          portMappings: [{ containerPort: 9100, appProtocol: 'http' }],
        });

        // Act
        const endpoint = only(derive(taskDetail('running-awsvpc'), { taskDefinition: definition }).endpoints);

        // Assess
        expect(endpoint.restPort).toBe(9100);
      },
    );

    it('falls back to 8501 and 8500 when the task definition has no port mappings', () => {
      // Prepare
      const definition = singleContainerDefinition({ name: 'tfserving', image: 'tensorflow/serving:2.15.0' });

      // Act
      const endpoint = only(derive(taskDetail('running-awsvpc'), { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ restPort: 8501, grpcPort: 8500 });
    });

    it('reports no gRPC port when the port mappings publish none', () => {
      // Prepare
      const definition = singleContainerDefinition({
        name: 'tfserving',
        portMappings: [{ containerPort: 8501 }],
      });

      // Act
      const endpoint = only(derive(taskDetail('running-awsvpc'), { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ restPort: 8501, grpcPort: null });
    });

    it('defaults an official-image container with no declared model to the model "model"', () => {
      // Prepare
      const definition = singleContainerDefinition({ name: 'tfserving', image: 'tensorflow/serving:2.15.0' });

      // Act
      const endpoint = only(
        derive(taskDetail('running-no-models'), { taskDefinition: definition }).endpoints,
      );

      // Assess
      expect(endpoint.models).toEqual(['model']);
    });

    it('does not default a custom-image container with no declared model to "model"', () => {
      // Prepare
      const detail = taskDetail('running-overrides', {
        overrides: { containerOverrides: [{ name: 'model-server' }] },
      });
      const definition = singleContainerDefinition({ name: 'model-server', image: 'ranker:42' });

      // Act
      const { endpoints, skipped } = derive(detail, {
        taskDefinition: definition,
        tfservingContainerNames: ['model-server'],
      });

      // Assess
      expect(endpoints).toEqual([]);
      expect(skipped).toHaveLength(1);
    });

    it('detects a container by the Docker label tfserving.models alone', () => {
      // Prepare
      const detail = taskDetail('running-overrides', {
        overrides: { containerOverrides: [{ name: 'model-server' }] },
      });
      const definition = singleContainerDefinition({
        name: 'model-server',
        dockerLabels: { 'tfserving.models': 'ranker' },
      });

      // Act
      const endpoint = only(derive(detail, { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ containerName: 'model-server', models: ['ranker'] });
    });

    it('detects by the task definition image when the event has none', () => {
      // Prepare
      const detail = taskDetail('running-no-models');
      const containers = detail.containers.map(({ image: _image, ...c }) => ({ ...c, name: 'server' }));
      const definition = singleContainerDefinition({ name: 'server', image: 'tensorflow/serving:latest' });

      // Act
      const endpoint = only(derive({ ...detail, containers }, { taskDefinition: definition }).endpoints);

      // Assess
      expect(endpoint).toMatchObject({ containerName: 'server', models: ['model'] });
    });

    it('still ignores the sidecars of a task definition with no TF Serving declarations', () => {
      // Prepare
      const detail = taskDetail('running-sidecars');
      const definition = {
        containers: [
          { name: 'log-router', environment: {}, dockerLabels: {}, portMappings: [] },
          { name: 'envoy', environment: {}, dockerLabels: {}, portMappings: [{ containerPort: 9901 }] },
        ],
      };

      // Act
      const { endpoints } = derive(detail, { taskDefinition: definition });

      // Assess
      expect(endpoints.map((e) => e.containerName)).toEqual(['tfserving']);
    });
  });

  describe('in bridge mode', () => {
    it('uses the host ports of the network bindings on the container instance address', () => {
      // Prepare
      const detail = taskDetail('running-bridge');

      // Act
      const { endpoints, skipped } = derive(detail, { containerInstanceHost: BRIDGE_HOST });

      // Assess
      expect(endpoints).toEqual([
        {
          id: 'ml/5f6e1d2c3b4a49788695a4b3c2d1e0f9/tfserving',
          containerName: 'tfserving',
          host: BRIDGE_HOST,
          restPort: 49159,
          grpcPort: 49158,
          models: ['bert'],
          labels: [],
        },
      ]);
      expect(skipped).toEqual([]);
    });

    it('registers one endpoint despite the duplicate "::" binding', () => {
      // Prepare
      const detail = taskDetail('running-bridge');

      // Act
      const { endpoints } = derive(detail, { containerInstanceHost: BRIDGE_HOST });

      // Assess
      expect(endpoints).toHaveLength(1);
    });

    it('maps the REST port of the labels to its host port', () => {
      // Prepare
      const detail = taskDetail('running-bridge');
      const containers = detail.containers.map((c) => ({
        ...c,
        networkBindings: [
          { bindIP: '0.0.0.0', containerPort: 9000, hostPort: 32768, protocol: 'tcp' },
          { bindIP: '0.0.0.0', containerPort: 9001, hostPort: 32769, protocol: 'tcp' },
        ],
      }));
      const definition = singleContainerDefinition({
        name: 'tfserving',
        dockerLabels: { 'tfserving.rest-port': '9000', 'tfserving.grpc-port': '9001' },
      });

      // Act
      const endpoint = only(
        derive({ ...detail, containers }, { taskDefinition: definition, containerInstanceHost: BRIDGE_HOST })
          .endpoints,
      );

      // Assess
      expect(endpoint).toMatchObject({ host: BRIDGE_HOST, restPort: 32768, grpcPort: 32769 });
    });

    it('reports no gRPC port when no binding publishes it', () => {
      // Prepare
      const detail = taskDetail('running-bridge');
      const containers = detail.containers.map((c) => ({
        ...c,
        networkBindings: (c.networkBindings ?? []).filter((b) => b.containerPort === 8501),
      }));

      // Act
      const endpoint = only(
        derive({ ...detail, containers }, { containerInstanceHost: BRIDGE_HOST }).endpoints,
      );

      // Assess
      expect(endpoint).toMatchObject({ restPort: 49159, grpcPort: null });
    });

    it('reports the endpoint skipped and unaddressable when the container instance address is unknown', () => {
      // Prepare
      const detail = taskDetail('running-bridge');

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(isAddressable(only(endpoints))).toBe(false);
      expect(skipped).toEqual([
        { container: 'tfserving', reason: 'the container instance address is unknown' },
      ]);
    });

    it('says the event has no containerInstanceArn when a bridge-mode event lacks it', () => {
      // Prepare
      const detail = taskDetail('running-bridge', { containerInstanceArn: undefined });

      // Act
      const { endpoints, skipped } = derive(detail);

      // Assess
      expect(isAddressable(only(endpoints))).toBe(false);
      expect(skipped).toEqual([
        {
          container: 'tfserving',
          reason:
            'the container instance address is unknown: the event has no detail.containerInstanceArn (bridge and host mode need it)',
        },
      ]);
    });

    it('reports the endpoint skipped and unaddressable when no host port is bound to the REST port', () => {
      // Prepare
      const detail = taskDetail('running-bridge');
      const containers = detail.containers.map((c) => ({
        ...c,
        networkBindings: (c.networkBindings ?? []).filter((b) => b.containerPort === 8500),
      }));

      // Act
      const { endpoints, skipped } = derive(
        { ...detail, containers },
        { containerInstanceHost: BRIDGE_HOST },
      );

      // Assess
      expect(isAddressable(only(endpoints))).toBe(false);
      expect(skipped).toEqual([
        { container: 'tfserving', reason: 'no host port is bound to REST port 8501' },
      ]);
    });
  });
});

describe('endpointId', () => {
  it('joins the cluster name, the task id and the container name', () => {
    // Act
    const id = endpointId(
      CLUSTER,
      `arn:aws:ecs:us-east-1:123456789012:task/ml/${AWSVPC_TASK_ID}`,
      'tfserving',
    );

    // Assess
    expect(id).toBe(`ml/${AWSVPC_TASK_ID}/tfserving`);
  });

  it('takes the task id from an old-format task ARN', () => {
    // Act
    const id = endpointId(CLUSTER, `arn:aws:ecs:us-east-1:123456789012:task/${AWSVPC_TASK_ID}`, 'tfserving');

    // Assess
    expect(id).toBe(`ml/${AWSVPC_TASK_ID}/tfserving`);
  });
});

describe('resourceName', () => {
  it('returns what follows the resource type of an ARN', () => {
    // Act / Assess
    expect(resourceName(CLUSTER)).toBe('ml');
  });
});

describe('isAddressable', () => {
  const base = endpointOf('t');

  it('returns true with a host and a REST port', () => {
    // Act / Assess
    expect(isAddressable(base)).toBe(true);
  });

  it('returns false without a host', () => {
    // Act / Assess
    expect(isAddressable({ ...base, host: undefined })).toBe(false);
  });

  it('returns false without a REST port', () => {
    // Act / Assess
    expect(isAddressable({ ...base, restPort: undefined })).toBe(false);
  });
});
