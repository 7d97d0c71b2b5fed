import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Counts the DynamoDB operations a client sends, and the capacity units each consumed (it asks for
 * `ReturnConsumedCapacity: TOTAL` on every operation that supports it). A failed conditional write
 * is counted as a write of one unit: DynamoDB charges it.
 */

// The base client's command names (the document client's commands run through them).
export const READ_COMMANDS = [
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
] as const;
const READS = new Set<string>(READ_COMMANDS);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const CAPACITY = new Set([...READS, ...WRITES]);

export interface OperationCount {
  calls: number;
  capacityUnits: number;
  conditionalFailures: number;
  /** Calls whose answer carried no ConsumedCapacity (engine does not report it). */
  unreported: number;
}

export interface CountSummary {
  readonly reads: number;
  readonly writes: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly byCommand: Record<string, OperationCount>;
}

export class DdbCounter {
  private counts = new Map<string, OperationCount>();
  enabled = true;

  /** Adds the counting middleware to the client (the document client shares its base client's stack). */
  attach(client: DynamoDBDocumentClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? 'unknown');
        if (!this.enabled) return next(args);
        const input = args.input as Record<string, unknown>;
        if (CAPACITY.has(name)) input.ReturnConsumedCapacity = 'TOTAL';
        const count = this.entry(name);
        count.calls += 1;
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
          const units = Array.isArray(consumed)
            ? consumed.reduce((sum, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0), 0)
            : (consumed as { CapacityUnits?: number } | undefined)?.CapacityUnits;
          if (units === undefined) count.unreported += 1;
          else count.capacityUnits += units;
          return result;
        } catch (error) {
          if ((error as Error).name === 'ConditionalCheckFailedException') {
            count.conditionalFailures += 1;
            count.capacityUnits += 1;
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'benchDdbCounter', override: true },
    );
    return this;
  }

  reset(): void {
    this.counts = new Map();
  }

  summary(): CountSummary {
    let reads = 0;
    let writes = 0;
    let readUnits = 0;
    let writeUnits = 0;
    const byCommand: Record<string, OperationCount> = {};
    for (const [name, count] of this.counts) {
      byCommand[name] = { ...count, capacityUnits: Math.round(count.capacityUnits * 100) / 100 };
      if (READS.has(name)) {
        reads += count.calls;
        readUnits += count.capacityUnits;
      } else if (WRITES.has(name)) {
        writes += count.calls;
        writeUnits += count.capacityUnits;
      }
    }
    return { reads, writes, readUnits, writeUnits, byCommand };
  }

  private entry(name: string): OperationCount {
    let count = this.counts.get(name);
    if (count === undefined) {
      count = { calls: 0, capacityUnits: 0, conditionalFailures: 0, unreported: 0 };
      this.counts.set(name, count);
    }
    return count;
  }
}
