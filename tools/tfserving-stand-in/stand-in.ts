/**
 * TF Serving stand-in: a real HTTP server that answers TensorFlow Serving's REST model status and
 * metadata API the way the real server does (see /work/shared/reference/tfserving-rest-api.md,
 * sections 1, 2, 6 and 7), and that tests can steer: load, unload, fail a load, hang, answer 500
 * or garbage, die and come back. It also answers `:predict` (section 3) for a model named
 * `half_plus_two`, TF Serving's own example model (y = 0.5 x + 2).
 *
 * Model states can also be driven by text commands (`load resnet 3`, `fail resnet 3`, see
 * {@link COMMANDS_HELP}): `command()` in code, and `POST /_stand-in` over HTTP when started with
 * `control: true` (the command line does), both through the same parser and the same methods.
 *
 * Made to run by the thousand in one process (one instance per loopback address, each on 8501):
 * `node:http` only, no timers of its own, and the status body of a model is built once per change.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type VersionState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

/** `tensorflow.error.Code` names, as TF Serving prints them in `status.error_code`. */
export const ERROR_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface VersionStatus {
  error_code: ErrorCode;
  error_message: string;
}

/** A model version: an int64 (TF Serving accepts a `-1` directory), as a decimal string or a safe integer. */
export type Version = string | number;

export interface ModelSeed {
  /** Versions that are AVAILABLE from the start (the initial load has finished, as at TF Serving startup). */
  available?: readonly Version[];
  /** Versions still LOADING (a version added while serving, or one whose load is being retried). */
  loading?: readonly Version[];
  /** Versions whose load failed: END with NOT_FOUND and TF Serving's missing-SavedModel message. */
  failed?: readonly Version[];
  /**
   * Versions loaded and unloaded before these, listed as END (TF Serving never forgets them): the
   * status answer of a server that has loaded `history` more versions over its life (~120 B each).
   */
  history?: number;
  /** Version labels, label → version (used by metadata requests only; status requests ignore labels). */
  labels?: Readonly<Record<string, Version>>;
}

export interface StandInOptions {
  /** Address to listen on. Default 127.0.0.1. Use 127.0.0.2, 127.0.0.3, ... for many stand-ins. */
  host?: string;
  /** Port. Default 8501 (the REST port of the official image). 0 picks a free port. */
  port?: number;
  models?: Readonly<Record<string, ModelSeed>>;
  /** How many request paths `requests.paths` keeps (the latest ones). Default 1000. */
  keepPaths?: number;
  /**
   * Answers `POST /_stand-in` (commands, one a line) and `GET /_stand-in` (help and state). Off by
   * default, so that every path outside `/v1/` is TF Serving's 404, as in the fidelity tests.
   */
  control?: boolean;
  /** Called after each command applied, with the command line and the resulting state of what it touched. */
  onCommand?: (line: string, result: string) => void;
}

/**
 * How every `/v1/...` request is answered, instead of the real answer, until set back to 'none'.
 * - hang: read the request, never answer (die/close still finish promptly).
 * - http-500: 500 with a JSON error body.
 * - html: 200 `text/html` page (a proxy or load balancer page, say).
 * - non-json: 200 `application/json` whose body is not JSON.
 * - truncated-json: the real answer (same status code) with only the first half of its body;
 *   Content-Length matches what is sent.
 * - oversized: 200 with a valid status body of about 10 MB, larger than the prober reads (one
 *   AVAILABLE version and 90,000 END ones).
 * - wrong-shape: 200 JSON that is not a status response: `{"model_version_status": "nope"}`.
 */
export type Misbehaviour =
  | 'none'
  | 'hang'
  | 'http-500'
  | 'html'
  | 'non-json'
  | 'truncated-json'
  | 'oversized'
  | 'wrong-shape';

export interface RequestLog {
  /** Every HTTP request received, any path, misbehaviours included (not `/_stand-in` control requests). */
  count: number;
  /** Raw request targets (path and query, exactly as sent), oldest first, bounded by `keepPaths`. */
  readonly paths: string[];
}

interface VersionRecord {
  readonly state: VersionState;
  readonly status: VersionStatus;
}

interface ModelRecord {
  readonly versions: Map<bigint, VersionRecord>;
  readonly labels: Map<string, bigint>;
  /** Cached body of `GET /v1/models/{name}`; cleared on every change to the model. */
  statusBody: Buffer | undefined;
}

