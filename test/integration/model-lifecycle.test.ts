// TF Serving model states seen through the registry: the local runtime (in this process) probing
// stand-ins on 127.0.13.x:8501 that a test drives through their control endpoint, POST /_stand-in,
// as the README's "Trying the model lifecycle with the stand-in" does with curl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { type InProcessRegistry, startInProcessRegistry } from '../support/in-process-registry.ts';
import { loopbackEvent } from '../support/kit/events.ts';
import { within } from '../support/kit/poll.ts';
import { nextProbeMs, QUICK_SETTINGS } from '../support/kit/settings.ts';
import { standInsOn } from '../support/kit/stand-ins.ts';

const SETTINGS = QUICK_SETTINGS;
// A state change is seen at the next probe.
const NEXT_PROBE_MS = nextProbeMs();
const standIns = standInsOn(13, { port: 8501, control: true });

describe('model lifecycle through the registry', () => {
  let registry: InProcessRegistry;

  beforeAll(async () => {
    registry = await startInProcessRegistry(SETTINGS);
  });

  afterAll(async () => {
    await registry?.close();
  });

  /** Registers a stand-in as a RUNNING awsvpc task of its own, serving `resnet`. */
  async function register(standIn: TfServingStandIn, taskId: string): Promise<void> {
    const accepted = await registry.post(loopbackEvent('running-awsvpc', standIn.host, taskId));
    expect(accepted.status).toBe(202);
  }

  /** What a user's curl does: one command to the stand-in's control endpoint. */
  async function tell(standIn: TfServingStandIn, command: string): Promise<void> {
    const response = await fetch(`${standIn.url}/_stand-in`, { method: 'POST', body: command });
    expect(response.status).toBe(200);
  }

  /** Resolves once the registry has probed the stand-in's status again (after the caller's change). */
  async function probedAgain(standIn: TfServingStandIn): Promise<void> {
    standIn.clearRequests();
    await within(NEXT_PROBE_MS, () => standIn.requests.paths.includes('/v1/models/resnet'), 'a new probe');
  }

  const served = async (path: string, standIn: TfServingStandIn) => {
    const hosts = await registry.hosts(path);
    return Array.isArray(hosts) && hosts.includes(standIn.host);
  };

  it('excludes an endpoint while its only version is LOADING and serves it once AVAILABLE', async () => {
    // Prepare
    const standIn = await standIns.start({ models: { resnet: { loading: ['1'] } } });
    await register(standIn, 'loading');
    await probedAgain(standIn);

    // Act
    const whileLoading = await registry.get('/models/resnet');
    await tell(standIn, 'available resnet 1');

    // Assess: the model is known (200) but nothing of this task is served until AVAILABLE.
    expect(whileLoading.status).toBe(200);
    expect(whileLoading.body.endpoints?.map((e) => e.host)).not.toContain(standIn.host);
    await within(NEXT_PROBE_MS, () => served('/models/resnet/versions/1', standIn), 'served once AVAILABLE');
  });

  it('keeps serving the old version while a new one loads, and serves the new one once AVAILABLE', async () => {
    // Prepare
    const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });
    await register(standIn, 'rollout');
    await within(NEXT_PROBE_MS, () => served('/models/resnet', standIn), 'served');

    // Act
    await tell(standIn, 'load resnet 2');
    await probedAgain(standIn);
    const old = await registry.get('/models/resnet');
    const newWhileLoading = await registry.get('/models/resnet/versions/2');
    const hostsOf = (answer: typeof old) => answer.body.endpoints?.map((e) => e.host);
    await tell(standIn, 'available resnet 2');

    // Assess
    expect(old.body.endpoints?.find((e) => e.host === standIn.host)?.versions).toEqual(['1']);
    expect(newWhileLoading.status).toBe(200);
    expect(hostsOf(newWhileLoading)).not.toContain(standIn.host);
    await within(NEXT_PROBE_MS, () => served('/models/resnet/versions/2', standIn), 'the new version served');
    await tell(standIn, 'unload resnet 1');
    await within(
      NEXT_PROBE_MS,
      async () => !(await served('/models/resnet/versions/1', standIn)),
      'the old one gone',
    );
    expect(await served('/models/resnet', standIn)).toBe(true);
  });

  it('never serves a version that failed to load, and goes on serving the one that is AVAILABLE', async () => {
    // Prepare
    const standIn = await standIns.start({ models: { resnet: { available: ['1'] } } });
    await register(standIn, 'failed-new');
    await within(NEXT_PROBE_MS, () => served('/models/resnet', standIn), 'served');

    // Act
    await tell(standIn, 'fail resnet 2');
    await probedAgain(standIn);
    const failed = await registry.get('/models/resnet/versions/2');
    const model = await registry.get('/models/resnet');

    // Assess
    expect(failed.status).toBe(200);
    expect(failed.body.endpoints?.map((e) => e.host)).not.toContain(standIn.host);
    expect(model.body.endpoints?.find((e) => e.host === standIn.host)?.versions).toEqual(['1']);
  });

  it('excludes an endpoint whose only version failed to load', async () => {
    // Prepare
    const standIn = await standIns.start({ models: { resnet: { loading: ['1'] } } });
    await register(standIn, 'failed-only');

    // Act
    await tell(standIn, 'fail resnet 1 INTERNAL "the GPU went away"');
    await probedAgain(standIn);

    // Assess
    expect(await served('/models/resnet', standIn)).toBe(false);
    expect(await served('/models/resnet/versions/1', standIn)).toBe(false);
  });
});
