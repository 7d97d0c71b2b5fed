import { randomUUID } from 'node:crypto';

/** The engines the registry is tested against live in `tools/` (the benchmarks use them too). */
export { type EngineKind, type RunningEngine, startEngine } from '../../tools/dynamodb-engines.ts';

/** A table name no other test uses. */
export function uniqueTableName(prefix = 'registry'): string {
  return `${prefix}-${randomUUID()}`;
}
