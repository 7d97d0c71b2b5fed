import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryStore } from '../../functions/domain/ports.ts';
import type { ModelSnapshot, ProbeRecord } from '../../functions/domain/records.ts';
import {
  endpointIdOf,
  endpointOf,
  probeRecord,
  registration,
  roundMarker,
  taskArnOf,
  taskRecord,
} from './kit/records.ts';

/**
 * The `RegistryStore` port's contract: what every store must do, observed through the port alone.
 * The DynamoDB store runs it on both engines (`test/integration/registry/registry-store.test.ts`)
 * and the in-memory twin in the unit project (`test/unit/kit/in-memory-store.test.ts`), so the
 * twin the unit tests stand on cannot drift from the store that is deployed.
 *
 * The port promises no order for the rows a read returns, so the suite compares them as sets.
 */

export interface StoreUnderTest {
  readonly store: RegistryStore;
  /** Releases what the store holds (clients, tables); called after each test. */
  readonly close?: () => void | Promise<void>;
}

const T1 = 'a';
const T2 = 'b';
const E1 = endpointIdOf(T1);
const E2 = endpointIdOf(T2);
const T1_ARN = taskArnOf(T1);

/** Probe times that do not beat a row probed at 2 000. */
const NOT_NEWER = [
  ['an older', 1_000],
  ['an equally old', 2_000],
] as const;

const byEndpoint = <T extends { endpointId: string }>(rows: readonly T[]) =>
  [...rows].sort((x, y) => x.endpointId.localeCompare(y.endpointId));

/** A successful probe of `endpointId` for `model` at `probedAt`, as the probe writes it. */
const success = (endpointId: string, model: string, probedAt: number, patch = {}) => ({
  endpointId,
  model,
  versions: ['2', '1'],
  labels: { stable: '2' },
  probedAt,
  expiresAt: Math.ceil(probedAt / 1000) + 30,
  ...patch,
});

/** The row `success(E1, 'resnet', 1_000, { expiresAt: 100 })` creates. */
const FIRST_SUCCESS_ROW: ProbeRecord = {
  endpointId: E1,
  model: 'resnet',
  versions: ['2', '1'],
  labels: { stable: '2' },
  lastSuccessAt: 1_000,
  probedAt: 1_000,
  consecutiveFailures: 0,
  lastError: undefined,
  expiresAt: 100,
};

const failure = (endpointId: string, model: string, probedAt: number, patch = {}) => ({
  endpointId,
  model,
  probedAt,
  error: 'connect ECONNREFUSED 10.0.0.1:8501',
  ...patch,
});

