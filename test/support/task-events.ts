import { loadEvent } from './kit/events.ts';

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
