/**
 * The memory of each deployed function (MB), in one place: the constructs size the functions with
 * it and the cost model (`bench/cost-model.ts`) bills them with it. Lambda gives CPU in proportion
 * to memory (one full vCPU at {@link FULL_VCPU_MEMORY_MB}), so a size is also a CPU share.
 *
 * The probe and its shards loop for the whole minute, so their size is most of the standing cost:
 * 256 MB with a share of 500 targets (PROBE_TARGETS_PER_SHARD) keeps a full share's CPU under
 * half of each interval (measured per target in benchmark 5 and checked there), as 512 MB with
 * 1,000 did, at half the cost for a fleet within one share (docs/decisions/0023-probe-sizing.md).
 */
export const FUNCTION_MEMORY_MB = {
  discovery: 256,
  'ecs-events': 256,
  probe: 256,
  'probe-shard': 256,
  reconcile: 256,
} as const;

export type DeployedFunction = keyof typeof FUNCTION_MEMORY_MB;

/** Lambda allocates one full vCPU at this much memory, and CPU in proportion below it. */
export const FULL_VCPU_MEMORY_MB = 1769;

/** The share of one vCPU a function of this size gets. */
export const cpuShare = (memoryMb: number): number => Math.min(1, memoryMb / FULL_VCPU_MEMORY_MB);