interface Reply {
  readonly status: number;
  readonly type?: string;
  readonly body: Buffer;
  readonly close?: boolean;
  readonly allow?: string;
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const JSON_TYPE = 'application/json';
const OK: VersionStatus = { error_code: 'OK', error_message: '' };
const STATES: ReadonlySet<string> = new Set(['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END']);
const MISBEHAVIOURS: ReadonlySet<string> = new Set([
  'none',
  'hang',
  'http-500',
  'html',
  'non-json',
  'truncated-json',
  'oversized',
  'wrong-shape',
]);

/** `(?i)/v1/.*` (RE2 FullMatch): only these paths reach the REST handler. */
const REST_PATH = /^\/v1\/[^\n]*$/i;
/** `kModelStatusApiRegex` of http_rest_api_util.cc, anchored (RE2 FullMatch has Perl submatch semantics). */
const STATUS_PATH =
  /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;
/** The inference regex of section 3, anchored: `POST /v1/models/{name}[/versions/{N}|/labels/{L}]:{verb}`. */
const INFERENCE_PATH =
  /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
/** The one model the stand-in can run: TF Serving's example `half_plus_two` (y = 0.5 x + 2). */
export const HALF_PLUS_TWO = 'half_plus_two';
/** A predict body larger than this is refused (413) rather than buffered. */
const MAX_PREDICT_BODY_BYTES = 8 * 1024 * 1024;
/** The stand-in's own control path (with `control: true`); TF Serving has nothing outside `/v1/` but a 404. */
const CONTROL_PATH = /^\/_stand-in\/?$/;
const MAX_COMMANDS_BYTES = 64 * 1024;
/** TF Serving's CORS preflight check: `RE2::PartialMatch(origin, "https?://")`. */
const CORS_ORIGIN = /https?:\/\//;

/** libevent 2.1's `evhttp_send_error(req, 404, NULL)` page, sent for every path outside `/v1/`. */
const NOT_FOUND_PAGE: Reply = {
  status: 404,
  type: 'text/html',
  body: Buffer.from(
    '<HTML><HEAD>\n<TITLE>404 Not Found</TITLE>\n</HEAD><BODY>\n<H1>Not Found</H1>\n</BODY></HTML>\n',
  ),
  close: true,
};
const CORS_PREFLIGHT: Reply = { status: 200, body: Buffer.alloc(0) };
const HTML_PAGE: Reply = {
  status: 200,
  type: 'text/html',
  body: Buffer.from(
    '<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n',
  ),
};
const NON_JSON: Reply = {
  status: 200,
  type: JSON_TYPE,
  body: Buffer.from('model_version_status: AVAILABLE (this is not JSON)\n'),
};
const WRONG_SHAPE: Reply = {
  status: 200,
  type: JSON_TYPE,
  body: Buffer.from('{\n "model_version_status": "nope"\n}\n'),
};
const HTTP_500: Reply = errorReply(500, 'INTERNAL: the stand-in was told to answer 500');
/** Number of END entries in the 'oversized' body (about 116 bytes each: past the prober's 8 MiB). */
const OVERSIZED_ENTRIES = 90_000;
let oversized: Reply | undefined;

export class TfServingStandIn {
  readonly host: string;
  readonly requests: RequestLog = { count: 0, paths: [] };
  readonly #server = createServer(
    // No server-side timeouts, like TF Serving (libevent, no evhttp_set_timeout): a kept-alive
    // connection stays open until the client closes it. No Host header is required either.
    { keepAliveTimeout: 0, requestTimeout: 0, requireHostHeader: false },
    (req, res) => this.#onRequest(req, res),
  );
  readonly #sockets = new Set<Socket>();
  readonly #models = new Map<string, ModelRecord>();
  readonly #keepPaths: number;
  readonly #control: boolean;
  readonly #onCommand: ((line: string, result: string) => void) | undefined;
  #port: number;
  #mode: Misbehaviour = 'none';
  #state: 'new' | 'listening' | 'dead' | 'closed' = 'new';
  #queue: Promise<void> = Promise.resolve();