/** Defines the contract's tests for the stores `create` makes (a fresh, empty one per test). */
export function registryStoreContract(name: string, create: () => Promise<StoreUnderTest>): void {
  describe(`${name} (RegistryStore contract)`, () => {
    let subject: StoreUnderTest;
    let store: RegistryStore;

    beforeEach(async () => {
      subject = await create();
      store = subject.store;
    });

    afterEach(async () => {
      await subject.close?.();
    });

    const probeRow = async (endpointId: string, model: string): Promise<ProbeRecord | undefined> =>
      (await store.readModel(model)).probes.find((p) => p.endpointId === endpointId);

    describe('tasks', () => {
      it('returns undefined for a task it never stored', async () => {
        // Act / Assess
        expect(await store.getTask(T1_ARN)).toBeUndefined();
      });

      it('returns a written task as written, with every endpoint × model it registered', async () => {
        // Prepare
        const task = taskRecord(T1, ['resnet', 'bert'], {
          endpoints: [
            endpointOf(T1, { models: ['resnet', 'bert'], labels: ['stable'] }),
            endpointOf(T1, {
              id: `${E1}-sidecar`,
              containerName: 'sidecar',
              host: undefined,
              restPort: undefined,
              grpcPort: null,
              models: [],
            }),
          ],
        });

        // Act
        const written = await store.putTask(task);

        // Assess
        expect(written).toBe(true);
        expect(await store.getTask(T1_ARN)).toEqual({
          ...task,
          registeredModels: [
            [E1, 'bert'],
            [E1, 'resnet'],
          ],
        });
      });

      it('applies a newer version', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 2, lifecycle: 'PENDING' }));

        // Act
        const written = await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 3 }));

        // Assess
        expect(written).toBe(true);
        expect(await store.getTask(T1_ARN)).toMatchObject({ taskVersion: 3, lifecycle: 'RUNNING' });
      });

      it('returns false, without an error, when an older version loses to the stored one', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 4, lifecycle: 'STOPPING' }));

        // Act
        const written = await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 3 }));

        // Assess
        expect(written).toBe(false);
        expect(await store.getTask(T1_ARN)).toMatchObject({ taskVersion: 4, lifecycle: 'STOPPING' });
      });

      it('applies the same version again, so a redelivered event finishes what a failed attempt began', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet']));

        // Act
        const written = await store.putTask(taskRecord(T1, ['resnet'], { availabilityZone: 'us-east-1b' }));

        // Assess
        expect(written).toBe(true);
        expect(await store.getTask(T1_ARN)).toMatchObject({ availabilityZone: 'us-east-1b' });
      });

      it('applies a later lifecycle at the same version', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet']));

        // Act
        const written = await store.putTask(taskRecord(T1, ['resnet'], { lifecycle: 'STOPPING' }));

        // Assess
        expect(written).toBe(true);
        expect(await store.getTask(T1_ARN)).toMatchObject({ lifecycle: 'STOPPING' });
      });

      it.each([
        ['STOPPING', 'RUNNING'],
        ['STOPPED', 'RUNNING'],
        ['STOPPED', 'STOPPING'],
        ['RUNNING', 'PENDING'],
      ] as const)('never moves a %s task back to %s, whatever its version says', async (stored, late) => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 4, lifecycle: stored }));

        // Act
        const written = await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 9, lifecycle: late }));

        // Assess
        expect(written).toBe(false);
        expect(await store.getTask(T1_ARN)).toMatchObject({ taskVersion: 4, lifecycle: stored });
      });

      it('keeps a tombstone with its expiry and returns it after that expiry (reads do not apply TTL)', async () => {
        // Prepare: a tombstone that expired long ago (1970).
        const tombstone = taskRecord(T1, ['resnet'], {
          taskVersion: 6,
          lifecycle: 'STOPPED',
          expiresAt: 1000,
        });

        // Act
        await store.putTask(tombstone);

        // Assess
        expect(await store.getTask(T1_ARN)).toMatchObject({ lifecycle: 'STOPPED', expiresAt: 1000 });
      });

      it('keeps the expiry the latest applied write says, and none when it says none', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet'], { lifecycle: 'STOPPING', expiresAt: 2_000_000_000 }));

        // Act
        await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 6, lifecycle: 'STOPPED' }));

        // Assess
        expect(await store.getTask(T1_ARN)).not.toHaveProperty('expiresAt');
      });

      it('keeps every endpoint × model any applied write registered, even one a later write no longer has', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet', 'bert']));

        // Act
        await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 4 }));

        // Assess
        expect((await store.getTask(T1_ARN))?.registeredModels).toEqual([
          [E1, 'bert'],
          [E1, 'resnet'],
        ]);
      });

      it('adds nothing to the registered models from a write that lost', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet'], { taskVersion: 4 }));

        // Act
        await store.putTask(taskRecord(T1, ['bert'], { taskVersion: 3 }));

        // Assess
        expect((await store.getTask(T1_ARN))?.registeredModels).toEqual([[E1, 'resnet']]);
      });

      it('registers no model for a task whose endpoints declare none', async () => {
        // Act
        await store.putTask(taskRecord(T1, [], { endpoints: [] }));

        // Assess
        expect((await store.getTask(T1_ARN))?.registeredModels).toEqual([]);
      });

      it('lists only the tasks whose latest applied state is RUNNING', async () => {
        // Prepare
        await store.putTask(taskRecord(T1, ['resnet']));
        await store.putTask(taskRecord(T2, ['resnet']));
        await store.putTask(taskRecord(T2, ['resnet'], { taskVersion: 4, lifecycle: 'STOPPING' }));
        await store.putTask(taskRecord('c', ['resnet'], { taskVersion: 6, lifecycle: 'STOPPED' }));
        await store.putTask(taskRecord('d', ['resnet'], { taskVersion: 1, lifecycle: 'PENDING' }));

        // Act
        const running = await store.listRunningTasks();

        // Assess
        expect(running).toEqual([{ ...taskRecord(T1, ['resnet']), registeredModels: [[E1, 'resnet']] }]);
      });

      it('lists no task when none runs', async () => {
        // Act / Assess
        expect(await store.listRunningTasks()).toEqual([]);
      });
    });

    describe('registrations', () => {
      it('reads a written registration back as written, a drain tombstone without an address too', async () => {
        // Prepare
        const running = registration(T1, 'resnet');
        const tombstone = registration(T2, 'resnet', {
          lifecycle: 'STOPPING',
          taskVersion: 4,
          host: undefined,
          restPort: undefined,
          grpcPort: null,
          availabilityZone: undefined,
        });

        // Act
        const written = [await store.putRegistration(running), await store.putRegistration(tombstone, 1000)];

        // Assess
        expect(written).toEqual([true, true]);
        expect(byEndpoint((await store.readModel('resnet')).registrations)).toEqual([running, tombstone]);
      });

      it('moves only forward: a newer version applies, an equal one applies again, an older one loses', async () => {
        // Prepare
        await store.putRegistration(registration(T1, 'resnet', { taskVersion: 3 }));

        // Act
        const newer = await store.putRegistration(
          registration(T1, 'resnet', { taskVersion: 5, host: '10.0.0.5' }),
        );
        const again = await store.putRegistration(
          registration(T1, 'resnet', { taskVersion: 5, host: '10.0.0.6' }),
        );
        const older = await store.putRegistration(
          registration(T1, 'resnet', { taskVersion: 4, host: '10.0.0.7' }),
        );

        // Assess
        expect([newer, again, older]).toEqual([true, true, false]);
        expect((await store.readModel('resnet')).registrations).toEqual([
          registration(T1, 'resnet', { taskVersion: 5, host: '10.0.0.6' }),
        ]);
      });

      it('never moves a stopping registration back to running, whatever its version says', async () => {
        // Prepare
        await store.putRegistration(registration(T1, 'resnet', { taskVersion: 4, lifecycle: 'STOPPING' }));

        // Act
        const written = await store.putRegistration(
          registration(T1, 'resnet', { taskVersion: 5, lifecycle: 'RUNNING' }),
        );

        // Assess
        expect(written).toBe(false);
        expect((await store.readModel('resnet')).registrations).toEqual([
          expect.objectContaining({ lifecycle: 'STOPPING', taskVersion: 4 }),
        ]);
      });

      it('guards each model of an endpoint on its own', async () => {
        // Prepare
        await store.putRegistration(registration(T1, 'resnet', { taskVersion: 4, lifecycle: 'STOPPED' }));

        // Act
        const written = await store.putRegistration(registration(T1, 'bert', { taskVersion: 3 }));

        // Assess
        expect(written).toBe(true);
      });
    });

    describe('probe results', () => {
      it('creates the row on a first success: versions, labels, success time, no failure, the expiry', async () => {
        // Act
        const written = await store.recordProbeSuccess(success(E1, 'resnet', 1_000, { expiresAt: 100 }));

        // Assess
        expect(written).toBe(true);
        expect((await store.readModel('resnet')).probes).toEqual([FIRST_SUCCESS_ROW]);
      });

      it('replaces versions and labels on a later success and renews the expiry', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));

        // Act
        const written = await store.recordProbeSuccess(
          success(E1, 'resnet', 2_000, { versions: ['3'], labels: { canary: '3' }, expiresAt: 200 }),
        );

        // Assess
        expect(written).toBe(true);
        expect(await probeRow(E1, 'resnet')).toMatchObject({
          versions: ['3'],
          labels: { canary: '3' },
          lastSuccessAt: 2_000,
          probedAt: 2_000,
          expiresAt: 200,
        });
      });

      it('writes empty versions and labels as empty', async () => {
        // Act
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000, { versions: [], labels: {} }));

        // Assess
        expect(await probeRow(E1, 'resnet')).toMatchObject({ versions: [], labels: {} });
      });

      it.each(NOT_NEWER)('returns false for %s success and keeps the newer row', async (_, probedAt) => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 2_000, { versions: ['2'] }));

        // Act
        const written = await store.recordProbeSuccess(success(E1, 'resnet', probedAt, { versions: ['1'] }));

        // Assess
        expect(written).toBe(false);
        expect(await probeRow(E1, 'resnet')).toMatchObject({ versions: ['2'], probedAt: 2_000 });
      });

      it('does not create a row for a failure, so a late failure leaves nothing behind a stopped task', async () => {
        // Act
        const written = await store.recordProbeFailure(failure(E1, 'resnet', 1_000));

        // Assess
        expect(written).toBe(false);
        expect((await store.readModel('resnet')).probes).toEqual([]);
      });

      it('counts consecutive failures on the row, keeping what the last success saw and its expiry', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000, { expiresAt: 100 }));

        // Act
        await store.recordProbeFailure(failure(E1, 'resnet', 2_000, { error: 'HTTP 500' }));
        const written = await store.recordProbeFailure(failure(E1, 'resnet', 3_000, { error: 'timeout' }));

        // Assess
        expect(written).toBe(true);
        expect(await probeRow(E1, 'resnet')).toEqual({
          ...FIRST_SUCCESS_ROW,
          probedAt: 3_000,
          consecutiveFailures: 2,
          lastError: 'timeout',
        });
      });

      it('resets the failures and clears the error on the next success', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));
        await store.recordProbeFailure(failure(E1, 'resnet', 2_000));

        // Act
        await store.recordProbeSuccess(success(E1, 'resnet', 3_000));

        // Assess
        expect(await probeRow(E1, 'resnet')).toMatchObject({
          consecutiveFailures: 0,
          lastError: undefined,
          lastSuccessAt: 3_000,
        });
      });

      it('takes the success time a round marker vouched for from a failure', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));

        // Act
        await store.recordProbeFailure(failure(E1, 'resnet', 5_000, { lastSuccessAt: 4_000 }));

        // Assess
        expect(await probeRow(E1, 'resnet')).toMatchObject({ lastSuccessAt: 4_000, consecutiveFailures: 1 });
      });

      it.each(NOT_NEWER)('returns false for %s failure and leaves the row as it was', async (_, probedAt) => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 2_000));
        const before = await probeRow(E1, 'resnet');

        // Act
        const written = await store.recordProbeFailure(failure(E1, 'resnet', probedAt));

        // Assess
        expect(written).toBe(false);
        expect(await probeRow(E1, 'resnet')).toEqual(before);
      });

      it('returns false for a success older than the failure already recorded', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));
        await store.recordProbeFailure(failure(E1, 'resnet', 3_000));

        // Act
        const written = await store.recordProbeSuccess(success(E1, 'resnet', 2_000));

        // Assess
        expect(written).toBe(false);
        expect(await probeRow(E1, 'resnet')).toMatchObject({ consecutiveFailures: 1, probedAt: 3_000 });
      });

      it('keeps the first 500 characters of a long error', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));

        // Act
        await store.recordProbeFailure(failure(E1, 'resnet', 2_000, { error: 'x'.repeat(600) }));

        // Assess
        expect((await probeRow(E1, 'resnet'))?.lastError).toBe('x'.repeat(500));
      });

      it('keeps the rows of each endpoint and model apart', async () => {
        // Act
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000, { versions: ['1'] }));
        await store.recordProbeSuccess(success(E2, 'resnet', 1_000, { versions: ['2'] }));
        await store.recordProbeSuccess(success(E1, 'bert', 1_000, { versions: ['3'] }));

        // Assess
        expect(byEndpoint((await store.readModel('resnet')).probes).map((p) => p.versions)).toEqual([
          ['1'],
          ['2'],
        ]);
        expect((await store.readModel('bert')).probes.map((p) => [p.endpointId, p.versions])).toEqual([
          [E1, ['3']],
        ]);
      });

      it("deletes one endpoint's row for one model and nothing else", async () => {
        // Prepare
        await store.putRegistration(registration(T1, 'resnet'));
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));
        await store.recordProbeSuccess(success(E2, 'resnet', 1_000));
        await store.recordProbeSuccess(success(E1, 'bert', 1_000));

        // Act
        await store.deleteProbe(E1, 'resnet');

        // Assess
        const resnet = await store.readModel('resnet');
        expect(resnet.probes.map((p) => p.endpointId)).toEqual([E2]);
        expect(resnet.registrations).toEqual([registration(T1, 'resnet')]);
        expect((await store.readModel('bert')).probes.map((p) => p.endpointId)).toEqual([E1]);
      });

      it('deletes a row that does not exist without an error', async () => {
        // Act / Assess
        await expect(store.deleteProbe(E1, 'resnet')).resolves.toBeUndefined();
      });

      it('lets a late success write a deleted row again, but not a late failure', async () => {
        // Prepare
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));
        await store.deleteProbe(E1, 'resnet');

        // Act
        const failed = await store.recordProbeFailure(failure(E1, 'resnet', 2_000));
        const succeeded = await store.recordProbeSuccess(success(E1, 'resnet', 500));

        // Assess
        expect([failed, succeeded]).toEqual([false, true]);
        expect(await probeRow(E1, 'resnet')).toMatchObject({ probedAt: 500, consecutiveFailures: 0 });
      });

      it('returns a row after its expiry with that expiry (the health rules exclude it, not the store)', async () => {
        // Act
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000, { expiresAt: 1 }));

        // Assess
        expect(await probeRow(E1, 'resnet')).toMatchObject({ expiresAt: 1 });
        expect((await store.readProbeState('resnet')).probes).toHaveLength(1);
      });
    });

    describe('round markers', () => {
      it("writes a model's first marker and reads it back with what it saw", async () => {
        // Prepare
        const round = roundMarker(1_000, { [E1]: 900, [E2]: 1_000 }, 1_500);

        // Act
        const written = await store.recordRound('resnet', round);

        // Assess
        expect(written).toBe(true);
        expect((await store.readModel('resnet')).rounds).toEqual([round]);
        expect((await store.readProbeState('resnet')).rounds).toEqual([round]);
      });

      it("deletes one shard's marker only when it was recorded before the given time", async () => {
        // Prepare: the whole fleet's marker and two shards' of a layout of 2.
        const whole = roundMarker(1_000, { [E1]: 1_000 });
        const shard = (index: number) => ({
          ...roundMarker(1_000, { [E1]: 1_000 }),
          shard: { index, count: 2 },
        });
        for (const marker of [whole, shard(0), shard(1)]) await store.recordRound('resnet', marker);

        // Act
        const kept = await store.deleteRound('resnet', { index: 0, count: 2 }, 1_000);
        const deleted = [
          await store.deleteRound('resnet', { index: 0, count: 2 }, 1_001),
          await store.deleteRound('resnet', { index: 0, count: 1 }, 1_001),
        ];
        const missing = await store.deleteRound('resnet', { index: 0, count: 2 }, 1_001);

        // Assess
        expect({ kept, deleted, missing }).toEqual({ kept: false, deleted: [true, true], missing: false });
        expect((await store.readModel('resnet')).rounds).toEqual([shard(1)]);
      });

      it('reads a marker that saw no endpoint', async () => {
        // Act
        await store.recordRound('resnet', roundMarker(1_000, {}));

        // Assess
        expect((await store.readModel('resnet')).rounds).toEqual([roundMarker(1_000, {})]);
      });

      it('lets the same round write its marker again', async () => {
        // Prepare
        await store.recordRound('resnet', roundMarker(1_000, { [E1]: 1_000 }));

        // Act
        const written = await store.recordRound(
          'resnet',
          roundMarker(1_000, { [E1]: 1_000, [E2]: 1_200 }, 1_300),
        );

        // Assess
        expect(written).toBe(true);
        expect((await store.readModel('resnet')).rounds).toEqual([
          roundMarker(1_000, { [E1]: 1_000, [E2]: 1_200 }, 1_300),
        ]);
      });

      it('lets a round that started later replace the marker', async () => {
        // Prepare
        await store.recordRound('resnet', roundMarker(1_000, { [E1]: 1_000 }));

        // Act
        const written = await store.recordRound('resnet', roundMarker(6_000, { [E2]: 6_000 }));

        // Assess
        expect(written).toBe(true);
        expect((await store.readModel('resnet')).rounds).toEqual([roundMarker(6_000, { [E2]: 6_000 })]);
      });

      it('returns false for a round that started earlier than the one that wrote the marker, even if it writes later', async () => {
        // Prepare
        await store.recordRound('resnet', roundMarker(6_000, { [E1]: 6_000 }));

        // Act
        const written = await store.recordRound('resnet', roundMarker(1_000, { [E2]: 1_000 }, 9_000));

        // Assess
        expect(written).toBe(false);
        expect((await store.readModel('resnet')).rounds).toEqual([roundMarker(6_000, { [E1]: 6_000 })]);
      });

      it('keeps one marker per model', async () => {
        // Act
        await store.recordRound('resnet', roundMarker(6_000, { [E1]: 6_000 }));
        await store.recordRound('bert', roundMarker(1_000, { [E1]: 1_000 }));

        // Assess
        expect((await store.readModel('resnet')).rounds.map((r) => r.startedAt)).toEqual([6_000]);
        expect((await store.readModel('bert')).rounds.map((r) => r.startedAt)).toEqual([1_000]);
        expect((await store.readModel('embedder')).rounds).toEqual([]);
      });

      it("keeps one marker per probe shard, so shards never overwrite each other's, and reads them all with their shard", async () => {
        // Prepare: the whole fleet's marker of an earlier layout, and two shards of a layout of 3.
        const whole = roundMarker(1_000, { [E1]: 1_000 });
        const first = { ...roundMarker(6_000, { [E1]: 6_000 }), shard: { index: 0, count: 3 } };
        const third = { ...roundMarker(6_100, { [E2]: 6_100 }), shard: { index: 2, count: 3 } };

        // Act
        const written = [
          await store.recordRound('resnet', whole),
          await store.recordRound('resnet', first),
          await store.recordRound('resnet', third),
          // An older round of shard 2/3 loses to its own shard's later round only.
          await store.recordRound('resnet', { ...roundMarker(5_000, {}), shard: { index: 2, count: 3 } }),
        ];

        // Assess
        expect(written).toEqual([true, true, true, false]);
        const byStart = (rounds: readonly { startedAt: number }[]) =>
          [...rounds].sort((a, b) => a.startedAt - b.startedAt);
        expect(byStart((await store.readModel('resnet')).rounds)).toEqual([whole, first, third]);
        expect(byStart((await store.readProbeState('resnet')).rounds)).toEqual([whole, first, third]);
        expect((await store.readProbeState('resnet')).probes).toEqual([]);
      });
    });

    describe('model snapshots', () => {
      /** A snapshot of resnet at `sequence`: task a served, b registered with no probe row yet. */
      const snapshotAt = (sequence: number, builtAt = 5_000): ModelSnapshot => ({
        sequence,
        builtAt,
        partitionReadAt: builtAt - 1_000,
        partition: {
          registrations: [
            registration(T1, 'resnet'),
            registration(T2, 'resnet', { availabilityZone: undefined, grpcPort: null }),
          ],
          probes: [probeRecord(T1, 'resnet', 5_000, { versions: ['2', '1'], labels: { stable: '2' } })],
          rounds: [
            { startedAt: 4_000, recordedAt: 4_500, seen: new Map() },
            { startedAt: 4_100, recordedAt: 4_600, seen: new Map(), shard: { index: 1, count: 3 } },
          ],
        },
      });

      it('claims increasing sequence numbers per model', async () => {
        // Act
        const first = await store.claimSnapshot('resnet');
        const second = await store.claimSnapshot('resnet');
        const other = await store.claimSnapshot('bert');

        // Assess
        expect(second).toBeGreaterThan(first);
        expect(other).toBeGreaterThanOrEqual(1);
      });

      it('reads back the snapshot it wrote, row for row', async () => {
        // Act
        const written = await store.putSnapshot('resnet', snapshotAt(1));

        // Assess
        expect(written).toBe(true);
        const read = await store.readSnapshot('resnet');
        expect(read?.sequence).toBe(1);
        expect(read?.builtAt).toBe(5_000);
        expect(read?.partitionReadAt).toBe(4_000);
        const expected = snapshotAt(1).partition;
        expect(read?.partition?.registrations).toEqual(expected?.registrations);
        expect(read?.partition?.probes).toEqual(expected?.probes);
        expect(read?.partition?.rounds).toEqual(expected?.rounds);
      });

      it('reads back a snapshot without a partition (too many endpoints) as one without', async () => {
        // Act
        await store.putSnapshot('resnet', {
          sequence: 3,
          builtAt: 7_000,
          partitionReadAt: 7_000,
          partition: undefined,
        });

        // Assess
        expect(await store.readSnapshot('resnet')).toEqual({
          sequence: 3,
          builtAt: 7_000,
          partitionReadAt: 7_000,
          partition: undefined,
        });
      });

      it('reads a marker-less snapshot of a model with no endpoint', async () => {
        // Act
        await store.putSnapshot('resnet', {
          sequence: 1,
          builtAt: 1,
          partitionReadAt: 1,
          partition: { registrations: [], probes: [], rounds: [] },
        });

        // Assess
        expect((await store.readSnapshot('resnet'))?.partition).toEqual({
          registrations: [],
          probes: [],
          rounds: [],
        });
      });

      it('keeps the higher sequence: a lower or equal one written later returns false', async () => {
        // Prepare
        await store.putSnapshot('resnet', snapshotAt(5, 9_000));

        // Act
        const lower = await store.putSnapshot('resnet', snapshotAt(4, 10_000));
        const equal = await store.putSnapshot('resnet', snapshotAt(5, 11_000));
        const higher = await store.putSnapshot('resnet', snapshotAt(6, 12_000));

        // Assess
        expect([lower, equal, higher]).toEqual([false, false, true]);
        expect((await store.readSnapshot('resnet'))?.builtAt).toBe(12_000);
      });

      it('has no snapshot for a model none was written for, and keeps snapshots apart per model', async () => {
        // Act
        await store.putSnapshot('resnet', snapshotAt(1));

        // Assess
        expect(await store.readSnapshot('bert')).toBeUndefined();
        expect((await store.readModel('resnet')).registrations).toEqual([]);
      });
    });

    describe('reading a model', () => {
      it("counts a model's running registrations, not its tombstones nor other models'", async () => {
        // Prepare: three running endpoints and a stopped one of `resnet`, one of `resnet-v2`.
        for (const task of ['t1', 't2', 't3']) await store.putRegistration(registration(task, 'resnet'));
        await store.putRegistration(registration('t4', 'resnet', { lifecycle: 'STOPPED', host: undefined }));
        await store.putRegistration(registration('t5', 'resnet-v2'));

        // Act
        const counts = [
          await store.countRunningRegistrations('resnet', 10),
          await store.countRunningRegistrations('resnet', 1),
          await store.countRunningRegistrations('bert', 10),
        ];

        // Assess: exact up to the bound, and past it when the bound is passed.
        expect(counts[0]).toBe(3);
        expect(counts[1]).toBeGreaterThan(1);
        expect(counts[2]).toBe(0);
      });

      it('returns an empty partition for a model nothing was written for', async () => {
        // Act / Assess
        expect(await store.readModel('resnet')).toEqual({ registrations: [], probes: [], rounds: [] });
        expect(await store.readProbeState('resnet')).toEqual({ probes: [], rounds: [] });
      });

      it("returns one model's registrations, probe rows and marker, apart from other models'", async () => {
        // Prepare: `resnet-v2` shares a prefix with `resnet`, and `res` is a prefix of both.
        for (const model of ['resnet', 'resnet-v2', 'res']) {
          await store.putRegistration(registration(T1, model));
          await store.recordProbeSuccess(success(E1, model, 1_000));
        }
        await store.recordRound('resnet', roundMarker(1_000, { [E1]: 1_000 }));

        // Act
        const partition = await store.readModel('resnet');

        // Assess
        expect(partition.registrations).toEqual([registration(T1, 'resnet')]);
        expect(partition.probes.map((p) => [p.endpointId, p.model])).toEqual([[E1, 'resnet']]);
        expect(partition.rounds).toEqual([roundMarker(1_000, { [E1]: 1_000 })]);
      });

      it('returns the same probe rows and marker from the probe state as from the whole partition, without registrations', async () => {
        // Prepare
        await store.putRegistration(registration(T1, 'resnet'));
        await store.putRegistration(registration(T2, 'resnet'));
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000));
        await store.recordProbeSuccess(success(E2, 'resnet', 1_000));
        await store.recordProbeFailure(failure(E2, 'resnet', 2_000));
        await store.recordRound('resnet', roundMarker(1_000, { [E1]: 1_000 }));

        // Act
        const state = await store.readProbeState('resnet');

        // Assess
        const whole = await store.readModel('resnet');
        expect(Object.keys(state).sort()).toEqual(['probes', 'rounds']);
        expect(byEndpoint(state.probes)).toEqual(byEndpoint(whole.probes));
        expect(state.rounds).toEqual(whole.rounds);
      });

      it("reads the named endpoints' registrations and probe rows of one model, leaving out ids with neither", async () => {
        // Prepare: a and b registered, a probed; both also registered for `resnet-v2`.
        for (const model of ['resnet', 'resnet-v2']) {
          await store.putRegistration(registration(T1, model));
          await store.putRegistration(registration(T2, model, { lifecycle: 'STOPPING', host: undefined }));
          await store.recordProbeSuccess(success(E1, model, 1_000));
        }

        // Act
        const rows = await store.readEndpointRows('resnet', [E1, E2, endpointIdOf('gone')]);
        const none = await store.readEndpointRows('resnet', []);

        // Assess
        const whole = await store.readModel('resnet');
        expect(byEndpoint(rows.registrations)).toEqual(byEndpoint(whole.registrations));
        expect(rows.probes).toEqual(whole.probes);
        expect(none).toEqual({ registrations: [], probes: [] });
      });

      it('reads more endpoints than one batch request holds, each once', async () => {
        // Prepare: 130 endpoints (260 items: past BatchGetItem's 100 keys a request).
        const tasks = Array.from({ length: 130 }, (_, i) => `t${i}`);
        for (const task of tasks) {
          await store.putRegistration(registration(task, 'resnet'));
          await store.recordProbeSuccess(success(endpointIdOf(task), 'resnet', 1_000));
        }

        // Act
        const rows = await store.readEndpointRows('resnet', [...tasks.map(endpointIdOf), endpointIdOf('t0')]);

        // Assess
        expect(rows.registrations.map((r) => r.endpointId).sort()).toEqual(tasks.map(endpointIdOf).sort());
        expect(rows.probes.map((p) => p.endpointId).sort()).toEqual(tasks.map(endpointIdOf).sort());
      });

      it("reads every marker of one model, as the partition read returns them, apart from other models'", async () => {
        // Prepare
        const whole = roundMarker(1_000, { [E1]: 1_000 });
        const shard = { ...roundMarker(6_000, { [E2]: 6_000 }), shard: { index: 1, count: 2 } };
        await store.putRegistration(registration(T1, 'resnet'));
        await store.recordRound('resnet', whole);
        await store.recordRound('resnet', shard);
        await store.recordRound('resnet-v2', roundMarker(2_000, {}));

        // Act
        const rounds = await store.readRounds('resnet');

        // Assess
        const byStart = (list: readonly { startedAt: number }[]) =>
          [...list].sort((a, b) => a.startedAt - b.startedAt);
        expect(byStart(rounds)).toEqual([whole, shard]);
        expect(byStart(rounds)).toEqual(byStart((await store.readModel('resnet')).rounds));
        expect(await store.readRounds('bert')).toEqual([]);
      });

      it('keeps model names and endpoint ids exactly, Unicode included', async () => {
        // Prepare
        const model = 'модель 模型 😀';
        const endpointId = `${E1}/ü`;

        // Act
        await store.putRegistration(registration(T1, model, { endpointId }));
        await store.recordProbeSuccess(success(endpointId, model, 1_000));

        // Assess
        const partition = await store.readModel(model);
        expect(partition.registrations.map((r) => [r.endpointId, r.model])).toEqual([[endpointId, model]]);
        expect(partition.probes.map((p) => [p.endpointId, p.model])).toEqual([[endpointId, model]]);
      });
    });

    describe('values', () => {
      it('keeps what it stored when the caller changes what it wrote or read', async () => {
        // Prepare
        const models = ['resnet'];
        const labels: Record<string, string> = { stable: '2' };
        const versions = ['2'];
        const seen = new Map([[E1, 1_000]]);
        await store.putTask(taskRecord(T1, [], { endpoints: [endpointOf(T1, { models })] }));
        await store.recordProbeSuccess(success(E1, 'resnet', 1_000, { versions, labels }));
        await store.recordRound('resnet', { startedAt: 1_000, recordedAt: 1_000, seen });

        // Act
        models.push('bert');
        labels.canary = '3';
        versions.push('1');
        seen.set(E2, 1_000);
        const read = await store.readModel('resnet');
        for (const probe of read.probes) (probe.versions as string[]).push('0');
        (read.rounds[0]?.seen as Map<string, number> | undefined)?.clear();
        for (const endpoint of (await store.getTask(T1_ARN))?.endpoints ?? []) {
          (endpoint.models as string[]).push('embedder');
        }

        // Assess
        expect((await store.getTask(T1_ARN))?.endpoints[0]?.models).toEqual(['resnet']);
        expect(await probeRow(E1, 'resnet')).toMatchObject({ versions: ['2'], labels: { stable: '2' } });
        expect((await store.readModel('resnet')).rounds[0]?.seen).toEqual(new Map([[E1, 1_000]]));
      });
    });
  });
}
