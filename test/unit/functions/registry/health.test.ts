import { describe, expect, it } from 'vitest';
import { exclusionReason, type HealthPolicy, lastSuccessAt } from '../../../../functions/registry/health.ts';
import type { ModelRegistration, ProbeRecord } from '../../../../functions/registry/registry-store.ts';

const NOW = Date.parse('2026-05-04T10:05:00.000Z');
const VERY_LARGE_SECONDS = 86_400;
const VERY_LARGE_THRESHOLD = 1000;

const DEFAULT_POLICY: HealthPolicy = {
  unhealthyAfterSeconds: 10,
  failureThreshold: 2,
  removeAfterSeconds: 30,
};
const LENIENT_POLICY: HealthPolicy = {
  unhealthyAfterSeconds: VERY_LARGE_SECONDS,
  failureThreshold: VERY_LARGE_THRESHOLD,
  removeAfterSeconds: VERY_LARGE_SECONDS,
};

function registration(patch: Partial<ModelRegistration> = {}): ModelRegistration {
  return {
    endpointId: 'ml/3f0c/tfserving',
    model: 'resnet',
    taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ml/3f0c',
    clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/ml',
    availabilityZone: 'us-east-1a',
    host: '10.0.215.105',
    restPort: 8501,
    grpcPort: 8500,
    taskVersion: 3,
    lifecycle: 'RUNNING',
    ...patch,
  };
}

/** A probe row that passes every rule: fresh success, no failures, far expiry. */
function probe(patch: Partial<ProbeRecord> = {}): ProbeRecord {
  return {
    endpointId: 'ml/3f0c/tfserving',
    model: 'resnet',
    versions: ['7'],
    labels: {},
    lastSuccessAt: NOW - 1000,
    probedAt: NOW - 1000,
    consecutiveFailures: 0,
    lastError: undefined,
    expiresAt: NOW / 1000 + VERY_LARGE_SECONDS,
    ...patch,
  };
}

