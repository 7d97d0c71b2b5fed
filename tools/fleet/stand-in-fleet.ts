import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Misbehaviour, ModelSeed } from '../tfserving-stand-in/stand-in.ts';

/** Many TF Serving stand-ins in a child process (see `stand-in-fleet-child.ts`). */
export class StandInFleet {
  private constructor(
    private readonly child: ChildProcess,
    readonly hosts: readonly string[],
    readonly startMs: number,
  ) {}

  static async start(
    hosts: readonly string[],
    models: Readonly<Record<string, ModelSeed>>,
  ): Promise<StandInFleet> {
    const script = fileURLToPath(new URL('./stand-in-fleet-child.ts', import.meta.url));
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const kill = () => child.exitCode === null && child.kill('SIGKILL');
    process.once('exit', kill);
    try {
      const startMs = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('stand-in fleet did not start within 60 s')), 60_000);
        child.once('exit', (code) => reject(new Error(`stand-in fleet exited with code ${code}`)));
        child.on('message', (message: { type: string; ms?: number; message?: string }) => {
          if (message.type === 'ready') child.send({ type: 'start', hosts, models });
          else if (message.type === 'started') {
            clearTimeout(timer);
            resolve(message.ms ?? 0);
          } else if (message.type === 'error') {
            clearTimeout(timer);
            reject(new Error(`stand-in fleet: ${message.message}`));
          }
        });
      });
      return new StandInFleet(child, hosts, startMs);
    } catch (error) {
      kill();
      throw error;
    }
  }

  /** Sets how the stand-ins of `hosts` answer (`'hang'`: accept, never answer; `'none'`: as TF Serving). */
  misbehave(hosts: readonly string[], mode: Misbehaviour): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== 'misbehaving') return;
        this.child.off('message', onMessage);
        resolve();
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'misbehave', hosts, mode }, (error) => error && reject(error));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.send({ type: 'close' });
    });
  }
}
