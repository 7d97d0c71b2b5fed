import { readFileSync } from 'node:fs';
import { parseEvent, type TaskDetail } from '../../../functions/domain/ecs-task-event.ts';

// The event fixtures (`test/fixtures/events/`), and the events and details tests build from them.

/** Fixture folders under `test/fixtures/events/` (`apigw-http-v1`: HTTP API events, payload format 1.0). */
export type EventSource = 'ecs' | 'task-definitions' | 'scheduled' | 'apigw-rest' | 'apigw-http-v1';

const cache = new Map<string, unknown>();

/** Loads `test/fixtures/events/<source>/<name>.json` and returns a fresh deep copy on every call. */
export function loadEvent<T = Record<string, unknown>>(source: EventSource, name: string): T {
  const key = `${source}/${name}`;
  let parsed = cache.get(key);
  if (parsed === undefined) {
    const url = new URL(`../../fixtures/events/${source}/${name}.json`, import.meta.url);
    parsed = JSON.parse(readFileSync(url, 'utf8')) as unknown;
    cache.set(key, parsed);
  }
  return structuredClone(parsed) as T;
}

/** Returns a deep copy of an ECS event whose `detail` is shallow-merged with `patch` (keys set to `undefined` are removed). */
export function withDetail<T extends object>(event: T, patch: Record<string, unknown>): T {
  const copy = structuredClone(event) as T & { detail?: unknown };
  const detail: Record<string, unknown> = { ...(copy.detail as Record<string, unknown> | undefined) };
  for (const [key, value] of Object.entries(structuredClone(patch))) {
    if (value === undefined) delete detail[key];
    else detail[key] = value;
  }
  return { ...copy, detail } as T;
}

/** The ECS task event fixtures under `test/fixtures/events/ecs/`. */
export type TaskEventFixture =
  | 'provisioning'
  | 'pending'
  | 'running-awsvpc'
  | 'draining'
  | 'deactivating'
  | 'stopped'
  | 'running-bridge'
  | 'running-sidecars'
  | 'running-overrides'
  | 'running-no-models';

/** The validated `detail` of an ECS task event fixture, optionally with `detail` keys patched first. */
export function taskDetail(name: TaskEventFixture, patch: Record<string, unknown> = {}): TaskDetail {
  const parsed = parseEvent(withDetail(loadEvent('ecs', name), patch));
  if (parsed.kind !== 'task') throw new Error(`fixture ${name} is not a task event`);
  return parsed.detail;
}

type EcsEvent = { detail: Record<string, unknown> & { containers: Record<string, unknown>[] } } & Record<
  string,
  unknown
>;

/**
 * A fixture ECS event moved onto a loopback host (tests must never reach the fixtures' private
 * 10.x addresses) and, optionally, onto its own task ARN so tests and runs do not share state.
 */
export function loopbackEvent(name: string, host: string, taskId?: string): EcsEvent {
  const event = loadEvent<EcsEvent>('ecs', name);
  let text = JSON.stringify(event).replaceAll(/\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g, host);
  if (taskId !== undefined) {
    const taskArn = String(event.detail.taskArn);
    const oldId = taskArn.slice(taskArn.lastIndexOf('/') + 1);
    text = text.replaceAll(oldId, taskId);
  }
  return JSON.parse(text) as EcsEvent;
}
