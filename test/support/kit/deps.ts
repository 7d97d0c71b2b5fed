import { eventOnlyLookups } from '../../../functions/adapters/ecs/ecs-lookups.ts';
import {
  discoveryDeps,
  fleetJudgementDeps,
  probeDeps,
  taskEventDeps,
} from '../../../functions/composition/registry.ts';
import type { DiscoveryDeps, FleetJudgementDeps } from '../../../functions/domain/discovery.ts';
import type { EcsLookups, RegistryStore, TfServingProber } from '../../../functions/domain/ports.ts';
import type { ProbeDeps } from '../../../functions/domain/probe.ts';
import type { TaskEventDeps } from '../../../functions/domain/task-events.ts';
import { DEFAULT_SETTINGS } from './settings.ts';
import { FakeTfServing } from './tfserving.ts';

/**
 * The use cases' dependencies as the composition root wires them (`functions/composition/`) at the
 * default settings, over the store, TF Serving and clock a test passes: usually the in-memory twin,
 * the fake TF Serving and a fixed time. `overrides` change the one thing a test is about.
 */
export interface TestParts {
  readonly store: RegistryStore;
  readonly now: () => number;
  readonly tfserving?: TfServingProber;
  readonly lookups?: EcsLookups;
}

export function testProbeDeps(parts: TestParts, overrides: Partial<ProbeDeps> = {}): ProbeDeps {
  const { store, now, tfserving = new FakeTfServing() } = parts;
  return { ...probeDeps(DEFAULT_SETTINGS, store, { now }), tfserving, ...overrides };
}

export function testTaskEventDeps(parts: TestParts, overrides: Partial<TaskEventDeps> = {}): TaskEventDeps {
  const { store, now, lookups = eventOnlyLookups(undefined) } = parts;
  return { ...taskEventDeps(DEFAULT_SETTINGS, store, testProbeDeps(parts), lookups, { now }), ...overrides };
}

export function testDiscoveryDeps(parts: TestParts, overrides: Partial<DiscoveryDeps> = {}): DiscoveryDeps {
  // Reads shared only while in flight: unit tests read right after their own writes.
  return {
    ...discoveryDeps(DEFAULT_SETTINGS, parts.store, { now: parts.now, sharedReadMs: 0 }),
    ...overrides,
  };
}

export function testFleetDeps(parts: TestParts): FleetJudgementDeps {
  return fleetJudgementDeps(DEFAULT_SETTINGS, parts.store, { now: parts.now });
}
