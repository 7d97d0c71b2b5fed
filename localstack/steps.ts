/**
 * A tiny step runner for scripted checks: each step is named, timed and logged, and a failure
 * says which step did not work, why, and what to look at.
 */

export type Log = (line: string) => void;

/** A step failed. The message names the step, the cause and the hint. */
export class StepError extends Error {
  override readonly name = 'StepError';
  constructor(
    readonly step: string,
    readonly reason: string,
    readonly hint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`step "${step}" failed: ${reason}${hint ? `\n  hint: ${hint}` : ''}`, options);
  }
}

export interface StepRunnerOptions {
  readonly log: Log;
  readonly now?: () => number;
}

export type Step = <T>(name: string, run: () => Promise<T>, hint?: string) => Promise<T>;

function reasonOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** Returns `step(name, run, hint)`, which runs `run`, logs the outcome and its duration, and wraps failures in {@link StepError}. */
export function createStepRunner({ log, now = Date.now }: StepRunnerOptions): Step {
  let index = 0;
  return async (name, run, hint) => {
    index += 1;
    const started = now();
    log(`[${index}] ${name} ...`);
    try {
      const result = await run();
      log(`[${index}] ok   ${name} (${((now() - started) / 1000).toFixed(1)} s)`);
      return result;
    } catch (thrown) {
      log(`[${index}] FAIL ${name} (${((now() - started) / 1000).toFixed(1)} s)`);
      throw new StepError(name, reasonOf(thrown), hint, { cause: thrown });
    }
  };
}

/** One look at a condition: done with a value, or not yet and why. */
export type Attempt<T> =
  | { readonly done: true; readonly value: T }
  | { readonly done: false; readonly reason: string };

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `attempt` until it is done or the deadline passes (an attempt that throws counts as "not
 * yet", with its message as the reason). Throws with the last reason when time is up.
 */
export async function pollUntil<T>(
  what: string,
  attempt: () => Promise<Attempt<T>>,
  { timeoutMs, intervalMs, now = Date.now, sleep = realSleep }: PollOptions,
): Promise<T> {
  const deadline = now() + timeoutMs;
  let tries = 0;
  let reason = 'not tried';
  for (;;) {
    tries += 1;
    try {
      const result = await attempt();
      if (result.done) return result.value;
      reason = result.reason;
    } catch (thrown) {
      reason = reasonOf(thrown);
    }
    if (now() + intervalMs > deadline) {
      throw new Error(
        `${what}: not after ${Math.round(timeoutMs / 1000)} s (${tries} tries); last: ${reason}`,
      );
    }
    await sleep(intervalMs);
  }
}
