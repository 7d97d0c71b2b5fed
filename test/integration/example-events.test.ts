// The example events the README tells users to post (examples/events/*.json), posted as they are,
// in the README's order, to the local runtime: each one accepted and applied, with an address.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { type InProcessRegistry, startInProcessRegistry } from '../support/in-process-registry.ts';
import { within } from '../support/kit/poll.ts';
import { nextProbeMs, QUICK_SETTINGS } from '../support/kit/settings.ts';

const ROOT = new URL('../../', import.meta.url);
const README = readFileSync(new URL('README.md', ROOT), 'utf8');
/** Every `examples/events/<name>.json` the README names, in the order it first names them. */
const MENTIONED = [
  ...new Set([...README.matchAll(/examples\/events\/([\w-]+\.json)/g)].map((m) => m[1] as string)),
];
const example = (file: string) => readFileSync(new URL(`examples/events/${file}`, ROOT), 'utf8');

const SETTINGS = QUICK_SETTINGS;
// Served at the event's own probe, or the next one.
const SERVED_MS = nextProbeMs();

interface Outcome {
  status: string;
  lifecycle: string;
  endpoints: { host: string | null; restPort: number | null; grpcPort: number | null; models: string[] }[];
  unregistered?: { container: string; reason: string }[];
}

describe('the README example events', () => {
  let registry: InProcessRegistry;
  const stands: TfServingStandIn[] = [];

  beforeAll(async () => {
    registry = await startInProcessRegistry(SETTINGS);
  });

  afterAll(async () => {
    await Promise.all(stands.map((standIn) => standIn.close()));
    await registry?.close();
  });

  it('names the walk-through and the bridge-mode examples, and every file it names exists', () => {
    // Assess
    expect(MENTIONED).toEqual(
      expect.arrayContaining([
        'running.json',
        'draining.json',
        'running-lifecycle.json',
        'running-bridge.json',
        'stopped-bridge.json',
      ]),
    );
    expect(MENTIONED.filter((file) => !existsSync(new URL(`examples/events/${file}`, ROOT)))).toEqual([]);
  });

  it('accepts and applies each of them, posted as it is, every endpoint with an address', async () => {
    // Act
    const answers = [];
    for (const file of MENTIONED) {
      const response = await fetch(`${registry.url}/events`, { method: 'POST', body: example(file) });
      const body = (await response.json()) as { accepted: number; ignored: number; results: Outcome[] };
      answers.push({ file, status: response.status, body });
    }

    // Assess
    for (const { file, status, body } of answers) {
      expect({ file, status, accepted: body.accepted, ignored: body.ignored }).toEqual({
        file,
        status: 202,
        accepted: 1,
        ignored: 0,
      });
      expect(body.results, file).toEqual([expect.objectContaining({ status: 'applied' })]);
      expect(body.results[0]?.unregistered, file).toBeUndefined();
      for (const endpoint of body.results[0]?.endpoints ?? []) {
        expect(endpoint, file).toMatchObject({ host: expect.any(String), restPort: expect.any(Number) });
      }
    }
    const bridge = answers.find((answer) => answer.file === 'running-bridge.json');
    expect(bridge?.body.results[0]?.endpoints).toEqual([
      expect.objectContaining({
        host: '127.0.0.1',
        restPort: 8501,
        grpcPort: 8500,
        models: ['half_plus_two'],
      }),
    ]);
  });

  it('serves the bridge-mode example on this machine at its host port', async () => {
    // Prepare: the example on a task of its own (a stopped task's ARN is final), its REST port
    // bound to a free port of 127.0.0.1 where a stand-in serves half_plus_two.
    const standIn = await TfServingStandIn.start({
      host: '127.0.0.1',
      port: 0,
      models: { half_plus_two: { available: ['123'] } },
    });
    stands.push(standIn);
    const event = JSON.parse(
      example('running-bridge.json').replaceAll('b41d6e8a0c2f4a6b8d0e2f4a6c8e0b2d', 'bridge-served'),
    ) as { detail: { containers: { networkBindings: { containerPort: number; hostPort: number }[] }[] } };
    for (const binding of event.detail.containers[0]?.networkBindings ?? []) {
      if (binding.containerPort === 8501) binding.hostPort = standIn.port;
    }

    // Act
    const accepted = await registry.post(event);

    // Assess
    expect(accepted.status).toBe(202);
    await within(SERVED_MS, async () => {
      const { body } = await registry.get('/models/half_plus_two/versions/123');
      return (body.endpoints ?? []).some((e) => e.host === '127.0.0.1' && e.restPort === standIn.port);
    });
  });
});
