import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../tools/dynamodb-engines.ts';
import { assertDocumented } from './kit/openapi.ts';
import { within } from './kit/poll.ts';

/** `npm start` in a process group of its own, as a user runs it, with its output kept. */
export interface LocalProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** POSTs one event or an array to `/events`; the status and the parsed body. */
  post(events: unknown): Promise<{ status: number; body: Record<string, unknown>; ms: number }>;
  /** Kills the whole process group (npm, tsx, node) at once. */
  kill(): void;
}

/** Spawns `npm start` with `env` on top of this process's environment, without waiting. */
export function spawnLocalProcess(env: Record<string, string>): Omit<LocalProcess, 'url' | 'post'> {
  const child = spawn('npm', ['start', '--silent'], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    output: () => output,
    kill() {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Starts `npm start` on a free port and resolves once its banner says it is running. */
export async function startLocalProcess(
  env: Record<string, string> = {},
  startTimeoutMs = 30_000,
): Promise<LocalProcess> {
  const port = env.PORT ?? String(await freePort());
  const url = `http://127.0.0.1:${port}`;
  const started = spawnLocalProcess({ ...env, PORT: port });
  try {
    await within(
      startTimeoutMs,
      async () => {
        if (started.child.exitCode !== null) throw new Error(`npm start exited: ${started.output()}`);
        return started.output().includes(`running at ${url}`);
      },
      'the start banner',
      50,
    );
  } catch (error) {
    started.kill();
    throw error;
  }
  return {
    ...started,
    url,
    async post(events) {
      const t0 = performance.now();
      const response = await fetch(`${url}/events`, { method: 'POST', body: JSON.stringify(events) });
      const text = await response.text();
      const ms = performance.now() - t0;
      // Checked against the API document after the clock stops: validation is not the registry's time.
      assertDocumented({
        method: 'POST',
        path: '/events',
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: text,
      });
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, ms };
    },
  };
}

/** Settings as strings, as the environment carries them. */
export function settingsEnv(settings: Readonly<Record<string, string | number>>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, String(value)]));
}
