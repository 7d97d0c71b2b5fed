import { readSetting, type SettingSpec } from '../../functions/domain/settings.ts';

/** Settings of `npm start` only, in the same table shape as the registry's settings. */
export const LOCAL_SETTINGS = {
  PORT: {
    kind: 'whole-number',
    key: 'port',
    default: 3000,
    min: 0,
    max: 65_535,
    meaning: 'HTTP port on 127.0.0.1',
    note: '0 picks a free port, which the banner shows',
    delivery: 'local-mode-only',
  },
  AWS_ENDPOINT_URL_DYNAMODB: {
    kind: 'url',
    key: 'dynamodbEndpoint',
    default: undefined,
    defaultText: 'embedded engine',
    meaning: 'use an external DynamoDB (DynamoDB Local, LocalStack)',
    delivery: 'local-mode-only',
  },
  AWS_ENDPOINT_URL_ECS: {
    kind: 'url',
    key: 'ecsEndpoint',
    default: undefined,
    defaultText: 'unset',
    meaning:
      'look task definitions up, and reconcile every minute, through this ECS endpoint (otherwise the event alone)',
    delivery: 'local-mode-only',
  },
} as const satisfies Record<string, SettingSpec>;

export interface LocalSettings {
  readonly port: number;
  readonly dynamodbEndpoint: string | undefined;
  readonly ecsEndpoint: string | undefined;
}

/** Reads and checks the local-only settings; throws a `ConfigError` like `loadConfig`. */
export function loadLocalSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocalSettings {
  const read = (name: keyof typeof LOCAL_SETTINGS) => readSetting(name, LOCAL_SETTINGS[name], env[name]);
  return {
    port: read('PORT') as number,
    dynamodbEndpoint: read('AWS_ENDPOINT_URL_DYNAMODB') as string | undefined,
    ecsEndpoint: read('AWS_ENDPOINT_URL_ECS') as string | undefined,
  };
}
