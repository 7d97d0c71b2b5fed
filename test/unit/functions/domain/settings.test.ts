import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../../functions/domain/errors.ts';
import { loadConfig } from '../../../../functions/domain/settings.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('returns the defaults of the design for an empty environment', () => {
    // Prepare
    const env = {};

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).toEqual({
      tableName: 'tf-serving-registry',
      probeIntervalSeconds: 5,
      probeTimeoutMs: 2000,
      failureThreshold: 2,
      unhealthyAfterSeconds: 10,
      removeAfterSeconds: 30,
      tfservingContainerNames: ['tfserving', 'tf-serving'],
      probeConcurrency: 64,
      probeTargetsPerShard: 500,
      clusterArns: [],
    });
  });

  it('reads every setting from the environment', () => {
    // Prepare
    const env = {
      TABLE_NAME: 'registry-test',
      PROBE_INTERVAL_SECONDS: '7',
      PROBE_TIMEOUT_MS: '750',
      FAILURE_THRESHOLD: '4',
      UNHEALTHY_AFTER_SECONDS: '20',
      REMOVE_AFTER_SECONDS: '90',
      TFSERVING_CONTAINER_NAMES: 'model-server, serving ,',
      PROBE_CONCURRENCY: '8',
      PROBE_TARGETS_PER_SHARD: '250',
      CLUSTER_ARNS: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).toEqual({
      tableName: 'registry-test',
      probeIntervalSeconds: 7,
      probeTimeoutMs: 750,
      failureThreshold: 4,
      unhealthyAfterSeconds: 20,
      removeAfterSeconds: 90,
      tfservingContainerNames: ['model-server', 'serving'],
      probeConcurrency: 8,
      probeTargetsPerShard: 250,
      clusterArns: ['arn:aws:ecs:us-east-1:123456789012:cluster/ml'],
    });
  });

  it('returns a frozen object', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('uses the default for an empty or blank number setting', () => {
    // Act
    const config = loadConfig({ PROBE_INTERVAL_SECONDS: '', FAILURE_THRESHOLD: '   ' });

    // Assess
    expect(config.probeIntervalSeconds).toBe(5);
    expect(config.failureThreshold).toBe(2);
  });

  it('accepts surrounding whitespace around a number', () => {
    // Act
    const config = loadConfig({ PROBE_TIMEOUT_MS: ' 1500 ' });

    // Assess
    expect(config.probeTimeoutMs).toBe(1500);
  });

  it.each([
    ['PROBE_INTERVAL_SECONDS', '1', 'probeIntervalSeconds'],
    ['PROBE_INTERVAL_SECONDS', '3600', 'probeIntervalSeconds'],
    ['UNHEALTHY_AFTER_SECONDS', '1', 'unhealthyAfterSeconds'],
    ['UNHEALTHY_AFTER_SECONDS', '3600', 'unhealthyAfterSeconds'],
    ['REMOVE_AFTER_SECONDS', '1', 'removeAfterSeconds'],
    ['REMOVE_AFTER_SECONDS', '3600', 'removeAfterSeconds'],
    ['FAILURE_THRESHOLD', '1', 'failureThreshold'],
    ['FAILURE_THRESHOLD', '1000', 'failureThreshold'],
    ['PROBE_TIMEOUT_MS', '50', 'probeTimeoutMs'],
    ['PROBE_TIMEOUT_MS', '60000', 'probeTimeoutMs'],
  ] as const)('admits %s=%s, an end of the range the design requires', (variable, value, field) => {
    // Act
    const config = loadConfig({ [variable]: value });

    // Assess
    expect(config[field]).toBe(Number(value));
  });

  it('runs with one rule set short and every other setting very large (no rule between settings)', () => {
    // Prepare
    const env = {
      PROBE_INTERVAL_SECONDS: '3600',
      UNHEALTHY_AFTER_SECONDS: '1',
      REMOVE_AFTER_SECONDS: '3600',
      FAILURE_THRESHOLD: '1000',
      PROBE_TIMEOUT_MS: '60000',
    };

    // Act
    const config = loadConfig(env);

    // Assess
    expect(config).toMatchObject({
      probeIntervalSeconds: 3600,
      unhealthyAfterSeconds: 1,
      removeAfterSeconds: 3600,
      failureThreshold: 1000,
      probeTimeoutMs: 60000,
    });
  });

  it.each([
    ['PROBE_INTERVAL_SECONDS', '0'],
    ['PROBE_INTERVAL_SECONDS', '-5'],
    ['PROBE_INTERVAL_SECONDS', 'five'],
    ['PROBE_INTERVAL_SECONDS', '2.5'],
    ['PROBE_INTERVAL_SECONDS', '1e3'],
    ['PROBE_INTERVAL_SECONDS', '86401'],
    ['UNHEALTHY_AFTER_SECONDS', '0'],
    ['REMOVE_AFTER_SECONDS', '0'],
    ['FAILURE_THRESHOLD', '0'],
    ['FAILURE_THRESHOLD', '1001'],
    ['PROBE_TIMEOUT_MS', '49'],
    ['PROBE_TIMEOUT_MS', '60001'],
    ['PROBE_CONCURRENCY', '0'],
    ['PROBE_TIMEOUT_MS', '99999999999999999999'],
  ])('throws a ConfigError for %s=%s', (variable, value) => {
    // Act
    const act = () => loadConfig({ [variable]: value });

    // Assess
    expect(act).toThrow(ConfigError);
  });

  it('throws an error naming the variable, the value and what is allowed', () => {
    // Act
    const error = configError({ FAILURE_THRESHOLD: '0' });

    // Assess
    expect(error.variable).toBe('FAILURE_THRESHOLD');
    expect(error.value).toBe('0');
    expect(error.allowed).toContain('1 to 1000');
    expect(error.message).toBe(
      'FAILURE_THRESHOLD="0" is invalid: expected a whole number from 1 to 1000 (default 2)',
    );
  });

  it('throws a ConfigError naming PROBE_TIMEOUT_MS and its bounds for a timeout below 50 ms', () => {
    // Act
    const error = configError({ PROBE_TIMEOUT_MS: '10' });

    // Assess
    expect(error.message).toMatch(/^PROBE_TIMEOUT_MS="10" is invalid: .*50 to 60000/);
  });

  it.each(['', 'ab', 'has space', 'bad/name', 'x'.repeat(256)])(
    'throws a ConfigError for TABLE_NAME=%j',
    (value) => {
      // Act
      const error = configError({ TABLE_NAME: value });

      // Assess
      expect(error.variable).toBe('TABLE_NAME');
      expect(error.value).toBe(value);
    },
  );

  it('throws a ConfigError for a TFSERVING_CONTAINER_NAMES list with no names', () => {
    // Act
    const error = configError({ TFSERVING_CONTAINER_NAMES: ' , ,' });

    // Assess
    expect(error.variable).toBe('TFSERVING_CONTAINER_NAMES');
    expect(error.value).toBe(' , ,');
  });

  it('reads process.env when no environment is passed', () => {
    // Prepare
    vi.stubEnv('FAILURE_THRESHOLD', '9');

    // Act
    const config = loadConfig();

    // Assess
    expect(config.failureThreshold).toBe(9);
  });
});

describe('loadConfig CLUSTER_ARNS', () => {
  it('reads every cluster when unset', () => {
    // Act + Assess
    expect(loadConfig({}).clusterArns).toEqual([]);
  });

  it('reads a comma-separated list of cluster ARNs', () => {
    // Act
    const config = loadConfig({
      CLUSTER_ARNS:
        'arn:aws:ecs:us-east-1:123456789012:cluster/ml, arn:aws:ecs:eu-west-1:123456789012:cluster/b',
    });

    // Assess
    expect(config.clusterArns).toEqual([
      'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
      'arn:aws:ecs:eu-west-1:123456789012:cluster/b',
    ]);
  });

  it('throws naming the variable and the value that is not a cluster ARN', () => {
    // Act + Assess
    expect(() => loadConfig({ CLUSTER_ARNS: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml,ml' })).toThrow(
      /CLUSTER_ARNS=.*is invalid: expected comma-separated ECS cluster ARNs; "ml" is not an ECS cluster ARN/,
    );
  });
});
