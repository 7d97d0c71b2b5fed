import {
  backoffMs,
  buildRouting,
  type EndpointState,
  leastLoaded,
  type Routing,
  type Slot,
  soonestBack,
} from './balancer.js';
import { type DiscoveryHttp, type Outcome, requestDiscovery, type Sign } from './discovery-http.js';
import {
  NoEndpointError,
  RegistryClientError,
  RegistryRequestError,
  RegistryUnavailableError,
} from './errors.js';
import type {
  EndpointsResult,
  PickOptions,
  RegistryClientOptions,
  ResolvedEndpoint,
  Selector,
  Strategy,
} from './types.js';

/** Dispatched as `stale` when an answer becomes a last known one, and `fresh` when it is current again. */
export class RegistryStateEvent extends Event {
  constructor(
    type: 'stale' | 'fresh',
    readonly model: string,
    readonly version: string | undefined,
    readonly label: string | undefined,
    /** When stale: ISO 8601 time of the data. */
    readonly asOf: string | undefined,
    /** When stale: why (the registry's own stale answer, or the failure of the last refresh). */
    readonly reason: string | undefined,
  ) {
    super(type);
  }
}

export interface RegistryClientEventMap {
  stale: RegistryStateEvent;
  fresh: RegistryStateEvent;
}

type Listener = Parameters<EventTarget['addEventListener']>[1];
type ListenerOptions = Parameters<EventTarget['addEventListener']>[2];

/** What one (model, selector) knows: the registry's last answer and the refresh loop that revalidates it. */
class Watch {
  routing: Routing | undefined;
  known = true;
  etag: string | undefined;
  serverStale = false;
  serverAsOf: string | undefined;
  /** When the registry last confirmed the answer (200, 304 or 404). */
  validatedAt = 0;
  /** Why the last refresh failed; undefined after a success. */
  failure: string | undefined;
  /** No request before this (the registry's `Retry-After`). */
  retryNotBefore = 0;
  inflight: Promise<void> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  paused = false;
  used = false;
  lastUsedAt = Date.now();
  roundRobin = 0;
  zoneRoundRobin: Map<string, number> | undefined;
  /** Reused by picks that skip ejected endpoints, so a pick allocates nothing. */
  readonly scratch: Slot[] = [];

  constructor(
    readonly key: string,
    readonly model: string,
    readonly version: string | undefined,
    readonly label: string | undefined,
    readonly url: URL,
  ) {}

  get stale(): boolean {
    return this.failure !== undefined || this.serverStale;
  }

  get asOf(): string | undefined {
    if (!this.stale) return undefined;
    return this.serverStale && this.serverAsOf !== undefined
      ? this.serverAsOf
      : new Date(this.validatedAt).toISOString();
  }
}

const DEFAULTS = {
  refreshIntervalMs: 1000,
  jitter: 0.1,
  requestTimeoutMs: 2000,
  idleTimeoutMs: 300_000,
  ejectionBaseMs: 1000,
  ejectionMaxMs: 30_000,
};

/**
 * Resolves TF Serving endpoints from the registry's discovery API and picks one per call:
 * round-robin or least-loaded, zone-aware, with passive ejection of endpoints the caller reports
 * failing, and failing open to the last known answer when the registry is unreachable.
 */
export class RegistryClient extends EventTarget {
  readonly #watches = new Map<string, Watch>();
  readonly #states = new Map<string, EndpointState>();
  readonly #base: string;
  readonly #http: DiscoveryHttp;
  readonly #closing = new AbortController();
  readonly #refreshIntervalMs: number;
  readonly #jitter: number;
  readonly #idleTimeoutMs: number;
  readonly #ejectionBaseMs: number;
  readonly #ejectionMaxMs: number;
  /** How many endpoint states have `ejectedUntil > 0`: picks skip the ejection checks while it is 0. */
  #ejected = 0;
  #closed = false;

