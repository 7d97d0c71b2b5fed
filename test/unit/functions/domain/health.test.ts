import { describe, expect, it } from 'vitest';
import {
  exclusionReason,
  type HealthPolicy,
  judgeEndpoint,
  lastSuccessAt,
} from '../../../../functions/domain/health.ts';
import type { ModelRegistration, ProbeRecord, RoundMarker } from '../../../../functions/domain/records.ts';
import { probeRecord, registration, roundMarker } from '../../../support/kit/records.ts';
import { DEFAULT_POLICY } from '../../../support/kit/settings.ts';

const NOW = Date.parse('2026-05-04T10:05:00.000Z');
const VERY_LARGE_SECONDS = 86_400;
const VERY_LARGE_THRESHOLD = 1000;
const TASK = '3f0c';

const LENIENT_POLICY: HealthPolicy = {
  unhealthyAfterSeconds: VERY_LARGE_SECONDS,
  failureThreshold: VERY_LARGE_THRESHOLD,
  removeAfterSeconds: VERY_LARGE_SECONDS,
};

/** The endpoint's registration for resnet, running. */
const registered = (patch: Partial<ModelRegistration> = {}) => registration(TASK, 'resnet', patch);

/** A probe row that passes every rule: fresh success, no failures, far expiry. */
const probe = (patch: Partial<ProbeRecord> = {}) =>
  probeRecord(TASK, 'resnet', NOW, { versions: ['7'], expiresAt: NOW / 1000 + VERY_LARGE_SECONDS, ...patch });

