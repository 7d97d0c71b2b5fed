import { ConfigError } from './errors.ts';
import { ECS_CLUSTER_ARN } from './names.ts';

/**
 * The registry's settings, in one table: each setting's name (the same as an environment
 * variable on Lambda and in local mode, and as a CDK context key), default, bounds and meaning.
 * `loadConfig`, the CDK context check (`infra/aws/context.ts`), the README's configuration table
 * (`npm run docs:settings`) and the tests all read this table; a new setting is one entry here.
 */

/** How a setting reaches a deployed function: as its own environment variable on every function,
 * or through the construct that also derives something else from it (the table name from the
 * table's grant, the cluster ARNs with the ECS permissions scoped to them); or not at all, a
 * setting of local mode only (`infra/local/local-settings.ts`). */
export type SettingDelivery = 'every-function' | 'by-construct' | 'local-mode-only';

interface SettingBase<T> {
  /** The field of {@link RegistryConfig} that holds the checked value. */
  readonly key: string;
  readonly default: T;
  /** The default as the README shows it, when it is not the value itself (e.g. "every cluster"). */
  readonly defaultText?: string;
  /** What it does, for the README table and the CDK context help. */
  readonly meaning: string;
  /** More on it, after the allowed values in the README. */
  readonly note?: string;
  readonly delivery: SettingDelivery;
}

export interface WholeNumberSetting extends SettingBase<number> {
  readonly kind: 'whole-number';
  readonly min: number;
  readonly max: number;
}

export interface ListSetting extends SettingBase<readonly string[]> {
  readonly kind: 'list';
  /** What the items are ("container names", "ECS cluster ARNs"), for the error message. */
  readonly items: string;
  /** What one item must be, when there is a pattern ("an ECS cluster ARN (…)"). */
  readonly item?: string;
  readonly itemPattern?: RegExp;
  /** Whether a value with no items (blank) means the default rather than an error. */
  readonly blankIsDefault: boolean;
}

export interface TextSetting extends SettingBase<string> {
  readonly kind: 'text';
  readonly pattern: RegExp;
  readonly allowed: string;
}

/** An http(s) URL, unset by default (`defaultText` says what happens then). */
export interface UrlSetting extends SettingBase<undefined> {
  readonly kind: 'url';
}

export type SettingSpec = WholeNumberSetting | ListSetting | TextSetting | UrlSetting;

// Bounds admit at least what the design requires (1–3600 s, 1–1000, 50–60000 ms); there is
// deliberately no rule *between* settings, so tests can set one rule short and the rest very large.
const MAX_SECONDS = 86_400;

export const SETTINGS = {
  TABLE_NAME: {
    kind: 'text',
    key: 'tableName',
    default: 'tf-serving-registry',
    pattern: /^[a-zA-Z0-9_.-]{3,255}$/,
    allowed: 'expected 3–255 characters of a-z, A-Z, 0-9, _ . -',
    meaning: 'registry table',
    delivery: 'by-construct',
  },
  PROBE_INTERVAL_SECONDS: {
    kind: 'whole-number',
    key: 'probeIntervalSeconds',
    default: 5,
    min: 1,
    max: MAX_SECONDS,
    meaning: 'time between probes of an endpoint',
    delivery: 'every-function',
  },
  PROBE_TIMEOUT_MS: {
    kind: 'whole-number',
    key: 'probeTimeoutMs',
    default: 2000,
    min: 50,
    max: 60_000,
    meaning: 'per probe request',
    delivery: 'every-function',
  },
  FAILURE_THRESHOLD: {
    kind: 'whole-number',
    key: 'failureThreshold',
    default: 2,
    min: 1,
    max: 1000,
    meaning: 'consecutive failed probes before exclusion',
    delivery: 'every-function',
  },
  UNHEALTHY_AFTER_SECONDS: {
    kind: 'whole-number',
    key: 'unhealthyAfterSeconds',
    default: 10,
    min: 1,
    max: MAX_SECONDS,
    meaning: 'no successful probe for this long: excluded',
    delivery: 'every-function',
  },
  REMOVE_AFTER_SECONDS: {
    kind: 'whole-number',
    key: 'removeAfterSeconds',
    default: 30,
    min: 1,
    max: MAX_SECONDS,
    meaning: 'row expiry after the last successful probe',
    delivery: 'every-function',
  },
  TFSERVING_CONTAINER_NAMES: {
    kind: 'list',
    key: 'tfservingContainerNames',
    default: ['tfserving', 'tf-serving'],
    items: 'container names',
    blankIsDefault: false,
    meaning: 'extra container names to treat as TF Serving',
    delivery: 'every-function',
  },
  PROBE_CONCURRENCY: {
    kind: 'whole-number',
    key: 'probeConcurrency',
    default: 64,
    min: 1,
    max: 1024,
    meaning: 'probes doing work at once in one round',
    note: 'a probe waiting on a hung server stops counting after 200 ms',
    delivery: 'every-function',
  },
  PROBE_TARGETS_PER_SHARD: {
    kind: 'whole-number',
    key: 'probeTargetsPerShard',
    // Sized with the probe's memory (infra/aws/constructs/function-memory.ts): a full share's CPU
    // stays under half of each interval at 256 MB (docs/decisions/0023-probe-sizing.md).
    default: 500,
    min: 1,
    max: 100_000,
    meaning: 'on AWS, probe targets (endpoint × model) one invocation takes at most',
    note: 'the probe spreads over ceil(targets / share) shard invocations, the share also bounded by PROBE_CONCURRENCY × PROBE_INTERVAL_SECONDS / 200 ms',
    delivery: 'every-function',
  },
  CLUSTER_ARNS: {
    kind: 'list',
    key: 'clusterArns',
    default: [],
    defaultText: 'every cluster',
    items: 'ECS cluster ARNs',
    item: 'an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)',
    itemPattern: ECS_CLUSTER_ARN,
    blankIsDefault: true,
    meaning: 'clusters whose task events are consumed and whose tasks are reconciled',
    delivery: 'by-construct',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

type Widen<T> = T extends number ? number : T extends string ? string : readonly string[];

/** The checked settings, one field per entry of {@link SETTINGS}. */
export type RegistryConfig = {
  readonly [N in SettingName as (typeof SETTINGS)[N]['key']]: Widen<(typeof SETTINGS)[N]['default']>;
};

type Env = Readonly<Record<string, string | undefined>>;

/** What a whole-number setting allows, as the error message and the README say it. */
export function allowedRange(spec: WholeNumberSetting): string {
  return `expected a whole number from ${spec.min} to ${spec.max} (default ${spec.default})`;
}

function wholeNumber(name: string, spec: WholeNumberSetting, raw: string): number {
  const text = raw.trim();
  if (text === '') return spec.default;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
    throw new ConfigError(name, raw, allowedRange(spec));
  }
  return value;
}

function list(name: string, spec: ListSetting, raw: string): readonly string[] {
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    if (spec.blankIsDefault) return spec.default;
    throw new ConfigError(name, raw, `expected a comma-separated list of ${spec.items}`);
  }
  const bad = spec.itemPattern && items.find((item) => !spec.itemPattern?.test(item));
  if (bad !== undefined) {
    throw new ConfigError(
      name,
      raw,
      `expected comma-separated ${spec.items}; ${JSON.stringify(bad)} is not ${spec.item ?? 'one'}`,
    );
  }
  return items;
}

