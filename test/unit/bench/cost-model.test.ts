import { describe, expect, it } from 'vitest';
import {
  type CostMeasurements,
  costModel,
  httpApiMeteredRequests,
  probeSizing,
} from '../../../bench/cost-model.ts';
import { itemBytes } from '../../../bench/lib/item-size.ts';
import { PRICES } from '../../../bench/prices.ts';
import { markdown } from '../../../bench/report.ts';
import { SETTINGS } from '../../../functions/domain/settings.ts';
import { FUNCTION_MEMORY_MB } from '../../../infra/aws/constructs/function-memory.ts';

/** Counts shaped like a steady-state run of `bench/cost.ts` (the figures are illustrative). */
function measurements(discovery: Partial<CostMeasurements['discovery']> = {}): CostMeasurements {
  return {
    engine: 'ddb-local',
    settings: { intervalSeconds: 5, unhealthyAfterSeconds: 10, removeAfterSeconds: 30 },
    targets: 300,
    roundsCounted: 24,
    virtualMinutes: 2,
    roundMs: 120,
    roundCpuMs: 90,
    perRound: { reads: 4, readUnits: 20, writes: 3, writeUnits: 3 },
    writesPerEndpointModelPerMinute: 0.12,
    writeUnitsPerEndpointModelPerMinute: 0.12,
    discovery: {
      calls: 90,
      readsPerCall: 1,
      readUnitsPerCall: 16.5,
      readsByCommand: { QueryCommand: 1 },
      answerBytes: 40_000,
      cpuMsPerCall: 0.5,
      ...discovery,
    },
    reconcile: { reads: 1, readUnits: 10, writes: 0, writeUnits: 0, ecsCalls: 2, cpuMs: 5 },
    storage: { items: 700, bytes: 350_000 },
    events: { runningWrites: 4, drainWrites: 2, drainReads: 1 },
  };
}

describe('cost model', () => {
  it('prices a million calls through the HTTP API $2.50 below the REST API, all else equal', () => {
    // Act
    const { rest, http } = costModel(measurements()).variants;

    // Assess
    expect(rest.perMillionCalls.totalUsd - http.perMillionCalls.totalUsd).toBeCloseTo(3.5 - 1.0, 4);
    expect(rest.monthly.totalUsd - http.monthly.totalUsd).toBeCloseTo((2.5 * (100 * 730 * 3600)) / 1e6, 0);
  });

  it('takes the read units of a discovery call from the measurements: fewer read units, a lower price', () => {
    // Act: the read path as it is (a Query of the partition) and as a GetItem of a small snapshot.
    const query = costModel(measurements());
    const getItem = costModel(
      measurements({ readUnitsPerCall: 1, readsByCommand: { GetItemCommand: 1 }, answerBytes: 3_000 }),
    );

    // Assess
    const saved = (16.5 - 1) * PRICES.dynamodbReadRequestUnit.usd * 1e6;
    expect(
      query.variants.http.perMillionCalls.totalUsd - getItem.variants.http.perMillionCalls.totalUsd,
    ).toBeCloseTo(saved, 3);
    expect(getItem.variants.http.perMillionCalls.lines.map((l) => l.item).join(' | ')).toContain(
      '1 GetItem: 1 RRU per call',
    );
  });

  it('marks the per-million target met or not against 1.5 × Cloud Map ($1.50), with the figures', () => {
    // Act
    const heavyReads = costModel(measurements()).targets.perMillionCalls;
    const lightReads = costModel(measurements({ readUnitsPerCall: 1 })).targets.perMillionCalls;

    // Assess: $1.00 API + $0.20 Lambda + duration, plus 16.5 or 1 RRU at $0.125 per million.
    expect(heavyReads).toMatchObject({ limitUsd: 1.5, met: false });
    expect(heavyReads.oursUsd).toBeGreaterThan(1.5);
    expect(lightReads).toMatchObject({ limitUsd: 1.5, met: true });
    expect(lightReads.ratio).toBeCloseTo(lightReads.oursUsd / 1.0, 2);
  });

  it("compares the standing cost with Cloud Map's charge for 300 instances ($30) and counts no traffic in it", () => {
    // Act
    const model = costModel(measurements());
    const busier = costModel(measurements({ cpuMsPerCall: 5, readUnitsPerCall: 50 }));

    // Assess
    expect(model.targets.standing.limitUsd).toBe(30);
    expect(model.targets.standing.met).toBe(model.standing.totalUsd <= 30);
    expect(busier.standing.totalUsd).toBe(model.standing.totalUsd);
    expect(model.standing.lines.map((l) => l.item).join(' | ')).toMatch(
      /probe.*reconcile.*ecs-events.*storage/,
    );
  });

  it("sizes the probe by a full share's CPU at its memory: met while it takes at most half the interval", () => {
    // Arrange: 300 targets; a full share is the default PROBE_TARGETS_PER_SHARD.
    const share = SETTINGS.PROBE_TARGETS_PER_SHARD.default;
    const vcpu = FUNCTION_MEMORY_MB.probe / 1769;
    // CPU per round that puts a full share at exactly half of a 5 s interval at the probe's size.
    const halfIntervalCpuMs = (2500 * vcpu * 300) / share;
    const at = (roundCpuMs: number) => probeSizing({ ...measurements(), roundCpuMs });

    // Act
    const within = at(halfIntervalCpuMs * 0.99);
    const over = at(halfIntervalCpuMs * 1.01);

    // Assess
    expect(within).toMatchObject({ met: true, targetsPerShare: share, memoryMb: FUNCTION_MEMORY_MB.probe });
    expect(within.ofInterval).toBeCloseTo(0.5, 1);
    expect(over.met).toBe(false);
    expect(at(halfIntervalCpuMs * 2).ofInterval).toBeCloseTo(1, 1);
  });

  it('meters an HTTP API call per started 512 KB of its answer', () => {
    expect(httpApiMeteredRequests(0)).toBe(1);
    expect(httpApiMeteredRequests(512 * 1024)).toBe(1);
    expect(httpApiMeteredRequests(512 * 1024 + 1)).toBe(2);
  });

  it('reports both API kinds side by side beside Cloud Map, and both targets with met or not met', () => {
    // Act
    const text = markdown({
      meta: { id: 't', mode: 'quick' },
      cost: { measurements: measurements(), model: costModel(measurements()), prices: {}, assumptions: {} },
      errors: [],
    });

    // Assess
    expect(text).toContain('| per million discovery calls | REST API | HTTP API | Cloud Map |');
    expect(text).toMatch(/❌ not met: per million discovery calls with the HTTP API ≤ 1\.5 × Cloud Map's/);
    expect(text).toMatch(
      /(✅ met|❌ not met): standing cost \(no discovery traffic\) ≤ Cloud Map's instance charge/,
    );
  });
});

describe('item size', () => {
  it("counts attribute names and values as DynamoDB's sizing rules do", () => {
    // 'pk' + 'abc' = 5; 'n' + 123 (3 digits: 2 bytes + 1) = 4; 'ok' + true = 3;
    // 'm' + map (3 + per entry 1 + 'v' + 'x') = 1 + 3 + 1 + 1 + 1 = 7.
    expect(
      itemBytes({ pk: { S: 'abc' }, n: { N: '123' }, ok: { BOOL: true }, m: { M: { v: { S: 'x' } } } }),
    ).toBe(5 + 4 + 3 + 7);
  });
});