  private constructor(options: StandInOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 8501;
    if (!Number.isInteger(this.#port) || this.#port < 0 || this.#port > 65535) {
      throw new RangeError(`Invalid port ${options.port}: expected an integer from 0 to 65535`);
    }
    this.#keepPaths = options.keepPaths ?? 1000;
    this.#control = options.control ?? false;
    this.#onCommand = options.onCommand;
    for (const [name, seed] of Object.entries(options.models ?? {})) {
      const seeded = [...(seed.available ?? []), ...(seed.loading ?? []), ...(seed.failed ?? [])]
        .map(toVersion)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const oldest = seeded[0] ?? 1n;
      for (let i = 1; i <= (seed.history ?? 0); i += 1) this.unload(name, String(oldest - BigInt(i)));
      for (const version of seed.available ?? []) this.load(name, version);
      for (const version of seed.loading ?? []) this.startLoading(name, version);
      for (const version of seed.failed ?? []) this.failLoad(name, version);
      for (const [label, version] of Object.entries(seed.labels ?? {})) this.setLabel(name, label, version);
    }
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts listening; rejects (with the listen error's `code`, e.g. EADDRINUSE) if it cannot. */
  static async start(options: StandInOptions = {}): Promise<TfServingStandIn> {
    const standIn = new TfServingStandIn(options);
    await standIn.#enqueue(async () => {
      await standIn.#listen();
      standIn.#state = 'listening';
    });
    return standIn;
  }

  /** The port listened on (the one picked by the system when started with port 0). */
  get port(): number {
    return this.#port;
  }

  /** Base URL, e.g. `http://127.0.0.2:8501`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.#port}`;
  }

  get listening(): boolean {
    return this.#state === 'listening';
  }

  get misbehaviour(): Misbehaviour {
    return this.#mode;
  }

  // ---- model lifecycle -------------------------------------------------------------------------

  /** Sets one version's state as the status API will report it. `status` defaults to OK. */
  setVersion(model: string, version: Version, state: VersionState, status: VersionStatus = OK): void {
    if (!STATES.has(state)) throw new RangeError(`Invalid version state ${JSON.stringify(state)}`);
    const record = this.#model(model);
    record.versions.set(toVersion(version), {
      state,
      status: { error_code: status.error_code, error_message: status.error_message },
    });
    record.statusBody = undefined;
  }

  /** The version is AVAILABLE (START → LOADING → AVAILABLE collapsed). */
  load(model: string, version: Version): void {
    this.setVersion(model, version, 'AVAILABLE');
  }

  /** The version is LOADING, as seen for a model added by a config reload (or during load retries). */
  startLoading(model: string, version: Version): void {
    this.setVersion(model, version, 'LOADING');
  }

  /**
   * The load failed for good: END with the loader's error, by default NOT_FOUND with TF Serving's
   * message for a missing SavedModel.
   */
  failLoad(model: string, version: Version, message?: string, code: ErrorCode = 'NOT_FOUND'): void {
    if (code === 'OK') throw new RangeError('A failed load has an error code other than OK');
    this.setVersion(model, version, 'END', {
      error_code: code,
      error_message:
        message ??
        `Could not find SavedModel .pb or .pbtxt at supplied export directory path: /models/${model}/${toVersion(version)}`,
    });
  }

  /** The version was unloaded cleanly: END with OK. The entry stays in the status list. */
  unload(model: string, version: Version): void {
    this.setVersion(model, version, 'END');
  }

  /**
   * The model was removed from the config (or its base path emptied): every version that is not
   * END yet becomes END with OK. The status endpoint keeps answering 200 with those entries.
   */
  removeModel(model: string): void {
    const record = this.#models.get(model);
    if (record === undefined) return;
    for (const [version, entry] of record.versions) {
      if (entry.state !== 'END') record.versions.set(version, { state: 'END', status: OK });
    }
    record.statusBody = undefined;
  }

  /** Forgets the model entirely, as a server restart would: its status becomes 404. */
  forgetModel(model: string): void {
    this.#models.delete(model);
  }

  /** Points a version label at a version (not checked against the version's state). */
  setLabel(model: string, label: string, version: Version): void {
    if (label === '') throw new RangeError('A version label cannot be empty');
    this.#model(model).labels.set(label, toVersion(version));
  }

  removeLabel(model: string, label: string): void {
    this.#models.get(model)?.labels.delete(label);
  }

  // ---- commands --------------------------------------------------------------------------------

  /**
   * Applies text commands ({@link COMMANDS_HELP}), one a line, as `POST /_stand-in` and the command
   * line do. Every line is checked before any is applied, so a bad batch changes nothing; the
   * error (a RangeError) names the line and what is allowed. Returns the state of what each
   * command touched, one line per command, e.g. `resnet: 3 LOADING, 2 AVAILABLE`.
   */
  command(text: string): string {
    const results: string[] = [];
    for (const command of parseCommands(text)) {
      const result = this.#apply(command);
      this.#onCommand?.(command.line, result);
      results.push(result);
    }
    return results.join('\n');
  }

  /** Every model's versions, newest first, one line each: `resnet: 3 LOADING, 2 AVAILABLE (stable=2)`. */
  describe(): string {
    const lines = [...this.#models.keys()].map((name) => this.#describeModel(name));
    if (this.#mode !== 'none') lines.push(`misbehaving: ${this.#mode}`);
    return lines.length === 0 ? 'no models' : lines.join('\n');
  }

  #apply(command: Command): string {
    switch (command.verb) {
      case 'load':
        this.startLoading(command.model, command.version);
        break;
      case 'available':
        this.load(command.model, command.version);
        break;
      case 'fail':
        this.failLoad(command.model, command.version, command.message, command.code);
        break;
      case 'unload':
        this.unload(command.model, command.version);
        break;
      case 'remove':
        this.removeModel(command.model);
        break;
      case 'label':
        this.setLabel(command.model, command.label, command.version);
        break;
      case 'misbehave':
        this.misbehave(command.mode);
        return command.mode === 'none' ? 'answering for real' : `misbehaving: ${command.mode}`;
    }
    return this.#describeModel(command.model);
  }

  #describeModel(name: string): string {
    const model = this.#models.get(name);
    const versions = [...(model?.versions ?? [])]
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .map(([version, { state, status }]) =>
        status.error_code === 'OK' ? `${version} ${state}` : `${version} ${state} ${status.error_code}`,
      );
    const labels = [...(model?.labels ?? [])].map(([label, version]) => `${label}=${version}`);
    return `${name}: ${versions.length === 0 ? 'no versions' : versions.join(', ')}${labels.length === 0 ? '' : ` (${labels.join(', ')})`}`;
  }

  /** `/_stand-in`: GET shows the commands and the state, POST applies commands (text, one a line). */
  #onControl(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET' || req.method === 'HEAD') {
      send(res, textReply(200, `${COMMANDS_HELP}\n\nNow:\n${this.describe()}`));
    } else if (req.method === 'POST') {
      readBody(req, MAX_COMMANDS_BYTES).then(
        (body) => {
          try {
            send(res, textReply(200, this.command(body.toString('utf8'))));
          } catch (error) {
            // A bad command is the caller's (400); anything else is the stand-in's own bug (500), never a crash.
            const status = error instanceof RangeError ? 400 : 500;
            send(res, textReply(status, `${(error as Error).message}\nGET /_stand-in lists the commands.`));
          }
        },
        () => send(res, textReply(413, `Commands larger than ${MAX_COMMANDS_BYTES} bytes`)),
      );
    } else {
      send(res, {
        ...textReply(405, 'POST commands (one a line) to /_stand-in, or GET it for help'),
        allow: 'GET, POST',
      });
    }
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** Misbehaves on every `/v1/...` request from now on; 'none' restores real answers. */
  misbehave(mode: Misbehaviour): void {
    if (!MISBEHAVIOURS.has(mode)) throw new RangeError(`Unknown misbehaviour ${JSON.stringify(mode)}`);
    this.#mode = mode;
  }

