import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/dynamodb-engines.ts';
import { within } from '../support/kit/poll.ts';
import { DEFAULT_SETTINGS } from '../support/kit/settings.ts';

/**
 * The README's walk-through, run as written: its shell blocks in order (`npm start`, the stand-in,
 * the curl commands with the example files), each answer held to the comment under its command
 * (`…` matches anything), and the steps its prose asks for (Ctrl+C to the stand-in, start it
 * again, `kill` to the registry) done as a terminal and a supervisor do them. One thing differs
 * on purpose: the walk-through's address (127.0.0.2) and port (3000) are swapped for ones of this
 * file's own, in the commands, the example files and the answers alike, so that `npm test` never
 * meets a walk-through the user is running.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README_HOST = '127.0.0.2';
const README_REGISTRY = 'localhost:3000';
const HOST = '127.0.20.2';

const execShell = promisify(execFile);

interface Step {
  readonly command: string;
  /** The comment lines under the command, joined: the answer it prints. */
  readonly answer: string | undefined;
}

/** The walk-through section's shell blocks, each as its commands and their answers. */
function walkThroughBlocks(readme: string): Step[][] {
  const section = readme.slice(
    readme.indexOf('## Walk-through'),
    readme.indexOf('\n### ', readme.indexOf('## Walk-through')),
  );
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map(([, body = '']) => {
    const steps: { command: string; answer: string[] }[] = [];
    for (const line of body.split('\n')) {
      if (line.trim() === '') continue;
      if (line.startsWith('#')) steps.at(-1)?.answer.push(line.replace(/^#\s*/, ''));
      else steps.push({ command: line, answer: [] });
    }
    return steps.map(({ command, answer }) => ({
      command,
      answer: answer.length > 0 ? answer.join('') : undefined,
    }));
  });
}

/** Whether `output` is what `answer` shows, `…` standing for anything. */
function answers(output: string, answer: string): boolean {
  const pattern = answer
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${pattern}$`).test(output.trim());
}

describe('walkThroughBlocks and answers', () => {
  it('read a command, its answer over several comment lines, and match with … as a wildcard', () => {
    // Prepare
    const readme = [
      '## Walk-through',
      '```bash',
      'curl -s localhost:3000/models',
      '# {"models":[{"name":"resnet",',
      '#   "versions":["2"]}],…}',
      'curl -s localhost:3000/x',
      '```',
      '### next',
    ].join('\n');

    // Act
    const [block] = walkThroughBlocks(readme);

    // Assess
    expect(block).toEqual([
      {
        command: 'curl -s localhost:3000/models',
        answer: '{"models":[{"name":"resnet","versions":["2"]}],…}',
      },
      { command: 'curl -s localhost:3000/x', answer: undefined },
    ]);
    expect(
      answers('{"models":[{"name":"resnet","versions":["2"]}],"stale":false}', block?.[0]?.answer ?? ''),
    ).toBe(true);
    expect(
      answers('{"models":[{"name":"bert","versions":["2"]}],"stale":false}', block?.[0]?.answer ?? ''),
    ).toBe(false);
  });
});

/** A command started as a terminal starts it: a process group of its own, output kept. */
interface Terminal {
  readonly child: ChildProcess;
  output(): string;
}