describe('exclusionReason', () => {
  it('returns undefined for a running, freshly and successfully probed endpoint', () => {
    // Act / Assess
    expect(exclusionReason(registration(), probe(), NOW, DEFAULT_POLICY)).toBeUndefined();
  });

  describe('each rule alone excludes, with the other settings very large', () => {
    it.each(['STOPPING', 'STOPPED', 'PENDING'] as const)(
      'returns not-running for a %s registration',
      (lifecycle) => {
        // Act
        const reason = exclusionReason(registration({ lifecycle }), probe(), NOW, LENIENT_POLICY);

        // Assess
        expect(reason).toBe('not-running');
      },
    );

    it('returns not-running for a drain tombstone (STOPPING without an address) despite a fresh probe', () => {
      // Prepare
      const tombstone = registration({
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
      expect(exclusionReason(registration({ host: undefined }), probe(), NOW, LENIENT_POLICY)).toBe(
        'not-running',
      );
    });

    it('returns never-probed-ok when there is no probe row', () => {
      // Act / Assess
      expect(exclusionReason(registration(), undefined, NOW, LENIENT_POLICY)).toBe('never-probed-ok');
    });

    it('returns never-probed-ok when every probe so far failed', () => {
      // Prepare
      const failing = probe({ lastSuccessAt: undefined, consecutiveFailures: 1, versions: [] });

      // Act / Assess
      expect(exclusionReason(registration(), failing, NOW, LENIENT_POLICY)).toBe('never-probed-ok');
    });

    it('returns row-expired once expiresAt has passed, although TTL has not deleted the row', () => {
      // Prepare
      const expired = probe({ expiresAt: NOW / 1000 - 1 });

      // Act / Assess
      expect(exclusionReason(registration(), expired, NOW, LENIENT_POLICY)).toBe('row-expired');
    });

    it('returns row-expired at the second of expiresAt', () => {
      // Act / Assess
      expect(exclusionReason(registration(), probe({ expiresAt: NOW / 1000 }), NOW, LENIENT_POLICY)).toBe(
        'row-expired',
      );
    });

    it('returns row-expired for a row without expiresAt', () => {
      // Act / Assess
      expect(exclusionReason(registration(), probe({ expiresAt: undefined }), NOW, LENIENT_POLICY)).toBe(
        'row-expired',
      );
    });

    it('returns stale when the last success is older than unhealthyAfterSeconds', () => {
      // Prepare
      const policy = { ...LENIENT_POLICY, unhealthyAfterSeconds: 10 };

      // Act / Assess
      expect(exclusionReason(registration(), probe({ lastSuccessAt: NOW - 10_001 }), NOW, policy)).toBe(
        'stale',
      );
    });

    it('returns failing when consecutiveFailures reaches failureThreshold', () => {
      // Prepare
      const policy = { ...LENIENT_POLICY, failureThreshold: 2 };

      // Act / Assess
      expect(exclusionReason(registration(), probe({ consecutiveFailures: 2 }), NOW, policy)).toBe('failing');
    });

    it('returns failing after a single failure with a threshold of 1', () => {
      // Prepare
      const policy = { ...LENIENT_POLICY, failureThreshold: 1 };

      // Act / Assess
      expect(exclusionReason(registration(), probe({ consecutiveFailures: 1 }), NOW, policy)).toBe('failing');
    });

    it('returns no-available-version for a success row without versions', () => {
      // Act / Assess
      expect(exclusionReason(registration(), probe({ versions: [] }), NOW, LENIENT_POLICY)).toBe(
        'no-available-version',
      );
    });
  });

  it('keeps an endpoint whose last success is exactly unhealthyAfterSeconds old', () => {
    // Act / Assess
    expect(
      exclusionReason(registration(), probe({ lastSuccessAt: NOW - 10_000 }), NOW, DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('keeps an endpoint with one failure fewer than the threshold', () => {
    // Act / Assess
    expect(
      exclusionReason(registration(), probe({ consecutiveFailures: 1 }), NOW, DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('keeps an endpoint whose row expires one second from now', () => {
    // Act / Assess
    expect(
      exclusionReason(registration(), probe({ expiresAt: NOW / 1000 + 1 }), NOW, DEFAULT_POLICY),
    ).toBeUndefined();
  });

  it('excludes a stopping endpoint however healthy its probes', () => {
    // Prepare
    const healthy = probe({ lastSuccessAt: NOW, probedAt: NOW, consecutiveFailures: 0 });

    // Act / Assess
    expect(exclusionReason(registration({ lifecycle: 'STOPPING' }), healthy, NOW, LENIENT_POLICY)).toBe(
      'not-running',
    );
  });

  it('brings an endpoint back as soon as a probe succeeds again', () => {
    // Prepare: was stale and failing; a success resets both
    const recovered = probe({ lastSuccessAt: NOW, probedAt: NOW, consecutiveFailures: 0 });

    // Act / Assess
    expect(exclusionReason(registration(), recovered, NOW, DEFAULT_POLICY)).toBeUndefined();
  });
});

describe('lastSuccessAt with a round marker', () => {
  const staleRow = probe({ lastSuccessAt: NOW - 25_000, probedAt: NOW - 25_000 });
  const round = (vouched: string[], startedAt = NOW - 2_000) => ({ startedAt, vouched: new Set(vouched) });

  it('is the start of the latest round that vouched for the endpoint', () => {
    // Act + Assess
    expect(lastSuccessAt(staleRow, round(['ml/3f0c/tfserving']))).toBe(NOW - 2_000);
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
      registration(),
      staleRow,
      NOW,
      DEFAULT_POLICY,
      round(['ml/3f0c/tfserving']),
    );
    const unvouched = exclusionReason(registration(), staleRow, NOW, DEFAULT_POLICY, round([]));

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
      registration(),
      probe({ lastSuccessAt: NOW - 29_999, expiresAt: farLease }),
      NOW,
      policy,
    );
    const at = exclusionReason(
      registration(),
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
    const round = { startedAt: NOW - 5_000, vouched: new Set(['ml/3f0c/tfserving']) };

    // Act + Assess
    expect(exclusionReason(registration(), row, NOW, policy, round)).toBeUndefined();
  });
});
