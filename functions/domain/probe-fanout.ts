import pMap from 'p-map';
import { asError } from './errors.ts';
import type { RegistryStore, StoreOperation } from './ports.ts';
import { probeTargets } from './probe.ts';
import { isShardRef, MAX_PROBE_SHARDS, type ShardRef, shardCount, shardsOf } from './shards.ts';

/**
 * Spreading the probe over as many invocations as the fleet needs. Once a minute the scheduled
 * coordinator counts the running fleet's probe targets: a fleet within one share is probed by the
 * coordinator itself (one invocation, as before shards); a larger one is split into shards by a
 * stable hash of the endpoint id (`shards.ts`), and one shard invocation is started per shard, each
 * probing only its own endpoints every interval until just before the next trigger. Each shard
 * lists the running tasks itself each round, so an endpoint added within the minute is probed by
 * the one shard that owns it under the minute's count.
 */

/** What the coordinator asks of the store. */
export const PROBE_FANOUT_STORE_OPERATIONS = [
  'listRunningTasks',
] as const satisfies readonly StoreOperation[];

/** Starts one shard invocation (asynchronously: it returns once the start is accepted). */
export interface ShardInvoker {
  invoke(shard: ShardRef, scheduledTime: string): Promise<void>;
}

/** Shard starts sent at once: a layout of 256 shards is started in a few round trips. */
const INVOKE_CONCURRENCY = 16;

export interface ProbeLayoutDeps {
  readonly store: Pick<RegistryStore, (typeof PROBE_FANOUT_STORE_OPERATIONS)[number]>;
  /** Probe targets one invocation takes at most (`targetsPerShard` in `shards.ts`). */
  readonly share: number;
}

/** How many shards the running fleet needs now, and how many probe targets it has. */
export async function probeLayout(deps: ProbeLayoutDeps): Promise<{ targets: number; count: number }> {
  const targets = probeTargets(await deps.store.listRunningTasks()).length;
  return { targets, count: shardCount(targets, deps.share) };
}

export interface FanOutResult {
  readonly count: number;
  readonly started: number;
  /** The shards whose start failed, each with why; the others were started all the same. */
  readonly failed: readonly { readonly shard: ShardRef; readonly error: string }[];
}

/**
 * Starts every shard of a layout of `count` for the minute that began at `scheduledTime`. A start
 * that fails is reported and does not stop the others: its shard's endpoints go without fresh
 * records for the minute (the stall rule applies to them alone) while every other shard probes.
 */
export async function fanOut(
  invoker: ShardInvoker,
  count: number,
  scheduledTime: string,
): Promise<FanOutResult> {
  const outcomes = await pMap(
    shardsOf(count),
    async (shard) => {
      try {
        await invoker.invoke(shard, scheduledTime);
        return undefined;
      } catch (error) {
        return { shard, error: asError(error).message };
      }
    },
    { concurrency: INVOKE_CONCURRENCY },
  );
  const failed = outcomes.filter((outcome) => outcome !== undefined);
  return { count, started: count - failed.length, failed };
}

/** What a shard invocation is started with: its shard, and the trigger time of the minute it serves. */
export interface ShardInvocation {
  readonly shard: ShardRef;
  /** ISO 8601: the coordinator's trigger `time`; the shard's loop ends before the next trigger. */
  readonly scheduledTime: string;
}

/** A shard invocation's event, checked: a shard of a layout and a time. Throws naming what is wrong. */
export function readShardInvocation(event: unknown): ShardInvocation {
  const { shard, scheduledTime } = (typeof event === 'object' && event !== null ? event : {}) as Record<
    string,
    unknown
  >;
  if (!isShardRef(shard)) {
    throw new Error(
      `probe shard event shard=${JSON.stringify(shard)} is invalid: expected { index, count } with 0 <= index < count <= ${MAX_PROBE_SHARDS}`,
    );
  }
  if (typeof scheduledTime !== 'string' || !Number.isFinite(Date.parse(scheduledTime))) {
    throw new Error(
      `probe shard event scheduledTime=${JSON.stringify(scheduledTime)} is invalid: expected an ISO 8601 time`,
    );
  }
  return { shard: { index: shard.index, count: shard.count }, scheduledTime };
}