describe('exclusionReason', () => {
  it('returns undefined for a running, freshly and successfully probed endpoint', () => {
    // Act / Assess
    expect(exclusionReason(registered(), probe(), NOW, DEFAULT_POLICY)).toBeUndefined();
  });

  describe('each rule alone excludes, with the other settings very large', () => {
    it.each(['STOPPING', 'STOPPED', 'PENDING'] as const)(
      'returns not-running for a %s registration',
      (lifecycle) => {
        // Act
        const reason = exclusionReason(registered({ lifecycle }), probe(), NOW, LENIENT_POLICY);

        // Assess
        expect(reason).toBe('not-running');
      },
    );

    it('returns not-running for a drain tombstone (STOPPING without an address) despite a fresh probe', () => {
      // Prepare
      const tombstone = registered({
        lifecycle: 'STOPPING',
        host: undefined,
        restPort: undefined,
        grpcPort: null,
      });

      // Act
      const reason = exclusionReason(tombstone, probe({ lastSuccessAt: NOW }), NOW, LENIENT_POLICY);

      // Assess
      expect(reason).toBe('not-running');
    });

    it('returns not-running for a registration without a host', () => {
      // Act / Assess
      expect(exclusionReason(registered({ host: undefined }), probe(), NOW, LENIENT_POLICY)).toBe(
        'not-running',
      );
    });

    it('returns never-probed-ok when there is no probe row', () => {
      // Act / Assess
      expect(exclusionReason(registered(), undefined, NOW, LENIENT_POLICY)).toBe('never-probed-ok');
    });

    it('returns never-probed-ok when every probe so far failed', () => {
      // Prepare
      const failing = probe({ lastSuccessAt: undefined, consecutiveFailures: 1, versions: [] });

      // Act / Assess
      expect(exclusionReason(registered(), failing, NOW, LENIENT_POLICY)).toBe('never-probed-ok');
    });

    it('returns row-expired once expiresAt has passed, although TTL has not deleted the row', () => {
      // Prepare
      const expired = probe({ expiresAt: NOW / 1000 - 1 });

      // Act / Assess
      expect(exclusionReason(registered(), expired, NOW, LENIENT_POLICY)).toBe('row-expired');
    });

    it('returns row-expired at the second of expiresAt', () => {
      // Act / Assess
      expect(exclusionReason(registered(), probe({ expiresAt: NOW / 1000 }), NOW, LENIENT_POLICY)).toBe(
        'row-expired',
      );
    });

    it('returns row-expired for a row without expiresAt', () => {
      // Act / Assess
      expect(exclusionReason(registered(), probe({ expiresAt: undefined }), NOW, LENIENT_POLICY)).toBe(
        'row-expired',
      );
    });

    it('returns stale when the last success is older than unhealthyAfterSeconds', () => {
      // Prepare
      const policy = { ...LENIENT_POLICY, unhealthyAfterSeconds: 10 };

      // Act / Assess
      expect(exclusionReason(registered(), probe({ lastSuccessAt: NOW - 10_001 }), NOW, policy)).toBe(
        'stale',
      );
    });

    it('returns failing when consecutiveFailures reaches failureThreshold', () => {
      // Prepare
      const policy = { ...LENIENT_POLICY, failureThreshold: 2 };

      // Act / Assess
      expect(exclusionReason(registered(), probe({ consecutiveFailures: 2 }), NOW, policy)).toBe('failing');
    });

    it('returns failing after a single failure with a threshold of 1', () => {
      // Prepare
      const policy = { ...LENIENT_POLICY, failureThreshold: 1 };

      // Act / Assess
      expect(exclusionReason(registered(), probe({ consecutiveFailures: 1 }), NOW, policy)).toBe('failing');
    });

    it('returns no-available-version for a success row without versions', () => {
      // Act / Assess
      expect(exclusionReason(registered(), probe({ versions: [] }), NOW, LENIENT_POLICY)).toBe(
        'no-available-version',
      );
    });
  });

  it('keeps an endpoint whose last success is exactly unhealthyAfterSeconds old', () => {
    // Act / Assess
    expect(
      exclusionReason(registered(), probe({ lastSuccessAt: NOW - 10_000 }), NOW, DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('keeps an endpoint with one failure fewer than the threshold', () => {
    // Act / Assess
    expect(
      exclusionReason(registered(), probe({ consecutiveFailures: 1 }), NOW, DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('keeps an endpoint whose row expires one second from now', () => {
    // Act / Assess
    expect(
      exclusionReason(registered(), probe({ expiresAt: NOW / 1000 + 1 }), NOW, DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('excludes a stopping endpoint however healthy its probes', () => {
    // Prepare
    const healthy = probe({ lastSuccessAt: NOW, probedAt: NOW, consecutiveFailures: 0 });

    // Act / Assess
    expect(exclusionReason(registered({ lifecycle: 'STOPPING' }), healthy, NOW, LENIENT_POLICY)).toBe(
      'not-running',
    );
  });

  it('brings an endpoint back as soon as a probe succeeds again', () => {
    // Prepare: was stale and failing; a success resets both
    const recovered = probe({ lastSuccessAt: NOW, probedAt: NOW, consecutiveFailures: 0 });

    // Act / Assess
    expect(exclusionReason(registered(), recovered, NOW, DEFAULT_POLICY)).toBeUndefined();
  });
});

/** A round marker written at `recordedAt`, having seen each listed endpoint unchanged at `seenAt`. */
function marker(seen: string[], seenAt = NOW - 2_000, recordedAt = seenAt): RoundMarker {
  return roundMarker(seenAt, Object.fromEntries(seen.map((id) => [id, seenAt])), recordedAt);
}

describe('lastSuccessAt with a round marker', () => {
  const staleRow = probe({ lastSuccessAt: NOW - 25_000, probedAt: NOW - 25_000 });
  const round = marker;

  it('is when the latest round saw the endpoint unchanged', () => {
    // Act + Assess
    expect(lastSuccessAt(staleRow, round(['ml/3f0c/tfserving']))).toBe(NOW - 2_000);
  });

  it("is each endpoint's own time in the marker, not the round's start", () => {
    // Prepare
    const seenLate: RoundMarker = {
      startedAt: NOW - 4_000,
      recordedAt: NOW - 500,
      seen: new Map([['ml/3f0c/tfserving', NOW - 1_500]]),
    };

    // Act + Assess
    expect(lastSuccessAt(staleRow, seenLate)).toBe(NOW - 1_500);
  });

  it("is the row's own time when the round did not vouch for the endpoint", () => {
    // Act + Assess
    expect(lastSuccessAt(staleRow, round(['ml/other/tfserving']))).toBe(NOW - 25_000);
  });

  it("is the row's own time when the row shows a failure, whatever the marker says", () => {
    // Act + Assess
    expect(lastSuccessAt({ ...staleRow, consecutiveFailures: 1 }, round(['ml/3f0c/tfserving']))).toBe(
      NOW - 25_000,
    );
  });

  it('never moves a success back in time for an older marker', () => {
    // Act + Assess
    expect(lastSuccessAt(probe(), round(['ml/3f0c/tfserving'], NOW - 60_000))).toBe(NOW - 1000);
  });

  it('keeps an endpoint served past UNHEALTHY_AFTER_SECONDS of its row while rounds vouch for it', () => {
    // Act
    const vouched = exclusionReason(
      registered(),
      staleRow,
      NOW,
      DEFAULT_POLICY,
      round(['ml/3f0c/tfserving']),
    );
    const unvouched = exclusionReason(registered(), staleRow, NOW, DEFAULT_POLICY, round([]));

    // Assess
    expect(vouched).toBeUndefined();
    expect(unvouched).toBe('stale');
  });
});

describe('exclusionReason row expiry', () => {
  const policy: HealthPolicy = { ...LENIENT_POLICY, removeAfterSeconds: 30 };
  const farLease = Math.floor(NOW / 1000) + 7200;

  it('serves a row until REMOVE_AFTER_SECONDS after its last success, whatever its longer lease says', () => {
    // Act
    const before = exclusionReason(
      registered(),
      probe({ lastSuccessAt: NOW - 29_999, expiresAt: farLease }),
      NOW,
      policy,
    );
    const at = exclusionReason(
      registered(),
      probe({ lastSuccessAt: NOW - 30_000, expiresAt: farLease }),
      NOW,
      policy,
    );

    // Assess
    expect(before).toBeUndefined();
    expect(at).toBe('row-expired');
  });

  it('counts REMOVE_AFTER_SECONDS from the success a round marker vouched for', () => {
    // Prepare
    const row = probe({ lastSuccessAt: NOW - 60_000, probedAt: NOW - 60_000, expiresAt: farLease });
    const round = marker(['ml/3f0c/tfserving'], NOW - 5_000);

    // Act + Assess
    expect(exclusionReason(registered(), row, NOW, policy, round)).toBeUndefined();
  });
});

describe('judgeEndpoint with a stalled prober (nothing recorded for longer than UNHEALTHY_AFTER_SECONDS)', () => {
  const id = 'ml/3f0c/tfserving';
  // The prober's last record (its marker) is 30 s old; it saw the endpoint then.
  const lastRecordAt = NOW - 30_000;
  const healthyThen = probe({ lastSuccessAt: NOW - 40_000, probedAt: NOW - 40_000 });
  const stalledMarker = marker([id], lastRecordAt);

  it('serves an endpoint that was healthy at the last record, and says as of when', () => {
    // Act
    const judgement = judgeEndpoint(registered(), healthyThen, stalledMarker, NOW, DEFAULT_POLICY);

    // Assess
    expect(judgement).toEqual({ reason: undefined, lastSuccessAt: lastRecordAt, stalledAt: lastRecordAt });
  });

  it('is not stalled while the prober records, even only failures: staleness applies', () => {
    // Prepare: the prober keeps timing out on the endpoint and says so on its row.
    const hanging = probe({
      lastSuccessAt: NOW - 12_000,
      probedAt: NOW - 500,
      consecutiveFailures: 1,
    });

    // Act
    const judgement = judgeEndpoint(registered(), hanging, marker([], NOW - 400), NOW, DEFAULT_POLICY);

    // Assess
    expect(judgement).toEqual({ reason: 'stale', lastSuccessAt: NOW - 12_000, stalledAt: undefined });
  });

  it('still excludes an endpoint with a recorded failure, below the failure threshold', () => {
    // Prepare
    const failedOnce = probe({ lastSuccessAt: NOW - 35_000, probedAt: NOW - 31_000, consecutiveFailures: 1 });

    // Act / Assess
    expect(judgeEndpoint(registered(), failedOnce, stalledMarker, NOW, DEFAULT_POLICY).reason).toBe(
      'failing',
    );
  });

  it('still excludes a drained or stopped task at once', () => {
    // Act / Assess
    expect(
      judgeEndpoint(registered({ lifecycle: 'STOPPING' }), healthyThen, stalledMarker, NOW, DEFAULT_POLICY)
        .reason,
    ).toBe('not-running');
  });

  it('still excludes a row past its lease (TTL may delete it at any moment)', () => {
    // Prepare
    const leaseOver = { ...healthyThen, expiresAt: NOW / 1000 - 1 };

    // Act / Assess
    expect(judgeEndpoint(registered(), leaseOver, stalledMarker, NOW, DEFAULT_POLICY).reason).toBe(
      'row-expired',
    );
  });

  it('excludes an endpoint that was already stale at the last record', () => {
    // Prepare: neither its row nor the marker saw it within UNHEALTHY_AFTER_SECONDS of the record.
    const staleThen = probe({ lastSuccessAt: NOW - 45_000, probedAt: NOW - 45_000 });

    // Act / Assess
    expect(judgeEndpoint(registered(), staleThen, marker([], lastRecordAt), NOW, DEFAULT_POLICY).reason).toBe(
      'stale',
    );
  });

  it('judges an endpoint registered during the stall as of its own first probe', () => {
    // Prepare: probed at registration 15 s ago, after the prober's last round.
    const registeredLater = probe({
      endpointId: 'ml/new/tfserving',
      lastSuccessAt: NOW - 15_000,
      probedAt: NOW - 15_000,
    });

    // Act
    const judgement = judgeEndpoint(
      registered({ endpointId: 'ml/new/tfserving' }),
      registeredLater,
      stalledMarker,
      NOW,
      DEFAULT_POLICY,
    );

    // Assess
    expect(judgement).toEqual({ reason: undefined, lastSuccessAt: NOW - 15_000, stalledAt: NOW - 15_000 });
  });

  it('serves, as stale, an endpoint probed once at registration when no round has ever run for it', () => {
    // Prepare: the probe function never wrote a marker (denied, failing, not deployed).
    const onlyRegistration = probe({ lastSuccessAt: NOW - 20_000, probedAt: NOW - 20_000 });

    // Act
    const judgement = judgeEndpoint(registered(), onlyRegistration, undefined, NOW, DEFAULT_POLICY);

    // Assess
    expect(judgement).toMatchObject({ reason: undefined, stalledAt: NOW - 20_000 });
  });
});
