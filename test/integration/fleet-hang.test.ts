import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { loopbackEvent } from '../support/kit/events.ts';
import { fetchDocumented } from '../support/kit/openapi.ts';
import { within } from '../support/kit/poll.ts';
import { type LocalProcess, settingsEnv, startLocalProcess } from '../support/local-process.ts';

/**
 * A hung part of the fleet never makes the rest stale, through `npm start`, at a scale CI can run:
 * few probe slots and a short interval, so that hung targets holding slots for their whole
 * timeout would starve the round (4 hung × 1 s / 2 slots = 2 s, twice the interval). The
 * fleet-scale scenarios at default settings are in `test/faults/` (`npm run test:faults`).
 */

const SETTINGS = {
  PROBE_INTERVAL_SECONDS: 1,
  PROBE_TIMEOUT_MS: 1_000,
  PROBE_CONCURRENCY: 2,
  FAILURE_THRESHOLD: 2,
  UNHEALTHY_AFTER_SECONDS: 3,
  REMOVE_AFTER_SECONDS: 600,
};
const TASKS = 12;
const HUNG = 4;
const WATCH_MS = 8_000;

describe('npm start with part of the fleet hanging', () => {
  let registry: LocalProcess;
  const stands: TfServingStandIn[] = [];

  beforeAll(async () => {
    registry = await startLocalProcess(settingsEnv(SETTINGS));
    for (let n = 1; n <= TASKS; n += 1) {
      const host = `127.0.52.${n}`;
      stands.push(await TfServingStandIn.start({ host, models: { resnet: { available: ['1'] } } }));
      expect((await registry.post(loopbackEvent('running-awsvpc', host, `hang${n}`))).status).toBe(202);
    }
    await within(5_000, async () => (await served()).length === TASKS);
  });

  afterAll(async () => {
    registry?.kill();
    await Promise.all(stands.map((s) => s.close()));
  });

  async function served(): Promise<string[]> {
    const body = (await (await fetchDocumented(`${registry.url}/models/resnet`)).json()) as {
      endpoints: { host: string }[];
    };
    return body.endpoints.map((e) => e.host);
  }

  it('serves every healthy endpoint on every poll, and excludes the hung ones in time', async () => {
    // Prepare
    const hung = stands.slice(0, HUNG);
    const healthy = stands.slice(HUNG).map((s) => s.host);
    const hungAt = Date.now();

    // Act
    for (const stand of hung) stand.misbehave('hang');
    const polls: { at: number; hosts: string[] }[] = [];
    while (Date.now() - hungAt < WATCH_MS) {
      polls.push({ at: Date.now(), hosts: await served() });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const stand of hung) stand.misbehave('none');

    // Assess
    const missing = polls.filter((p) => healthy.some((h) => !p.hosts.includes(h)));
    const lastWithHung = polls.filter((p) => hung.some((s) => p.hosts.includes(s.host))).at(-1);
    const outAfterMs = (lastWithHung?.at ?? hungAt) - hungAt;
    console.info(
      `${polls.length} polls, ${missing.length} missing a healthy endpoint; hung out after ${outAfterMs} ms`,
    );
    expect(missing).toEqual([]);
    // Staleness alone excludes them: UNHEALTHY_AFTER_SECONDS after their last success, plus a poll.
    expect(outAfterMs).toBeLessThanOrEqual((SETTINGS.UNHEALTHY_AFTER_SECONDS + 1) * 1000);
    expect(polls.at(-1)?.hosts.sort()).toEqual([...healthy].sort());
  });
});
