/**
 * The README's status page screenshot (`docs/images/status-page.png`): local mode in this process,
 * TF Serving stand-ins on loopback addresses in every state the page shows (served, failing after
 * a death, never probed OK, draining), and headless Debian Chromium (`/usr/bin/chromium`).
 * `npx tsx tools/docs/status-page-screenshot.ts [out.png]`.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// Before the registry's modules read them: no logs, no metrics.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { isLoopback } = await import('../../functions/adapters/tfserving/tfserving-client.ts');
const { loadConfig } = await import('../../functions/domain/settings.ts');
const { startLocalRegistry } = await import('../../infra/local/local-registry.ts');
const { TfServingStandIn } = await import('../tfserving-stand-in/stand-in.ts');

const OUT = process.argv[2] ?? fileURLToPath(new URL('../../docs/images/status-page.png', import.meta.url));
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/ml';

/** An ECS task state change for one TF Serving container on `host`, as EventBridge delivers it. */
function taskEvent(
  taskId: string,
  host: string,
  env: Record<string, string>,
  lastStatus = 'RUNNING',
  desired = 'RUNNING',
  version = 3,
) {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:ecs:us-east-1:123456789012:task/ml/${taskId}`],
    detail: {
      taskArn: `arn:aws:ecs:us-east-1:123456789012:task/ml/${taskId}`,
      clusterArn: CLUSTER,
      version,
      lastStatus,
      desiredStatus: desired,
      availabilityZone: host.endsWith('.1') || host.endsWith('.3') ? 'us-east-1a' : 'us-east-1b',
      launchType: 'FARGATE',
      containers: [
        {
          name: 'tfserving',
          image: 'tensorflow/serving:2.18.0',
          lastStatus,
          networkInterfaces: [{ privateIpv4Address: host }],
        },
      ],
      overrides: {
        containerOverrides: [
          { name: 'tfserving', environment: Object.entries(env).map(([name, value]) => ({ name, value })) },
        ],
      },
    },
  };
}

const registry = await startLocalRegistry({
  config: loadConfig({ PROBE_INTERVAL_SECONDS: '1', PROBE_TIMEOUT_MS: '300', UNHEALTHY_AFTER_SECONDS: '3' }),
  port: 0,
  isAllowedProbeHost: isLoopback,
});
const stands = await Promise.all([
  TfServingStandIn.start({
    host: '127.0.42.1',
    models: { resnet: { available: ['1', '2'], labels: { stable: '2' } } },
  }),
  TfServingStandIn.start({
    host: '127.0.42.2',
    models: { resnet: { available: ['2'], labels: { stable: '2' } } },
  }),
  TfServingStandIn.start({
    host: '127.0.42.3',
    models: { resnet: { available: ['1'], labels: { stable: '1' } } },
  }),
  TfServingStandIn.start({ host: '127.0.42.4', models: { bert: { available: ['7'] } } }),
  // A task whose TF Serving does not serve the model it declares: never probed OK.
  TfServingStandIn.start({ host: '127.0.42.5', models: {} }),
]);
const post = (events: unknown[]) =>
  fetch(`${registry.url}/events`, { method: 'POST', body: JSON.stringify(events) }).then((r) => r.status);
const resnet = { MODEL_NAME: 'resnet', TFSERVING_LABELS: 'stable' };
await post([
  taskEvent('3f1c0d2a9b8e4f7a', '127.0.42.1', resnet),
  taskEvent('8a7b6c5d4e3f2a1b', '127.0.42.2', resnet),
  taskEvent('c0ffee00aa11bb22', '127.0.42.3', resnet),
  taskEvent('5e6f7a8b9c0d1e2f', '127.0.42.4', { MODEL_NAME: 'bert' }),
  taskEvent('9d8c7b6a5f4e3d2c', '127.0.42.5', { MODEL_NAME: 'bert' }),
]);
await stands[1]?.die();
await post([taskEvent('c0ffee00aa11bb22', '127.0.42.3', resnet, 'RUNNING', 'STOPPED', 4)]);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 560 }, deviceScaleFactor: 1 });
  await page.goto(`${registry.url}/?refreshMs=500`);
  await page
    .locator('tr[data-endpoint-id*="8a7b6c5d4e3f2a1b"][data-reason="failing"]')
    .waitFor({ timeout: 15_000 });
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await Promise.all(stands.map((s) => s.close()));
  await registry.close();
}