  /** Stops listening and destroys every open connection: connections are refused from then on. */
  die(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state !== 'listening') return;
      await this.#stopListening();
      this.#state = 'dead';
    });
  }

  /** Listens again on the same address and port, with the same models. No-op when listening. */
  revive(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state === 'closed') throw new Error(`TF Serving stand-in ${this.url} is closed`);
      if (this.#state !== 'dead') return;
      await this.#listen();
      this.#state = 'listening';
    });
  }

  /** Stops for good (like die, but cannot be revived). Idempotent. */
  close(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state === 'listening') await this.#stopListening();
      this.#state = 'closed';
    });
  }

  /** Empties the request log. */
  clearRequests(): void {
    this.requests.count = 0;
    this.requests.paths.length = 0;
  }

  // ---- internals -------------------------------------------------------------------------------

  #model(name: string): ModelRecord {
    if (name === '') throw new RangeError('A model name cannot be empty');
    let record = this.#models.get(name);
    if (record === undefined) {
      record = { versions: new Map(), labels: new Map(), statusBody: undefined };
      this.#models.set(name, record);
    }
    return record;
  }

  #enqueue(operation: () => Promise<void>): Promise<void> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #listen(): Promise<void> {
    const server = this.#server;
    return new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        server.off('listening', onListening);
        const failure = new Error(
          `TF Serving stand-in cannot listen on ${this.host}:${this.#port}: ${error.message}`,
          { cause: error },
        );
        reject(Object.assign(failure, { code: error.code }));
      };
      const onListening = (): void => {
        server.off('error', onError);
        this.#port = (server.address() as AddressInfo).port;
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ host: this.host, port: this.#port });
    });
  }

  #stopListening(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    // Before the request log and any misbehaviour: control requests are the test's, not a prober's.
    if (this.#control && CONTROL_PATH.test(path)) {
      this.#onControl(req, res);
      return;
    }
    const log = this.requests;
    log.count += 1;
    log.paths.push(path);
    if (log.paths.length > this.#keepPaths) log.paths.shift();

    if (req.method === 'POST' && INFERENCE_PATH.test(path)) {
      readBody(req, MAX_PREDICT_BODY_BYTES).then(
        (body) => this.#answer(req, res, path, body),
        () => send(res, errorReply(413, `Request body larger than ${MAX_PREDICT_BODY_BYTES} bytes`)),
      );
      return;
    }
    this.#answer(req, res, path, undefined);
  }

  #answer(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer | undefined): void {
    const mode = this.#mode;
    if (!REST_PATH.test(path)) {
      send(res, NOT_FOUND_PAGE);
    } else if (mode === 'none') {
      send(res, this.#rest(req.method ?? 'GET', path, req.headers.origin, body));
    } else if (mode !== 'hang') {
      send(res, this.#misbehaviourReply(mode, req, body));
    }
    // 'hang': never answered; the socket goes when the client, die() or close() ends it.
  }

  #misbehaviourReply(
    mode: Exclude<Misbehaviour, 'none' | 'hang'>,
    req: IncomingMessage,
    body: Buffer | undefined,
  ): Reply {
    switch (mode) {
      case 'http-500':
        return HTTP_500;
      case 'html':
        return HTML_PAGE;
      case 'non-json':
        return NON_JSON;
      case 'wrong-shape':
        return WRONG_SHAPE;
      case 'oversized':
        oversized ??= buildOversized();
        return oversized;
      case 'truncated-json': {
        const real = this.#rest(req.method ?? 'GET', req.url ?? '/', req.headers.origin, body);
        return { ...real, body: real.body.subarray(0, Math.floor(real.body.length / 2)) };
      }
    }
  }

  /** `HttpRestApiHandler::ProcessRequest`: status and metadata (GET), inference (POST), CORS preflight. */
  #rest(method: string, path: string, origin: string | undefined, body?: Buffer): Reply {
    if (method === 'OPTIONS' && origin !== undefined && CORS_ORIGIN.test(origin)) return CORS_PREFLIGHT;
    const inference = method === 'POST' ? INFERENCE_PATH.exec(path) : null;
    if (inference !== null) return this.#inference(inference, body ?? Buffer.alloc(0));
    const match = method === 'GET' ? STATUS_PATH.exec(path) : null;
    if (match === null) return errorReply(400, `Malformed request: ${method} ${bytesToText(path)}`);
    const [, rawName = '', rawVersion = '', rawLabel = '', subresource = ''] = match;

    // ParseModelInfo: name decoded, version converted, label decoded, in that order.
    const name = rawName === '' ? '' : urlDecode(rawName);
    let version: bigint | undefined;
    if (rawVersion !== '') {
      version = BigInt(rawVersion);
      if (version > INT64_MAX) return errorReply(400, `Failed to convert version: ${rawVersion} to numeric.`);
    }
    const label = rawLabel === '' ? undefined : urlDecode(rawLabel);
    if (name === '') return errorReply(400, 'Missing model name in request.');
    // The subresource group is case-insensitive but the comparison is not: /METADATA is a status request.
    return subresource === 'metadata' ? this.#metadata(name, version, label) : this.#status(name, version);
  }

  /** `GetModelStatusImpl`: a label is ignored (all versions), only an explicit version narrows. */
  #status(name: string, version: bigint | undefined): Reply {
    const model = this.#models.get(name);
    if (version !== undefined) {
      const entry = model?.versions.get(version);
      if (entry === undefined) return errorReply(404, `Could not find version ${version} of model ${name}`);
      return { status: 200, type: JSON_TYPE, body: statusBody([[version, entry]]) };
    }
    if (model === undefined || model.versions.size === 0) {
      return errorReply(404, `Could not find any versions of model ${name}`);
    }
    model.statusBody ??= statusBody([...model.versions].sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0)));
    return { status: 200, type: JSON_TYPE, body: model.statusBody };
  }

  /** `GetModelMetadataImpl`: needs a servable handle, so only AVAILABLE versions answer. */
  #metadata(name: string, version: bigint | undefined, label: string | undefined): Reply {
    const model = this.#models.get(name);
    let wanted = version;
    if (label !== undefined) {
      wanted = model?.labels.get(label);
      if (wanted === undefined) return errorReply(400, `Unrecognized servable version label: ${label}`);
    }
    if (wanted === undefined) {
      let latest: bigint | undefined;
      for (const [candidate, entry] of model?.versions ?? []) {
        if (entry.state === 'AVAILABLE' && (latest === undefined || candidate > latest)) latest = candidate;
      }
      if (latest === undefined) return errorReply(404, `Servable not found for request: Latest(${name})`);
      wanted = latest;
    } else if (model?.versions.get(wanted)?.state !== 'AVAILABLE') {
      return errorReply(404, `Servable not found for request: Specific(${name}, ${wanted})`);
    }
    return { status: 200, type: JSON_TYPE, body: metadataBody(name, wanted) };
  }

  /**
   * `:predict` (and `:classify`/`:regress`) of section 3: the body must be a JSON object, then the
   * servable is found as for metadata (latest AVAILABLE version, a given version, or a label). Only
   * `half_plus_two` computes anything; the error texts follow TF Serving's `util/json_tensor.cc`
   * and `predict_util.cc` as far as the reference gives them.
   */
  #inference(match: RegExpExecArray, body: Buffer): Reply {
    const [, rawName = '', rawVersion = '', rawLabel = '', rawVerb = ''] = match;
    const name = urlDecode(rawName);
    const verb = rawVerb.toLowerCase() === rawVerb ? rawVerb : undefined;
    if (verb === undefined) return errorReply(400, `Malformed request: POST ${bytesToText(match[0])}`);
    let version: bigint | undefined;
    if (rawVersion !== '') {
      version = BigInt(rawVersion);
      if (version > INT64_MAX) return errorReply(400, `Failed to convert version: ${rawVersion} to numeric.`);
    }
    // FillPredictRequestFromJson parses the body before it looks the servable up (for its signatures).
    const request = parseJsonObject(body);
    if (!('json' in request)) return request;
    const model = this.#models.get(name);
    let wanted = version;
    if (rawLabel !== '') {
      const label = urlDecode(rawLabel);
      wanted = model?.labels.get(label);
      if (wanted === undefined) return errorReply(400, `Unrecognized servable version label: ${label}`);
    }
    if (wanted === undefined) {
      if (latestAvailable(model) === undefined) {
        return errorReply(404, `Servable not found for request: Latest(${name})`);
      }
    } else if (model?.versions.get(wanted)?.state !== 'AVAILABLE') {
      return errorReply(404, `Servable not found for request: Specific(${name}, ${wanted})`);
    }
    if (verb !== 'predict') {
      return errorReply(
        400,
        `Expected classification signature method_name to be tensorflow/serving/${verb}.`,
      );
    }
    if (name !== HALF_PLUS_TWO) {
      return errorReply(400, 'Serving signature name: "serving_default" not found in signature def');
    }
    return predictHalfPlusTwo(request.json);
  }
}

