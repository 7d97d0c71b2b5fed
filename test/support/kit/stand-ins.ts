import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { type StandInOptions, TfServingStandIn } from '../../../tools/tfserving-stand-in/stand-in.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../../tools/tfserving-stand-in/cli.ts', import.meta.url));

/** A stand-in's command line, run as `npm run stand-in` runs it, with its output kept. */
export interface StandInProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

/**
 * A test file's TF Serving stand-ins (`tools/tfserving-stand-in`), each on an address of its own in
 * `127.0.<octet>.x` (files use different octets, so they never clash), started with `defaults`
 * and closed after each test, with every command line the test ran.
 */
export function standInsOn(octet: number, defaults: Omit<StandInOptions, 'host'> = {}) {
  let lastHost = 0;
  const started: TfServingStandIn[] = [];
  const children: ChildProcess[] = [];

  afterEach(async () => {
    await Promise.all(
      children.splice(0).map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        }
      }),
    );
    await Promise.all(started.splice(0).map((standIn) => standIn.close()));
  });

  const nextHost = (): string => {
    lastHost += 1;
    if (lastHost > 254) throw new Error(`This file ran out of 127.0.${octet}.x addresses`);
    return `127.0.${octet}.${lastHost}`;
  };

  return {
    /** A fresh address of this file's range. */
    nextHost,
    /** Starts a stand-in on a fresh address. */
    async start(options: Omit<StandInOptions, 'host'> = {}): Promise<TfServingStandIn> {
      return this.keep(await TfServingStandIn.start({ host: nextHost(), ...defaults, ...options }));
    },
    /** Closes a stand-in the test started itself after the test, with the others. */
    keep(standIn: TfServingStandIn): TfServingStandIn {
      started.push(standIn);
      return standIn;
    },
    /** Runs the stand-in's command line with `args`; killed after the test if still running. */
    run(args: readonly string[]): StandInProcess {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      return { child, stdout: () => stdout, stderr: () => stderr };
    },
  };
}