  constructor(options: RegistryClientOptions) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('RegistryClient: options are required, e.g. { url, auth: "none" }');
    }
    this.#base = baseUrl(options.url);
    if (options.auth !== 'none' && options.auth !== 'iam') {
      throw new TypeError(
        `RegistryClient: auth must be 'none' or 'iam', got ${JSON.stringify(options.auth)}`,
      );
    }
    this.#refreshIntervalMs = number(
      'refreshIntervalMs',
      options.refreshIntervalMs,
      DEFAULTS.refreshIntervalMs,
      10,
    );
    this.#jitter = number('jitter', options.jitter, DEFAULTS.jitter, 0, 0.5);
    const timeoutMs = number('requestTimeoutMs', options.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 1);
    this.#idleTimeoutMs = number('idleTimeoutMs', options.idleTimeoutMs, DEFAULTS.idleTimeoutMs, 1);
    this.#ejectionBaseMs = number('ejection.baseMs', options.ejection?.baseMs, DEFAULTS.ejectionBaseMs, 1);
    this.#ejectionMaxMs = number(
      'ejection.maxMs',
      options.ejection?.maxMs,
      Math.max(DEFAULTS.ejectionMaxMs, this.#ejectionBaseMs),
      this.#ejectionBaseMs,
    );
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new TypeError('RegistryClient: no fetch: pass options.fetch or use Node 20.11+');
    }
    this.#http = {
      fetch: fetchImpl,
      timeoutMs,
      headers: { ...options.headers },
      sign: options.auth === 'iam' ? lazySigner(options, this.#base) : undefined,
      closing: this.#closing.signal,
    };
  }

  /** The registry's endpoints for a model (any AVAILABLE version, one version, or one label). */
  async endpoints(model: string, selector: Selector = {}): Promise<EndpointsResult> {
    const watch = await this.#ready(model, selector);
    const routing = watch.routing as Routing;
    return {
      model,
      ...(watch.version !== undefined ? { version: watch.version } : {}),
      ...(watch.label !== undefined ? { label: watch.label } : {}),
      endpoints: routing.endpoints,
      known: watch.known,
      stale: watch.stale,
      ...(watch.stale ? { asOf: watch.asOf } : {}),
    };
  }

  /**
   * One endpoint to call. Skips endpoints ejected by {@link reportFailure}; when every candidate is
   * ejected, returns the one whose ejection ends first rather than none. Throws
   * {@link NoEndpointError} when the registry lists none, {@link RegistryUnavailableError} when it has
   * never answered for this model and selector.
   */
  pick(model: string, options?: PickOptions): Promise<ResolvedEndpoint> {
    const watch = this.#watches.get(watchKey(model, options));
    if (watch?.routing !== undefined && !watch.paused && !this.#closed) {
      watch.used = true;
      try {
        return Promise.resolve(this.#choose(watch, options));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#ready(model, options ?? {}).then((ready) => this.#choose(ready, options));
  }

  /** Counts one request in flight on the endpoint (for `least-loaded`); end it with report*, or {@link end}. */
  begin(endpoint: { readonly id: string }): void {
    this.#state(endpoint.id).inflight += 1;
  }

  /** Ends a request begun with {@link begin} that says nothing about the endpoint's health. */
  end(endpoint: { readonly id: string }): void {
    const state = this.#states.get(endpoint.id);
    if (state !== undefined && state.inflight > 0) state.inflight -= 1;
  }

  /**
   * The endpoint failed a request: picks skip it from now on, for 1 s, then 2 s, 4 s… (capped) as
   * failures repeat, until it succeeds or the registry's answer changes. Ends one begun request.
   */
  reportFailure(endpoint: { readonly id: string }): void {
    const state = this.#state(endpoint.id);
    if (state.inflight > 0) state.inflight -= 1;
    state.failures += 1;
    if (state.ejectedUntil === 0) this.#ejected += 1;
    state.ejectedUntil = Date.now() + backoffMs(state.failures, this.#ejectionBaseMs, this.#ejectionMaxMs);
  }

  /** The endpoint answered: it is picked again at once and its back-off starts over. Ends one begun request. */
  reportSuccess(endpoint: { readonly id: string }): void {
    const state = this.#states.get(endpoint.id);
    if (state === undefined) return;
    if (state.inflight > 0) state.inflight -= 1;
    state.failures = 0;
    this.#lift(state);
  }

  /** Stops every refresh and aborts requests in flight; later calls throw. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const watch of this.#watches.values()) clearTimeout(watch.timer);
    this.#watches.clear();
    this.#closing.abort();
  }

  override addEventListener<K extends keyof RegistryClientEventMap>(
    type: K,
    listener:
      | ((event: RegistryClientEventMap[K]) => void)
      | { handleEvent(event: RegistryClientEventMap[K]): void },
    options?: ListenerOptions,
  ): void;
  override addEventListener(type: string, listener: Listener, options?: ListenerOptions): void;
  override addEventListener(type: string, listener: Listener, options?: ListenerOptions): void {
    super.addEventListener(type, listener, options);
  }

  override removeEventListener<K extends keyof RegistryClientEventMap>(
    type: K,
    listener:
      | ((event: RegistryClientEventMap[K]) => void)
      | { handleEvent(event: RegistryClientEventMap[K]): void },
    options?: ListenerOptions,
  ): void;
  override removeEventListener(type: string, listener: Listener, options?: ListenerOptions): void;
  override removeEventListener(type: string, listener: Listener, options?: ListenerOptions): void {
    super.removeEventListener(type, listener, options as Parameters<EventTarget['removeEventListener']>[2]);
  }

  // ---- watches -------------------------------------------------------------------------------

  /** The watch with an answer: the first call (or one after an idle pause) asks the registry now. */
  async #ready(model: string, selector: Selector): Promise<Watch> {
    if (this.#closed) throw new RegistryClientError('This RegistryClient is closed: create a new one.');
    const key = watchKey(model, selector);
    let watch = this.#watches.get(key);
    if (watch === undefined) {
      watch = this.#createWatch(key, model, selector);
      this.#watches.set(key, watch);
    }
    watch.used = true;
    if (watch.routing !== undefined && !watch.paused) return watch;
    if (watch.routing !== undefined) {
      // Idle, paused: revalidate now (failing open to the paused answer), then refresh again.
      watch.paused = false;
      await this.#refresh(watch);
      return watch;
    }
    if (watch.inflight === undefined && watch.retryNotBefore > Date.now()) {
      throw new RegistryUnavailableError(
        `The registry asked to retry later (Retry-After) and has never answered for ${describe(watch)}.`,
        model,
        undefined,
        watch.retryNotBefore - Date.now(),
      );
    }
    await this.#refresh(watch);
    return watch;
  }

  #createWatch(key: string, model: string, selector: Selector): Watch {
    if (typeof model !== 'string' || model === '') {
      throw new TypeError(`RegistryClient: model must be a non-empty string, got ${JSON.stringify(model)}`);
    }
    if (model === '.' || model === '..') {
      throw new TypeError(
        `RegistryClient: a model named ${JSON.stringify(model)} cannot be put in a URL path`,
      );
    }
    const { version, label } = selector;
    if (version !== undefined && label !== undefined) {
      throw new TypeError('RegistryClient: give a version or a label, not both');
    }
    let path = `models/${encodeURIComponent(model)}`;
    if (version !== undefined) path += `/versions/${encodeURIComponent(String(version))}`;
    if (label !== undefined) path += `/labels/${encodeURIComponent(label)}`;
    return new Watch(
      key,
      model,
      version === undefined ? undefined : String(version),
      label,
      new URL(this.#base + path),
    );
  }

  /** One refresh at a time per watch; concurrent callers share it. */
  #refresh(watch: Watch): Promise<void> {
    watch.inflight ??= this.#revalidate(watch).finally(() => {
      watch.inflight = undefined;
      this.#schedule(watch);
    });
    return watch.inflight;
  }

  async #revalidate(watch: Watch): Promise<void> {
    // A stale answer is asked for in full: a 304 would not say whether the registry is current again.
    const etag = watch.routing !== undefined && !watch.serverStale ? watch.etag : undefined;
    const outcome = await requestDiscovery(this.#http, watch.url, etag);
    if (this.#closed) return;
    const wasStale = watch.stale;
    const hadAnswer = watch.routing !== undefined;
    this.#apply(watch, outcome);
    if (!hadAnswer && watch.routing === undefined) {
      // Kept after an outage only, for its Retry-After; a refused request leaves nothing behind.
      if (outcome.kind !== 'unavailable') this.#watches.delete(watch.key);
      throw firstCallError(watch, outcome);
    }
    if (watch.stale !== wasStale) this.#announce(watch);
  }

  #apply(watch: Watch, outcome: Outcome): void {
    const now = Date.now();
    switch (outcome.kind) {
      case 'answer':
      case 'not-found': {
        const endpoints = outcome.kind === 'answer' ? outcome.endpoints : [];
        const routing = buildRouting(endpoints, (id) => this.#state(id));
        const previous = watch.routing;
        if (previous === undefined || previous.key !== routing.key) {
          watch.routing = routing;
          // The registry's answer changed: it wins over this client's ejections of what it lists.
          if (previous !== undefined) for (const slot of routing.slots) this.#lift(slot.state);
          this.#forgetUnlisted();
        }
        watch.known = outcome.kind === 'answer';
        watch.etag = outcome.kind === 'answer' ? outcome.etag : undefined;
        watch.serverStale = outcome.kind === 'answer' && outcome.serverStale;
        watch.serverAsOf = outcome.kind === 'answer' ? outcome.serverAsOf : undefined;
        watch.validatedAt = now;
        watch.failure = undefined;
        watch.retryNotBefore = 0;
        return;
      }
      case 'not-modified':
        if (watch.routing === undefined) {
          watch.failure = '304 to an unconditional request';
          return;
        }
        watch.validatedAt = now;
        watch.failure = undefined;
        watch.retryNotBefore = 0;
        return;
      case 'rejected':
        watch.failure = `the registry refused the request: ${outcome.message}`;
        return;
      case 'unavailable':
        watch.failure = `the registry is unavailable: ${outcome.message}`;
        watch.retryNotBefore = outcome.retryAfterMs === undefined ? 0 : now + outcome.retryAfterMs;
        return;
    }
  }

  #schedule(watch: Watch): void {
    clearTimeout(watch.timer);
    watch.timer = undefined;
    if (this.#closed || watch.routing === undefined || this.#watches.get(watch.key) !== watch) return;
    const spread = this.#jitter * (2 * Math.random() - 1);
    let delay = this.#refreshIntervalMs * (1 + spread);
    delay = Math.max(delay, watch.retryNotBefore - Date.now());
    watch.timer = setTimeout(() => this.#tick(watch), delay);
    watch.timer.unref?.();
  }

  #tick(watch: Watch): void {
    watch.timer = undefined;
    const now = Date.now();
    if (watch.used) {
      watch.used = false;
      watch.lastUsedAt = now;
    }
    if (now - watch.lastUsedAt >= this.#idleTimeoutMs) {
      watch.paused = true;
      return;
    }
    // Background refreshes never throw: a failure only marks the answer stale.
    this.#refresh(watch).catch(() => undefined);
  }

  #announce(watch: Watch): void {
    const stale = watch.stale;
    const reason =
      watch.failure ?? (watch.serverStale ? 'the registry answered from its last known data' : undefined);
    this.dispatchEvent(
      new RegistryStateEvent(
        stale ? 'stale' : 'fresh',
        watch.model,
        watch.version,
        watch.label,
        stale ? watch.asOf : undefined,
        stale ? reason : undefined,
      ),
    );
  }

  // ---- picking -------------------------------------------------------------------------------

  #choose(watch: Watch, options: PickOptions | undefined): ResolvedEndpoint {
    const routing = watch.routing as Routing;
    const all = routing.slots;
    if (all.length === 0) {
      throw new NoEndpointError(
        watch.known
          ? `The registry lists no healthy endpoint for ${describe(watch)}.`
          : `The registry does not know model ${JSON.stringify(watch.model)} (404 ModelNotFound).`,
        watch.model,
        watch.known ? 'NoHealthyEndpoint' : 'ModelNotFound',
        watch.stale,
      );
    }
    const strategy: Strategy = options?.strategy ?? 'round-robin';
    if (strategy !== 'round-robin' && strategy !== 'least-loaded') {
      throw new TypeError(
        `RegistryClient: strategy must be 'round-robin' or 'least-loaded', got ${JSON.stringify(strategy)}`,
      );
    }
    const zone = options?.zone;
    let pool = all;
    if (zone !== undefined) pool = routing.zones.get(zone) ?? all;

    let list = pool;
    let n = pool.length;
    if (this.#ejected > 0) {
      const now = Date.now();
      n = this.#available(pool, now, watch.scratch);
      if (n === 0 && pool !== all) {
        pool = all;
        n = this.#available(all, now, watch.scratch);
      }
      if (n === 0) return soonestBack(all).endpoint;
      list = watch.scratch;
    }
    if (strategy === 'least-loaded') return leastLoaded(list, n).endpoint;
    return (list[this.#nextCounter(watch, pool === all ? undefined : zone) % n] as Slot).endpoint;
  }

  #nextCounter(watch: Watch, zone: string | undefined): number {
    if (zone === undefined) return watch.roundRobin++;
    watch.zoneRoundRobin ??= new Map();
    const next = watch.zoneRoundRobin.get(zone) ?? 0;
    watch.zoneRoundRobin.set(zone, next + 1);
    return next;
  }

  /** Copies the slots not ejected now into `into`; returns how many. Ends expired ejections. */
  #available(pool: readonly Slot[], now: number, into: Slot[]): number {
    let n = 0;
    for (const slot of pool) {
      const state = slot.state;
      if (state.ejectedUntil !== 0 && state.ejectedUntil <= now) this.#lift(state);
      if (state.ejectedUntil === 0) into[n++] = slot;
    }
    return n;
  }

  #state(id: string): EndpointState {
    let state = this.#states.get(id);
    if (state === undefined) {
      state = { inflight: 0, failures: 0, ejectedUntil: 0 };
      this.#states.set(id, state);
    }
    return state;
  }

  #lift(state: EndpointState): void {
    if (state.ejectedUntil === 0) return;
    state.ejectedUntil = 0;
    this.#ejected -= 1;
  }

  /** Drops the state of endpoints no answer lists any more (unless requests are still in flight). */
  #forgetUnlisted(): void {
    const listed = new Set<string>();
    for (const watch of this.#watches.values()) {
      for (const slot of watch.routing?.slots ?? []) listed.add(slot.endpoint.id);
    }
    for (const [id, state] of this.#states) {
      if (listed.has(id) || state.inflight > 0) continue;
      this.#lift(state);
      this.#states.delete(id);
    }
  }
}

