import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../tools/dynamodb-engines.ts';
import { spawnLocalProcess, startLocalProcess } from '../support/local-process.ts';

/** A stack trace line, which a start error must not show: the message is the whole answer. */
const STACK_FRAME = /^\s+at /m;

/** Runs `npm start` with `env` until it exits; its exit code and output. */
async function failedStart(env: Record<string, string>): Promise<{ code: number; output: string }> {
  const started = spawnLocalProcess(env);
  try {
    const [code] = (await once(started.child, 'exit')) as [number];
    return { code, output: started.output() };
  } finally {
    started.kill();
  }
}

describe('npm start refuses to start, naming the variable, the value and what to do', () => {
  it.each([
    ['AWS_ENDPOINT_URL_DYNAMODB', 'not-a-url', /expected an http:\/\/ or https:\/\/ URL/],
    ['AWS_ENDPOINT_URL_ECS', 'ecs.local:4566', /expected an http:\/\/ or https:\/\/ URL/],
    ['PORT', '70000', /expected a whole number from 0 to 65535/],
  ])('%s=%s', async (variable, value, allowed) => {
    // Act
    const { code, output } = await failedStart({ [variable]: value });

    // Assess
    expect(code).toBe(2);
    expect(output).toContain(`bad configuration: ${variable}=${JSON.stringify(value)} is invalid`);
    expect(output).toMatch(allowed);
    expect(output).not.toMatch(STACK_FRAME);
  });

  it('an AWS_ENDPOINT_URL_DYNAMODB where nothing answers', async () => {
    // Prepare: a port that was free a moment ago, so connecting is refused.
    const endpoint = `http://127.0.0.1:${await freePort()}`;

    // Act
    const { code, output } = await failedStart({ PORT: '0', AWS_ENDPOINT_URL_DYNAMODB: endpoint });

    // Assess
    expect(code).toBe(2);
    expect(output).toContain(
      `AWS_ENDPOINT_URL_DYNAMODB=${JSON.stringify(endpoint)} is invalid: no DynamoDB answered there`,
    );
    expect(output).toContain('unset AWS_ENDPOINT_URL_DYNAMODB to use the embedded engine');
    expect(output).not.toMatch(STACK_FRAME);
  });

  it('a PORT another process is listening on', async () => {
    // Prepare
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;

    try {
      // Act
      const { code, output } = await failedStart({ PORT: String(port) });

      // Assess
      expect(code).toBe(2);
      expect(output).toContain(`PORT="${port}" is invalid: 127.0.0.1:${port} is already in use`);
      expect(output).toContain('PORT=0 for any free port');
      expect(output).not.toMatch(STACK_FRAME);
    } finally {
      holder.close();
    }
  });
});

describe('npm start with settings that defeat each other', () => {
  it('starts, and warns in its banner naming the settings and what will happen', async () => {
    // Act
    const registry = await startLocalProcess({ UNHEALTHY_AFTER_SECONDS: '1' });
    try {
      // Assess
      expect(registry.output()).toContain(
        'warning           UNHEALTHY_AFTER_SECONDS=1 is not longer than PROBE_INTERVAL_SECONDS=5: healthy endpoints will flap',
      );
      expect((await fetch(`${registry.url}/models`)).status).toBe(200);
    } finally {
      registry.kill();
    }
  });
});
