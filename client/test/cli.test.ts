// The packed operator CLI (`tf-serving-registry`, the package's `bin`) as an operator runs it: against
// the real `npm start` with TF Serving stand-ins on 127.0.92.x, and against the verifying SigV4
// discovery API (support/sigv4-verifier.ts) on 127.0.92.250.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { within } from '../../test/support/kit/poll.ts';
import { freePort } from '../../tools/dynamodb-engines.ts';
import { TfServingStandIn } from '../../tools/tfserving-stand-in/stand-in.ts';
import { EXCLUSION_MS, LocalRegistry, taskEvent } from './support/local-registry.ts';
import { SigningRegistry } from './support/sigv4-verifier.ts';

const execFileAsync = promisify(execFile);
const INSTALLED = join(inject('packedClient').consumer, 'node_modules', 'tf-serving-registry-client');
const KEY = { accessKeyId: 'AKIDTFSRCLI', secretAccessKey: 'tfsr/cli/secret/0123456789abcdefghij' };
/** Deadlines doubled for a shared 2-core machine, as in the repository's other runtime tests. */
const SLACK = 2;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the installed bin with `args` (and `env` over a clean environment, no AWS settings). */
async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const manifest = JSON.parse(readFileSync(join(INSTALLED, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  const bin = join(INSTALLED, manifest.bin['tf-serving-registry'] as string);
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the tf-serving-registry CLI against npm start', () => {
  let registry: LocalRegistry;
  const standIns: TfServingStandIn[] = [];

  beforeAll(async () => {
    registry = new LocalRegistry(await freePort());
    await registry.start();
    for (const n of [1, 2]) {
      const host = `127.0.92.${n}`;
      standIns.push(await TfServingStandIn.start({ host, models: { cli: { available: ['1', '2'] } } }));
      await registry.post(taskEvent('running', host, `cli${n}`.padEnd(32, '0'), 'cli'));
    }
    await within(5_000, async () =>
      (await cli(['endpoints', 'cli', '--url', registry.url])).stdout.includes('127.0.92.2'),
    );
  });

  afterAll(async () => {
    await registry.kill();
    await Promise.all(standIns.map((s) => s.close()));
  });

  it('lists the models as a table, the default URL taken from TF_SERVING_REGISTRY_URL', async () => {
    // Act
    const run = await cli(['models'], { TF_SERVING_REGISTRY_URL: registry.url });

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^MODEL\s+ENDPOINTS\s+VERSIONS$/m);
    expect(run.stdout).toMatch(/^cli\s+2\s+2,1$/m);
  });

  it('prints the raw answer with --json', async () => {
    // Act
    const run = await cli(['endpoints', 'cli', '--version', '1', '--json', '--url', registry.url]);
    const direct = (await (await fetch(`${registry.url}/models/cli/versions/1`)).json()) as {
      endpoints: { id: string }[];
    };

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout) as typeof direct;
    expect(printed.endpoints.map((e) => e.id)).toEqual(direct.endpoints.map((e) => e.id));
    expect(printed).toMatchObject({ model: 'cli', stale: false });
  });

  it('shows every endpoint with health, a dead one excluded with its reason and error', async () => {
    // Prepare
    await standIns[0]?.die();

    // Act
    let run: Run = { code: -1, stdout: '', stderr: '' };
    await within(SLACK * EXCLUSION_MS + 2_000, async () => {
      run = await cli(['health', 'cli', '--url', registry.url]);
      return run.stdout.includes('excluded: failing');
    });

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ENDPOINT\s+ADDRESS\s+ECS\s+STATUS/m);
    expect(run.stdout).toMatch(/127\.0\.92\.1:8501\s+RUNNING\s+excluded: failing\s+.*\S/);
    expect(run.stdout).toMatch(/127\.0\.92\.2:8501\s+RUNNING\s+served\s/);
    expect(run.stdout).toContain('1 of 2 endpoints of cli served');
    await standIns[0]?.revive();
  });

  it.each([
    [['health', 'no-such-model'], 3, /unknown model "no-such-model"/],
    [['endpoints', 'a:b'], 4, /refused .*400 InvalidModelName/],
    [['endpoints', 'cli', '--version', '1.5'], 4, /400 InvalidVersion/],
  ])('exits with a clear error for %j (code %i)', async (args, code, message) => {
    // Act
    const run = await cli([...args, '--url', registry.url]);

    // Assess
    expect(run.code).toBe(code);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });
});

describe('the tf-serving-registry CLI without a registry', () => {
  it('exits 1 and says the registry cannot be reached', async () => {
    // Prepare: a free port nothing listens on.
    const url = `http://127.0.0.1:${await freePort()}`;

    // Act
    const run = await cli(['models', '--url', url]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the registry at ${url}`);
  });

  it.each([
    [[], /no command/],
    [['describe', 'x'], /unknown command "describe"/],
    [['health'], /takes one model name/],
    [['models', '--auth', 'basic'], /--auth must be none or iam/],
    [['health', 'm', '--label', 'stable'], /narrow the endpoints command only/],
    [['models', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with the usage for %j', async (args, message) => {
    // Act
    const run = await cli(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('prints the usage with --help and exits 0', async () => {
    // Act
    const run = await cli(['--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: tf-serving-registry <command> [options]');
  });
});

describe('the tf-serving-registry CLI with --auth iam', () => {
  let server: SigningRegistry;

  beforeAll(async () => {
    server = await SigningRegistry.start('127.0.92.250', { [KEY.accessKeyId]: KEY.secretAccessKey });
  });

  afterAll(async () => {
    await server.close();
  });

  const credentials = (secret: string) => ({
    AWS_ACCESS_KEY_ID: KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
  });

  it('signs its request with the default credential chain (environment) so the verifier accepts it', async () => {
    // Act
    const run = await cli(
      ['endpoints', 'resnet', '--auth', 'iam', '--region', 'us-east-1', '--url', server.url],
      {
        ...credentials(KEY.secretAccessKey),
      },
    );

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('127.0.91.9:8501');
    expect(server.verdicts.at(-1)).toMatchObject({ ok: true, accessKeyId: KEY.accessKeyId });
  });

  it('exits 4 with the 403 when the signature does not match', async () => {
    // Act
    const run = await cli(['endpoints', 'resnet', '--auth', 'iam', '--url', server.url], {
      ...credentials(`${KEY.secretAccessKey}x`),
      AWS_REGION: 'us-east-1',
    });

    // Assess
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/403 .*signature does not match/);
  });

  it('exits 2 when it has no region to sign for', async () => {
    // Act
    const run = await cli(['models', '--auth', 'iam', '--url', server.url], credentials(KEY.secretAccessKey));

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--auth iam needs a region');
  });
});
