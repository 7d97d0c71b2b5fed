import { parseEvent, type TaskDetail } from '../../../functions/domain/ecs-task-event.ts';
import { loadEvent, withDetail } from './events.ts';

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
