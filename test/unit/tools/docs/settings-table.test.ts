import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../functions/domain/errors.ts';
import { loadLocalSettings } from '../../../../infra/local/local-settings.ts';
import { README, readmeSettingsTable, renderSettingsTable } from '../../../../tools/docs/settings-table.ts';

describe('the README configuration table', () => {
  it('is the one rendered from the settings tables (run npm run docs:settings after changing a setting)', () => {
    // Act
    const inReadme = readmeSettingsTable(readFileSync(README, 'utf8'));

    // Assess
    expect(inReadme).toBe(renderSettingsTable());
  });

  it('lists every setting the code reads, PROBE_CONCURRENCY and the local-only ones included', () => {
    // Act
    const table = renderSettingsTable();

    // Assess
    for (const name of [
      'PROBE_CONCURRENCY',
      'CLUSTER_ARNS',
      'PORT',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'AWS_ENDPOINT_URL_ECS',
    ]) {
      expect(table).toContain(`| \`${name}\` |`);
    }
  });
});

describe('loadLocalSettings', () => {
  it('gives port 3000 and no external endpoints by default', () => {
    // Act + Assess
    expect(loadLocalSettings({})).toEqual({
      port: 3000,
      dynamodbEndpoint: undefined,
      ecsEndpoint: undefined,
    });
  });

  it('reads the endpoints and a port of 0 (any free port)', () => {
    // Act
    const settings = loadLocalSettings({
      PORT: '0',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
      AWS_ENDPOINT_URL_ECS: ' https://ecs.local:4566 ',
    });

    // Assess
    expect(settings).toEqual({
      port: 0,
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      ecsEndpoint: 'https://ecs.local:4566',
    });
  });

  it.each([
    ['AWS_ENDPOINT_URL_DYNAMODB', 'not-a-url'],
    ['AWS_ENDPOINT_URL_DYNAMODB', 'ftp://127.0.0.1:8000'],
    ['AWS_ENDPOINT_URL_ECS', '127.0.0.1:4566'],
  ])('names the variable, the value and what is allowed for %s=%s', (variable, value) => {
    // Act + Assess
    expect(() => loadLocalSettings({ [variable]: value })).toThrow(
      new ConfigError(variable, value, 'expected an http:// or https:// URL, such as http://127.0.0.1:8000'),
    );
  });

  it.each(['-1', '65536', 'http', '80.5'])('names PORT and its bounds for PORT=%s', (value) => {
    // Act + Assess
    expect(() => loadLocalSettings({ PORT: value })).toThrow(
      `PORT=${JSON.stringify(value)} is invalid: expected a whole number from 0 to 65535 (default 3000)`,
    );
  });
});
