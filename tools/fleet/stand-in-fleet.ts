import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Misbehaviour, ModelSeed } from '../tfserving-stand-in/stand-in.ts';

/**
 * Stand-ins per child process, at most: each holds a listening socket and one or two accepted
 * connections per stand-in, and a process may have 20,000 open files on a common Linux machine.
 */
const MAX_HOSTS_PER_CHILD = 5000;

export interface FleetMemory {
  /** Each child's resident set now and at its peak (since it started), in bytes. */
  readonly children: readonly { readonly rssBytes: number; readonly peakRssBytes: number }[];
}

/**
 * Many TF Serving stand-ins in child processes (see `stand-in-fleet-child.ts`), as many children
 * as it takes to hold `MAX_HOSTS_PER_CHILD` hosts each (one for the sizes the tests use).
 */
export class StandInFleet {
  private constructor(
    private readonly children: readonly ChildProcess[],
    private readonly childOf: ReadonlyMap<string, ChildProcess>,
    readonly hosts: readonly string[],
    readonly startMs: number,
  ) {}

  static async start(
    hosts: readonly string[],
    models: Readonly<Record<string, ModelSeed>>,
  ): Promise<StandInFleet> {
    const script = fileURLToPath(new URL('./stand-in-fleet-child.ts', import.meta.url));
    const count = Math.max(1, Math.ceil(hosts.length / MAX_HOSTS_PER_CHILD));
    const shares = Array.from({ length: count }, (_, c) =>
      hosts.slice(c * MAX_HOSTS_PER_CHILD, (c + 1) * MAX_HOSTS_PER_CHILD),
    );
    const children = shares.map(() =>
      fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const kill = () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    };
    process.once('exit', kill);
    try {
      const started = await Promise.all(
        children.map(
          (child, c) =>
            new Promise<number>((resolve, reject) => {
              const timer = setTimeout(
                () => reject(new Error('stand-in fleet did not start within 60 s')),
                60_000,
              );
              child.once('exit', (code) => reject(new Error(`stand-in fleet exited with code ${code}`)));
              child.on('message', (message: { type: string; ms?: number; message?: string }) => {
                if (message.type === 'ready') child.send({ type: 'start', hosts: shares[c], models });
                else if (message.type === 'started') {
                  clearTimeout(timer);
                  resolve(message.ms ?? 0);
                } else if (message.type === 'error') {
                  clearTimeout(timer);
                  reject(new Error(`stand-in fleet: ${message.message}`));
                }
              });
            }),
        ),
      );
      const childOf = new Map<string, ChildProcess>();
      shares.forEach((share, c) => {
        for (const host of share) childOf.set(host, children[c] as ChildProcess);
      });
      return new StandInFleet(children, childOf, hosts, Math.max(...started));
    } catch (error) {
      kill();
      throw error;
    }
  }

  /** Sets how the stand-ins of `hosts` answer (`'hang'`: accept, never answer; `'none'`: as TF Serving). */
  async misbehave(hosts: readonly string[], mode: Misbehaviour): Promise<void> {
    await this.each(hosts, (child, share) =>
      this.ask(child, { type: 'misbehave', hosts: share, mode }, 'misbehaving'),
    );
  }

  /** The stand-ins of `hosts` stop listening: connections are refused (a silent death). */
  async die(hosts: readonly string[]): Promise<void> {
    await this.each(hosts, (child, share) => this.ask(child, { type: 'die', hosts: share }, 'die-done'));
  }

  /** The stand-ins of `hosts` listen again, with the same models. */
  async revive(hosts: readonly string[]): Promise<void> {
    await this.each(hosts, (child, share) =>
      this.ask(child, { type: 'revive', hosts: share }, 'revive-done'),
    );
  }

  async memory(): Promise<FleetMemory> {
    const children = await Promise.all(
      this.children.map(
        (child) =>
          this.ask(child, { type: 'memory' }, 'memory') as Promise<{
            rssBytes: number;
            peakRssBytes: number;
          }>,
      ),
    );
    return { children: children.map(({ rssBytes, peakRssBytes }) => ({ rssBytes, peakRssBytes })) };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.send({ type: 'close' });
          }),
      ),
    );
  }

  /** Runs `send` once per child holding some of `hosts`, with its share of them. */
  private async each(
    hosts: readonly string[],
    send: (child: ChildProcess, share: string[]) => Promise<unknown>,
  ): Promise<void> {
    const shares = new Map<ChildProcess, string[]>();
    for (const host of hosts) {
      const child = this.childOf.get(host);
      if (child === undefined) throw new Error(`${host} is not a host of this fleet`);
      shares.set(child, [...(shares.get(child) ?? []), host]);
    }
    await Promise.all([...shares].map(([child, share]) => send(child, share)));
  }

  /** Sends one message and resolves with the child's first answer of type `answer`. */
  private ask(child: ChildProcess, message: object, answer: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: { type: string; message?: string }) => {
        if (reply.type === 'error') {
          child.off('message', onMessage);
          reject(new Error(`stand-in fleet: ${reply.message}`));
        } else if (reply.type === answer) {
          child.off('message', onMessage);
          resolve(reply);
        }
      };
      child.on('message', onMessage);
      child.send(message, (error) => error && reject(error));
    });
  }
}
