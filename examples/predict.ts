/**
 * Calling TF Serving's REST predict API through the registry: each request picks an endpoint
 * (round-robin), reports how it went (passive ejection), and retries a failed call on another one.
 *
 *   npm start                                              # terminal 1: the registry
 *   npx tsx examples/predict.ts --setup                    # terminal 2: three stand-ins, one dies mid-run
 *   npx tsx examples/predict.ts --registry http://127.0.0.1:3000 --requests 10   # a plain consumer
 *
 * `--setup` starts three TF Serving stand-ins serving half_plus_two (127.0.0.11–13, or `--hosts`),
 * registers them by posting ECS RUNNING events (examples/events/running.json, moved to each host)
 * to the registry's local-mode `/events`, and stops the second one after a third of the requests.
 * The last line printed is a JSON summary; the exit code is 0 when every prediction was right.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RegistryClient, type ResolvedEndpoint } from 'tf-serving-registry-client';
import { TfServingStandIn } from '../tools/tfserving-stand-in/stand-in.ts';

const MODEL = 'half_plus_two';
const INSTANCES = [1.0, 2.0, 5.0];
const EXPECTED = [2.5, 3.0, 4.5];

const { values } = parseArgs({
  options: {
    registry: { type: 'string', default: 'http://127.0.0.1:3000' },
    requests: { type: 'string', default: '30' },
    setup: { type: 'boolean', default: false },
    hosts: { type: 'string', default: '127.0.0.11,127.0.0.12,127.0.0.13' },
    'kill-after': { type: 'string' },
  },
});
const requests = Number(values.requests);
const killAfter = Number(values['kill-after'] ?? Math.floor(requests / 3));

class PredictError extends Error {}

/** One prediction: up to three endpoints, each failure reported so later picks skip that endpoint. */
async function predict(
  registry: RegistryClient,
  instances: number[],
): Promise<{ via: string[]; predictions: number[] }> {
  const via: string[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const endpoint: ResolvedEndpoint = await registry.pick(MODEL);
    via.push(endpoint.host);
    try {
      const response = await fetch(`${endpoint.restUrl}/v1/models/${MODEL}:predict`, {
        method: 'POST',
        body: JSON.stringify({ instances }),
        signal: AbortSignal.timeout(1000),
      });
      const body = (await response.json()) as { predictions?: number[]; error?: string };
      if (response.status >= 500) throw new Error(`${response.status} ${body.error ?? ''}`);
      if (!response.ok || body.predictions === undefined) {
        // Our request was wrong (4xx): says nothing about the endpoint's health.
        registry.end(endpoint);
        throw new PredictError(`${response.status}: ${body.error ?? 'no predictions'}`);
      }
      registry.reportSuccess(endpoint);
      return { via, predictions: body.predictions };
    } catch (error) {
      if (error instanceof PredictError || attempt === 3) throw error;
      // Refused, reset, timed out or 5xx: eject it from this client's picks and try another.
      registry.reportFailure(endpoint);
      console.log(
        `  ${endpoint.host} failed (${(error as Error).cause ?? (error as Error).message}): ejected`,
      );
    }
  }
}

/** Three stand-ins registered through the registry's `/events` (local mode). */
async function setUp(registryUrl: string, hosts: string[]): Promise<TfServingStandIn[]> {
  const template = readFileSync(new URL('./events/running.json', import.meta.url), 'utf8');
  const standIns = await Promise.all(
    hosts.map((host) => TfServingStandIn.start({ host, models: { [MODEL]: { available: ['1'] } } })),
  );
  const events = hosts.map((host, i) =>
    JSON.parse(
      template
        .replaceAll('127.0.0.2', host)
        .replaceAll('0123456789abcdef0123456789abcdef', `${'0'.repeat(30)}${String(i + 11).padStart(2, '0')}`)
        .replaceAll('"value": "resnet"', `"value": "${MODEL}"`),
    ),
  );
  const response = await fetch(`${registryUrl.replace(/\/$/, '')}/events`, {
    method: 'POST',
    body: JSON.stringify(events),
  });
  if (response.status !== 202)
    throw new Error(`POST /events answered ${response.status}: ${await response.text()}`);
  return standIns;
}

async function main(): Promise<number> {
  const hosts = values.hosts.split(',');
  const standIns = values.setup ? await setUp(values.registry, hosts) : [];
  const registry = new RegistryClient({ url: values.registry, auth: 'none' });
  const perHost: Record<string, number> = {};
  let wrong = 0;
  let retried = 0;
  try {
    for (let i = 1; i <= requests; i += 1) {
      if (values.setup && i === killAfter + 1) {
        console.log(`-- stopping the TF Serving at ${hosts[1]} (the registry is not told) --`);
        await standIns[1]?.die();
      }
      const { via, predictions } = await predict(registry, INSTANCES);
      const served = via.at(-1) as string;
      perHost[served] = (perHost[served] ?? 0) + 1;
      if (via.length > 1) retried += 1;
      if (JSON.stringify(predictions) !== JSON.stringify(EXPECTED)) wrong += 1;
      console.log(`#${i} ${served} -> ${JSON.stringify(predictions)}`);
    }
  } finally {
    registry.close();
    await Promise.all(standIns.map((standIn) => standIn.close()));
  }
  console.log(JSON.stringify({ requests, perHost, retried, wrong }));
  return wrong === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`predict: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