/** The commands `command()` and `POST /_stand-in` take, one a line. */
export const COMMANDS_HELP = `Commands, one a line (blank lines and # comments are skipped):
  load <model> <version>                 the version starts loading: LOADING (not served yet)
  available <model> <version>            its load has finished: AVAILABLE
  fail <model> <version> [CODE] [text]   its load failed: END with the error (default NOT_FOUND and
                                         TF Serving's "Could not find SavedModel ..." message)
  unload <model> <version>               unloaded: END with OK (TF Serving keeps listing it)
  remove <model>                         the model left the config: every version END with OK
  label <model> <label> <version>        points a version label at a version (metadata, predict)
  misbehave <mode>                       ${['none', ...[...MISBEHAVIOURS].filter((m) => m !== 'none')].join(' | ')}`;

type Command = { readonly line: string } & (
  | { readonly verb: 'load' | 'available' | 'unload'; readonly model: string; readonly version: string }
  | {
      readonly verb: 'fail';
      readonly model: string;
      readonly version: string;
      readonly code: ErrorCode;
      readonly message: string | undefined;
    }
  | { readonly verb: 'remove'; readonly model: string }
  | { readonly verb: 'label'; readonly model: string; readonly label: string; readonly version: string }
  | { readonly verb: 'misbehave'; readonly mode: Misbehaviour }
);