function watchKey(model: string, selector: Selector | undefined): string {
  if (selector?.version !== undefined) return `${model}\u0000v${selector.version}`;
  if (selector?.label !== undefined) return `${model}\u0000l${selector.label}`;
  return model;
}

function describe(watch: Watch): string {
  const model = `model ${JSON.stringify(watch.model)}`;
  if (watch.version !== undefined) return `${model} version ${watch.version}`;
  if (watch.label !== undefined) return `${model} label ${JSON.stringify(watch.label)}`;
  return model;
}

function firstCallError(watch: Watch, outcome: Outcome): Error {
  switch (outcome.kind) {
    case 'rejected':
      return new RegistryRequestError(
        `The registry refused the request for ${describe(watch)}: ${outcome.message}`,
        watch.model,
        outcome.status,
        outcome.code,
      );
    case 'unavailable':
      return new RegistryUnavailableError(
        `The registry has never answered for ${describe(watch)}: ${outcome.message}`,
        watch.model,
        outcome.status,
        outcome.retryAfterMs,
        { cause: outcome.cause },
      );
    default:
      return new RegistryUnavailableError(
        `The registry gave no usable answer for ${describe(watch)}: ${watch.failure ?? outcome.kind}`,
        watch.model,
        undefined,
        undefined,
      );
  }
}

function baseUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new TypeError(
      `RegistryClient: url ${JSON.stringify(url)} is not a URL; expected e.g. http://127.0.0.1:3000 or ` +
        'https://{api}.execute-api.{region}.amazonaws.com/v1/',
    );
  }
  if (
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.search !== '' ||
    parsed.hash !== ''
  ) {
    throw new TypeError(
      `RegistryClient: url ${JSON.stringify(url)} must be an http(s) base URL with no query or fragment`,
    );
  }
  return parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
}

function number(name: string, value: unknown, fallback: number, min: number, max = 86_400_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(
      `RegistryClient: ${name} must be a number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** SigV4 with the SDK's signer, imported on the first request. */
function lazySigner(options: RegistryClientOptions, base: string): Sign {
  const region = options.region ?? regionOf(base);
  if (region === undefined) {
    throw new TypeError(
      "RegistryClient: auth 'iam' needs a region: pass region, use the API Gateway URL " +
        '(https://{api}.execute-api.{region}.amazonaws.com/...), or set AWS_REGION',
    );
  }
  let signer: Promise<import('./sigv4.js').RequestSigner> | undefined;
  return async (url, headers) => {
    signer ??= import('./sigv4.js').then((m) => m.createSigner({ region, credentials: options.credentials }));
    // Only host and the x-amz-* headers are signed: nothing on the way may alter them.
    const signed = await (await signer).sign({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      headers: { host: url.host },
    });
    const { host: _host, ...rest } = signed;
    return { ...headers, ...rest };
  };
}

/** The SigV4 region of a base URL: an execute-api host's, else `AWS_REGION` / `AWS_DEFAULT_REGION`. */
export function regionOf(base: string): string | undefined {
  const fromUrl = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(new URL(base).hostname)?.[1];
  if (fromUrl !== undefined) return fromUrl;
  const env = typeof process === 'undefined' ? undefined : process.env;
  return env?.AWS_REGION || env?.AWS_DEFAULT_REGION || undefined;
}
