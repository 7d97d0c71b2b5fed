/** Base class of the errors this client throws itself. */
export class RegistryClientError extends Error {
  override name = 'RegistryClientError';
}

/**
 * The registry could not be asked (unreachable, timed out, 5xx, a body that is not a discovery
 * answer) and this client has never had an answer for that model and selector to fall back on.
 */
export class RegistryUnavailableError extends RegistryClientError {
  override name = 'RegistryUnavailableError';
  constructor(
    message: string,
    readonly model: string,
    /** HTTP status when the registry answered, e.g. 503. */
    readonly status: number | undefined,
    /** From `Retry-After`: calls fail fast until then. */
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The registry says no endpoint can serve the model (and selector) right now. */
export class NoEndpointError extends RegistryClientError {
  override name = 'NoEndpointError';
  constructor(
    message: string,
    readonly model: string,
    /** `ModelNotFound`: no running task declares the model (404); `NoHealthyEndpoint`: none is healthy (200, `[]`). */
    readonly code: 'ModelNotFound' | 'NoHealthyEndpoint',
    /** `true` when the answer saying so is a last known one. */
    readonly stale: boolean,
  ) {
    super(message);
  }
}

/**
 * The registry refused the request (a 4xx other than 404 ModelNotFound): an invalid model name,
 * version or label (400), a denied or unsigned request (403), a base URL with no discovery API (404).
 * Thrown only when there is no last known answer; never retried by the background refresh's callers.
 */
export class RegistryRequestError extends RegistryClientError {
  override name = 'RegistryRequestError';
  constructor(
    message: string,
    readonly model: string,
    readonly status: number,
    /** The registry's `error.code`, e.g. `InvalidName`, when it sent one. */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}
