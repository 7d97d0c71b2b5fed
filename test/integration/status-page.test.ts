import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loopbackEvent } from '../support/kit/events.ts';
import { responseProblems } from '../support/kit/openapi.ts';
import { standInsOn } from '../support/kit/stand-ins.ts';
import { type LocalProcess, settingsEnv, startLocalProcess } from '../support/local-process.ts';

/**
 * The status page (`GET /`) in a real browser: headless Debian Chromium driven by playwright-core,
 * against `npm start` and TF Serving stand-ins. The page refreshes itself from the health API;
 * the test waits for what it should show with Playwright's own deadline-bound waiting.
 */

const CHROMIUM = '/usr/bin/chromium';
const SETTINGS = {
  PROBE_INTERVAL_SECONDS: 1,
  PROBE_TIMEOUT_MS: 300,
  FAILURE_THRESHOLD: 2,
  UNHEALTHY_AFTER_SECONDS: 3,
};
// A silent death is excluded within FAILURE_THRESHOLD probes; the page refreshes every 500 ms
// here; doubled for a shared 2-core machine.
const REFRESH_MS = 500;
const EXCLUSION_DEADLINE_MS =
  2 *
  (SETTINGS.FAILURE_THRESHOLD * SETTINGS.PROBE_INTERVAL_SECONDS * 1000 +
    SETTINGS.PROBE_TIMEOUT_MS +
    REFRESH_MS);

const standIns = standInsOn(41);

/** A RUNNING event of the fixture task on `host` whose container also declares the label `stable`. */
function runningWithLabel(host: string, taskId: string) {
  const event = loopbackEvent('running-awsvpc', host, taskId);
  const overrides = event.detail.overrides as { containerOverrides: { environment: unknown[] }[] };
  overrides.containerOverrides[0]?.environment.push({ name: 'TFSERVING_LABELS', value: 'stable' });
  return event;
}

describe('the status page', () => {
  let registry: LocalProcess;
  let browser: Browser;
  let page: Page;
  const seen: Promise<string[]>[] = [];

  beforeAll(async () => {
    registry = await startLocalProcess(settingsEnv(SETTINGS));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // Every answer the page fetches is held to the API document, as the other tests' answers are.
    page.on('response', (response) => {
      seen.push(
        (async () =>
          responseProblems({
            method: response.request().method(),
            path: new URL(response.url()).pathname,
            status: response.status(),
            contentType: response.headers()['content-type'] ?? null,
            body: await response.text(),
          }))(),
      );
    });
  });

  afterEach(async () => {
    const checked = await Promise.all(seen.splice(0));
    expect(checked.length).toBeGreaterThan(1);
    expect(checked.flat()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    registry?.kill();
  });

  const row = (taskId: string) => page.locator(`tr[data-endpoint-id*="/${taskId}/"]`);

  it('shows every endpoint served, then one excluded with its reason and last error once it dies', async () => {
    // Prepare
    const alive = await standIns.start({
      models: { resnet: { available: ['1', '2'], labels: { stable: '2' } } },
    });
    const dying = await standIns.start({ models: { resnet: { available: ['2'] } } });
    for (const [standIn, taskId] of [
      [alive, 'page-alive'],
      [dying, 'page-dying'],
    ] as const) {
      expect((await registry.post(runningWithLabel(standIn.host, taskId))).status).toBe(202);
    }
    await page.goto(`${registry.url}/?refreshMs=${REFRESH_MS}`);
    await row('page-dying').and(page.locator('[data-state="served"]')).waitFor({ timeout: 5_000 });

    // Act
    await dying.die();

    // Assess
    const excluded = row('page-dying').and(page.locator('[data-state="excluded"]'));
    await excluded.waitFor({ timeout: EXCLUSION_DEADLINE_MS });
    expect(await excluded.getAttribute('data-reason')).toMatch(/^(failing|stale)$/);
    expect(await excluded.textContent()).toContain('excluded:');
    expect(await excluded.locator('td.status .error').textContent()).not.toBe('');
    expect(await row('page-alive').getAttribute('data-state')).toBe('served');
    expect(await row('page-alive').textContent()).toContain('stable → 2');
    expect(await page.locator('section[data-model="resnet"] h2').textContent()).toContain(
      '1 of 2 endpoints served',
    );
  });

  it('shows a drained endpoint as not running, with its ECS lifecycle', async () => {
    // Prepare
    const draining = await standIns.start({ models: { resnet: { available: ['2'] } } });
    expect((await registry.post(loopbackEvent('running-awsvpc', draining.host, 'page-drains'))).status).toBe(
      202,
    );
    await row('page-drains').and(page.locator('[data-state="served"]')).waitFor({ timeout: 5_000 });

    // Act
    expect((await registry.post(loopbackEvent('draining', draining.host, 'page-drains'))).status).toBe(202);

    // Assess
    const excluded = row('page-drains').and(page.locator('[data-reason="not-running"]'));
    await excluded.waitFor({ timeout: 5_000 });
    expect(await excluded.textContent()).toContain('STOPPING');
  });
});