describe('the README walk-through', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const blocks = walkThroughBlocks(readme);
  const terminals: Terminal[] = [];
  let port: number;
  let workDir: string;
  /** The README's text with this file's address and port. */
  const local = (text: string) =>
    text.replaceAll(README_REGISTRY, `127.0.0.1:${port}`).replaceAll(README_HOST, HOST);

  const open = (command: string, env: Record<string, string> = {}): Terminal => {
    // `exec`: the command is the process a terminal's job would be; its own group, as a job is.
    const child = spawn('bash', ['-c', `exec ${local(command)}`], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const terminal = { child, output: () => output };
    terminals.push(terminal);
    return terminal;
  };
  /** Runs one command of terminal 3 (in a copy of the repository's examples, localized). */
  const run = async (command: string) =>
    (await execShell('bash', ['-c', local(command)], { cwd: workDir })).stdout;
  const runAll = async (steps: readonly Step[]) => {
    for (const step of steps) {
      const output = await run(step.command);
      if (step.answer !== undefined)
        expect(output, step.command).toSatisfy((o: string) => answers(o, local(step.answer ?? '')));
    }
  };
  /** Polls `step` until it prints its answer. */
  const eventually = (step: Step, deadlineMs: number) =>
    within(
      deadlineMs,
      async () => answers(await run(step.command), local(step.answer ?? '')),
      step.command,
      250,
    );
  const refuses = (host: string, at: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(at, host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
  const groupGone = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  const startStandIn = async () => {
    const standIn = open(blocks[1]?.[0]?.command ?? '');
    await within(30_000, () => standIn.output().includes('listening on'), 'the stand-in', 50);
    return standIn;
  };

  beforeAll(async () => {
    port = await freePort();
    workDir = mkdtempSync(join(tmpdir(), 'walk-through-'));
    cpSync(join(ROOT, 'examples'), join(workDir, 'examples'), { recursive: true });
    for (const file of readdirSync(join(workDir, 'examples/events'))) {
      const path = join(workDir, 'examples/events', file);
      writeFileSync(path, local(readFileSync(path, 'utf8')));
    }
  });

  afterAll(() => {
    for (const { child } of terminals) {
      if (child.pid !== undefined && !groupGone(child.pid)) process.kill(-child.pid, 'SIGKILL');
    }
    rmSync(workDir, { recursive: true, force: true });
  });

  it('has the blocks the walk-through is made of', () => {
    // Assess: the registry, the stand-in, the queries, after the stop, after the restart, the drain
    expect(blocks.map((steps) => steps.length)).toEqual([1, 1, 5, 1, 1, 3]);
    expect(blocks[0]?.[0]?.command).toBe('npm start');
    expect(blocks[1]?.[0]?.command).toMatch(/^npm run stand-in -- --host 127\.0\.0\.2 /);
    expect(
      blocks
        .slice(2)
        .flat()
        .every((step) => step.answer !== undefined),
    ).toBe(true);
  });

  it('answers as the README says, from the first event to the drain, and stops on a kill', async () => {
    // Terminal 1
    const registry = open(blocks[0]?.[0]?.command ?? '', { PORT: String(port) });
    await within(
      60_000,
      () => registry.output().includes(`running at http://127.0.0.1:${port}`),
      'the banner',
      50,
    );
    // Terminal 2
    const standIn = await startStandIn();
    // Terminal 3: the event, then every query
    await runAll(blocks[2] ?? []);

    // Ctrl+C in terminal 2: the stand-in's job gets SIGINT, and it exits.
    process.kill(-(standIn.child.pid ?? 0), 'SIGINT');
    await once(standIn.child, 'exit');
    expect(await refuses(HOST, 8501)).toBe(true);
    const { failureThreshold, probeIntervalSeconds, probeTimeoutMs } = DEFAULT_SETTINGS;
    const excludedMs = failureThreshold * probeIntervalSeconds * 1000 + probeTimeoutMs;
    // Twice what the README promises: a shared CI machine is slower, never faster.
    await eventually((blocks[3] ?? [])[0] as Step, 2 * excludedMs);

    // The same command again in terminal 2: back at the next probe.
    await startStandIn();
    await eventually((blocks[4] ?? [])[0] as Step, 2 * probeIntervalSeconds * 1000);

    // The drain, the 404, and the late RUNNING event that changes nothing.
    await runAll(blocks[5] ?? []);

    // `kill <pid>` (SIGTERM to that process alone, as a supervisor sends it): everything exits.
    const exited = once(registry.child, 'exit');
    process.kill(registry.child.pid ?? 0, 'SIGTERM');
    await exited;
    await within(10_000, () => groupGone(registry.child.pid ?? 0), 'every process of npm start to exit', 50);
    expect(await refuses('127.0.0.1', port)).toBe(true);
    expect(registry.output()).toContain('SIGTERM, shutting down');
  });
});