const COMMAND_ARGUMENTS: Readonly<Record<Command['verb'], string>> = {
  load: '<model> <version>',
  available: '<model> <version>',
  unload: '<model> <version>',
  fail: '<model> <version> [CODE] [text]',
  remove: '<model>',
  label: '<model> <label> <version>',
  misbehave: '<mode>',
};
const FAILURE_CODES: ReadonlySet<string> = new Set(ERROR_CODES.filter((code) => code !== 'OK'));

/** Parses every line first (a RangeError names the bad one), so a batch is applied whole or not at all. */
function parseCommands(text: string): Command[] {
  const commands: Command[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      commands.push(parseCommand(line));
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      throw new RangeError(`${JSON.stringify(line)}: ${error.message}`);
    }
  }
  if (commands.length === 0) throw new RangeError('No command given');
  return commands;
}

function parseCommand(line: string): Command {
  const [verb = '', ...words] = line.split(/\s+/);
  if (!Object.hasOwn(COMMAND_ARGUMENTS, verb)) {
    throw new RangeError(
      `unknown command ${JSON.stringify(verb)}: expected ${Object.keys(COMMAND_ARGUMENTS).join(', ')}`,
    );
  }
  const known = verb as Command['verb'];
  const usage = `expected ${known} ${COMMAND_ARGUMENTS[known]}`;
  const [model = '', second = '', third = ''] = words;
  const exactly = (count: number): void => {
    if (words.length !== count) throw new RangeError(usage);
  };
  switch (known) {
    case 'load':
    case 'available':
    case 'unload':
      exactly(2);
      return { line, verb: known, model, version: String(toVersion(second)) };
    case 'remove':
      exactly(1);
      return { line, verb: known, model };
    case 'label':
      exactly(3);
      return { line, verb: known, model, label: second, version: String(toVersion(third)) };
    case 'misbehave':
      exactly(1);
      if (!MISBEHAVIOURS.has(model))
        throw new RangeError(`${usage}, one of ${[...MISBEHAVIOURS].join(', ')}`);
      return { line, verb: known, mode: model as Misbehaviour };
    case 'fail': {
      if (words.length < 2) throw new RangeError(usage);
      // The rest of the line as typed: an optional error code, then the message (quotes optional).
      let rest = /^\S+\s+\S+\s+\S+\s*(.*)$/s.exec(line)?.[1] ?? '';
      let code: ErrorCode = 'NOT_FOUND';
      const [first = '', after = ''] = /^(\S+)\s*(.*)$/s.exec(rest)?.slice(1) ?? [];
      if (first === 'OK') {
        throw new RangeError(`${usage}: a failed load's code is not OK (unload ends a version with OK)`);
      }
      if (FAILURE_CODES.has(first)) {
        code = first as ErrorCode;
        rest = after;
      }
      const message = rest === '' ? undefined : rest.replace(/^(["'])(.*)\1$/s, '$2');
      return { line, verb: known, model, version: String(toVersion(second)), code, message };
    }
  }
}

function textReply(status: number, text: string): Reply {
  return { status, type: 'text/plain; charset=utf-8', body: Buffer.from(`${text}\n`) };
}

/** The request body as a JSON object, or TF Serving's 400 for one that is not. */
function parseJsonObject(raw: Buffer): { json: Record<string, unknown> } | Reply {
  let request: unknown;
  try {
    request = JSON.parse(raw.toString('utf8'));
  } catch {
    return errorReply(400, 'JSON Parse error: Invalid value. at offset: 0');
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return errorReply(400, 'JSON Parse error: The document root must be an object.');
  }
  return { json: request as Record<string, unknown> };
}

/** Row (`instances`) or columnar (`inputs`) predict of y = 0.5 x + 2 over a 1-D float tensor `x`. */
function predictHalfPlusTwo(body: Record<string, unknown>): Reply {
  const signature = body.signature_name;
  if (signature !== undefined && signature !== 'serving_default') {
    return errorReply(400, `Serving signature name: "${String(signature)}" not found in signature def`);
  }
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (!hasInstances && !hasInputs) return errorReply(400, "Missing 'inputs' or 'instances' key");
  if (hasInstances && hasInputs) {
    return errorReply(
      400,
      "Not formatted correctly expecting only one of 'inputs' or 'instances' keys exists",
    );
  }
  const key = hasInstances ? 'instances' : 'inputs';
  let values = body[key];
  // A named input: {"x": v} per instance, or {"inputs": {"x": [...]}}.
  if (hasInstances && Array.isArray(values)) {
    values = values.map((item) =>
      typeof item === 'object' && item !== null && !Array.isArray(item) && 'x' in item ? item.x : item,
    );
  } else if (hasInputs && typeof values === 'object' && values !== null && !Array.isArray(values)) {
    values = (values as Record<string, unknown>).x;
  }
  if (!Array.isArray(values)) return errorReply(400, `Expecting '${key}' to be an list/array`);
  for (const [i, value] of values.entries()) {
    if (typeof value !== 'number') {
      return errorReply(
        400,
        `Failed to process element: ${i} of '${key}' list. Error: Invalid argument: JSON Value: ${JSON.stringify(value)} ` +
          `Type: ${jsonType(value)} is not of expected type: float`,
      );
    }
  }
  const outputs = (values as number[]).map((x) => 0.5 * x + 2);
  const name = hasInstances ? 'predictions' : 'outputs';
  // rapidjson's PrettyWriter as TF Serving prints a 1-D float tensor: `{ "predictions": [2.5, 3.0, 4.5 ] }`.
  const list = outputs.map((y) => (Number.isInteger(y) ? y.toFixed(1) : String(y))).join(', ');
  return { status: 200, type: JSON_TYPE, body: Buffer.from(`{\n    "${name}": [${list}\n    ]\n}`) };
}

function jsonType(value: unknown): string {
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'Array';
  if (typeof value === 'object') return 'Object';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return 'String';
}

function latestAvailable(model: ModelRecord | undefined): bigint | undefined {
  let latest: bigint | undefined;
  for (const [candidate, entry] of model?.versions ?? []) {
    if (entry.state === 'AVAILABLE' && (latest === undefined || candidate > latest)) latest = candidate;
  }
  return latest;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RangeError('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: OutgoingHttpHeaders = { 'Content-Length': reply.body.length };
  if (reply.type !== undefined) headers['Content-Type'] = reply.type;
  if (reply.close === true) headers.Connection = 'close';
  if (reply.allow !== undefined) headers.Allow = reply.allow;
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/** `MakeJsonFromStatus`: rapidjson PrettyWriter, 4-space indent, no trailing newline. */
function errorReply(status: number, message: string): Reply {
  return { status, type: JSON_TYPE, body: Buffer.from(JSON.stringify({ error: message }, null, 4)) };
}

/** protobuf `MessageToJsonString` with `add_whitespace`: 1-space indent and a final newline. */
function protoJson(value: unknown): string {
  return `${JSON.stringify(value, null, 1)}\n`;
}

function statusBody(entries: ReadonlyArray<readonly [bigint, VersionRecord]>): Buffer {
  return Buffer.from(
    protoJson({
      model_version_status: entries.map(([version, entry]) => ({
        version: String(version),
        state: entry.state,
        status: entry.status,
      })),
    }),
  );
}

const TENSOR_SHAPE = { dim: [{ size: '-1', name: '' }], unknown_rank: false };
const SIGNATURE_DEF_MAP = {
  signature_def: {
    serving_default: {
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: TENSOR_SHAPE, name: 'x:0' } },
      outputs: { y: { dtype: 'DT_FLOAT', tensor_shape: TENSOR_SHAPE, name: 'y:0' } },
      method_name: 'tensorflow/serving/predict',
      defaults: {},
    },
  },
};
const SIGNATURE_DEF_JSON = protoJson(SIGNATURE_DEF_MAP);

/** `ToJsonString(GetModelMetadataResponse)`: two protobuf JSON prints glued by hand. */
function metadataBody(name: string, version: bigint): Buffer {
  const modelSpec = protoJson({ name, signature_name: '', version: String(version) });
  return Buffer.from(
    `{\n"model_spec":${modelSpec},\n"metadata": {"signature_def": ${SIGNATURE_DEF_JSON}}\n}\n`,
  );
}

function buildOversized(): Reply {
  const top = 1_000_000;
  const entries: Array<[bigint, VersionRecord]> = [[BigInt(top), { state: 'AVAILABLE', status: OK }]];
  for (let i = 1; i <= OVERSIZED_ENTRIES; i += 1) {
    entries.push([BigInt(top - i), { state: 'END', status: OK }]);
  }
  return { status: 200, type: JSON_TYPE, body: statusBody(entries) };
}

/** A version as TF Serving tracks it: any int64 (`absl::SimpleAtoi` accepts a `-1` directory). */
function toVersion(version: Version): bigint {
  const text = String(version);
  if (/^-?\d+$/.test(text)) {
    const value = BigInt(text);
    if (value >= INT64_MIN && value <= INT64_MAX) return value;
  }
  throw new RangeError(
    `Invalid model version ${JSON.stringify(String(version))}: expected an integer from ${INT64_MIN} to ${INT64_MAX}`,
  );
}

/**
 * Node gives the request target as one char per byte (latin1); TF Serving works on the bytes.
 * This turns such a string back into text (UTF-8), for messages.
 */
function bytesToText(raw: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: byte range check, not a pattern on text
  return /[^\x00-\x7f]/.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
}

/** curl_easy_unescape: every `%XX` (hex) becomes that byte; anything else, `+` included, stays. */
function urlDecode(raw: string): string {
  if (!raw.includes('%')) return bytesToText(raw);
  const bytes = Buffer.from(raw, 'latin1');
  const out = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i] as number;
    if (byte === 0x25 && isHex(bytes[i + 1]) && isHex(bytes[i + 2])) {
      out[length] = Number.parseInt(String.fromCharCode(bytes[i + 1] as number, bytes[i + 2] as number), 16);
      i += 2;
    } else {
      out[length] = byte;
    }
    length += 1;
  }
  return out.subarray(0, length).toString('utf8');
}

function isHex(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
  );
}
