/**
 * Domain errors. Each carries what its caller needs to map it (HTTP status for the
 * discovery API, the variable name for configuration), and a message that says what
 * went wrong, the value received and what is allowed.
 */

/** A configuration value is missing or out of bounds. Thrown at start (cold start or `npm start`). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`${variable}=${JSON.stringify(value)} is invalid: ${allowed}`);
  }
}

/** A client sent a request the API cannot answer (bad model name, version, route). Mapped to 400/404/405. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  constructor(
    readonly statusCode: 400 | 404 | 405 | 413,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A route was asked with a method it does not answer; the answer names the ones it does (`Allow`). */
export class MethodNotAllowedError extends RequestError {
  constructor(
    method: string,
    readonly allowed: readonly string[],
    why: string,
  ) {
    super(405, 'MethodNotAllowed', `${method} is not allowed: ${why} (${allowed.join(', ')}).`);
  }
}

/** An event failed validation. The Lambda rethrows it so EventBridge retries and the DLQ see it. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super(issues.length > 0 ? `${message}: ${issues.join('; ')}` : message);
  }
}

/**
 * The registry store did not answer in time, refused the connection or failed (throttling after
 * the retry budget included). Discovery answers from its last known answers, or 503; event
 * consumers fail the event so it is delivered again.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    const reason = asError(cause);
    super(`the registry store did not answer ${operation}: ${reason.name}: ${reason.message}`);
  }

  /** True when the store call ran out of its deadline (not refused or failed). */
  get timedOut(): boolean {
    const name = asError(this.cause).name;
    return name === 'TimeoutError' || name === 'AbortError';
  }
}

/** Narrows an unknown thrown value to an Error, wrapping anything else. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
