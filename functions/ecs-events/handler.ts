import { createRegistry } from '../shared/registry.ts';
import { createEcsEventsHandler } from './ecs-events-handler.ts';

/** Lambda entry point: the registry is built once per container, at cold start. */
export const handler = createEcsEventsHandler(createRegistry().taskEvents);