function text(name: string, spec: TextSetting, raw: string): string {
  const value = raw.trim();
  if (!spec.pattern.test(value)) throw new ConfigError(name, raw, spec.allowed);
  return value;
}

function url(name: string, raw: string): string | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  if (URL.canParse(value)) {
    const { protocol } = new URL(value);
    if (protocol === 'http:' || protocol === 'https:') return value;
  }
  throw new ConfigError(name, raw, 'expected an http:// or https:// URL, such as http://127.0.0.1:8000');
}

/** Checks one setting's raw value (undefined: not set, the default). Throws a {@link ConfigError}. */
export function readSetting(name: string, spec: SettingSpec, raw: string | undefined): unknown {
  if (raw === undefined) return spec.default;
  switch (spec.kind) {
    case 'whole-number':
      return wholeNumber(name, spec, raw);
    case 'list':
      return list(name, spec, raw);
    case 'text':
      return text(name, spec, raw);
    case 'url':
      return url(name, raw);
  }
}

/**
 * Reads and checks the configuration once. Throws a {@link ConfigError} naming the variable,
 * the value and what is allowed.
 */
export function loadConfig(env: Env = process.env): RegistryConfig {
  const config: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    config[spec.key] = readSetting(name, spec, env[name]);
  }
  return Object.freeze(config) as RegistryConfig;
}

/** The settings as environment variables again (what a deployed function is given). */
export function settingsAsEnvironment(config: RegistryConfig): Record<SettingName, string> {
  const env = {} as Record<SettingName, string>;
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const value = (config as Record<string, unknown>)[spec.key];
    env[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}

/** Settings that defeat each other: which ones, and what will happen. */
export interface SettingConflict {
  readonly settings: readonly SettingName[];
  readonly message: string;
}

/**
 * Combinations that run but defeat the registry's purpose. There is deliberately no rule between
 * settings (tests set one rule short and the others very large), so these are warnings, given at
 * start, never errors.
 */
export function settingConflicts(config: RegistryConfig): SettingConflict[] {
  const conflicts: SettingConflict[] = [];
  // A success keeps an endpoint served for the shorter of these two windows; the next success
  // comes one interval later, so a window no longer than the interval excludes healthy endpoints
  // between probes.
  const windows = [
    ['UNHEALTHY_AFTER_SECONDS', config.unhealthyAfterSeconds],
    ['REMOVE_AFTER_SECONDS', config.removeAfterSeconds],
  ] as const;
  for (const [name, seconds] of windows) {
    if (seconds <= config.probeIntervalSeconds) {
      conflicts.push({
        settings: [name, 'PROBE_INTERVAL_SECONDS'],
        message:
          `${name}=${seconds} is not longer than PROBE_INTERVAL_SECONDS=${config.probeIntervalSeconds}: ` +
          `healthy endpoints will flap (excluded ${seconds} s after each successful probe, probed again ` +
          `only every ${config.probeIntervalSeconds} s); make ${name} at least twice the interval`,
      });
    }
  }
  return conflicts;
}
