import { readFileSync } from 'node:fs';

/** Fixture folders under `test/fixtures/events/`. */
export type EventSource = 'ecs' | 'task-definitions' | 'scheduled' | 'apigw-rest';

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
