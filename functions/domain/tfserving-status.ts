import { JSONParser } from '@streamparser/json';
import * as z from 'zod/mini';
import { canonicalVersion, newestFirst } from './names.ts';
import { describeIssues } from './zod.ts';

/**
 * TF Serving's model status and metadata answers (https://www.tensorflow.org/tfx/serving/api_rest, model status and metadata).
 * Health is decided from the states, never from the HTTP code: a model removed from the config
 * still answers 200 with every version END.
 *
 * A status answer only grows over a server's life (unloaded versions are never forgotten, ~124 B
 * each: a push every 10 minutes for two months is over 1 MiB), so it is judged as it streams in,
 * one version entry at a time, holding only the AVAILABLE versions: memory stays bounded whatever
 * the body's size, and {@link MAX_STATUS_BYTES} only bounds the work.
 */

const Int64String = z
  .string()
  .check(z.refine((v) => canonicalVersion(v) !== undefined, 'must be an int64 decimal string'));

const VersionStatus = z.object({
  version: Int64String,
  state: z.enum(['UNKNOWN', 'START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END']),
  status: z.optional(z.object({ error_code: z.string(), error_message: z.optional(z.string()) })),
});

const ModelStatus = z.object({ model_version_status: z.array(z.unknown()) });

const Metadata = z.object({ model_spec: z.object({ version: Int64String }) });

/**
 * The most of a status answer that is read: about 68,000 versions. An answer with 20,000 versions
 * is 2.3 MB and streams through the judge in about 0.1 s of CPU on a 2-core machine.
 */
export const MAX_STATUS_BYTES = 8 * 1024 * 1024;
/** Error answers are small: only their start is kept. */
const MAX_SMALL_BODY_BYTES = 64 * 1024;
/** Metadata carries the signatures, which can be large; `model_spec` comes first. */
const MAX_METADATA_BYTES = 1024 * 1024;
/** How many entries the reason of a no-AVAILABLE verdict quotes. */
const SUMMARY_ENTRIES = 3;

export type StatusVerdict =
  | { readonly ok: true; readonly versions: string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * A failed probe's reason in a few words fit for a metric dimension (the reason text quotes
 * servers, so it is unbounded): what an operator checks first differs for each.
 * `store-error`: the probe's outcome could not be recorded.
 */
export const PROBE_FAILURE_KINDS = [
  'timeout',
  'connection',
  'http-error',
  'bad-answer',
  'no-available-version',
  'store-error',
] as const;

export type ProbeFailureKind = (typeof PROBE_FAILURE_KINDS)[number];

/** The reason the TF Serving client gives when a request passed its deadline. */
export const timeoutReason = (timeoutMs: number) => `timeout after ${timeoutMs} ms`;

/** The kind of a failed status verdict's reason, as the judges here and the client word them. */
export function probeFailureKind(reason: string): Exclude<ProbeFailureKind, 'store-error'> {
  if (reason.startsWith('no AVAILABLE version')) return 'no-available-version';
  if (/^(HTTP 200 with|not a model status answer|body larger than)/.test(reason)) return 'bad-answer';
  if (/^HTTP \d{3}:/.test(reason)) return 'http-error';
  if (/^timeout after \d+ ms$/.test(reason)) return 'timeout';
  // Refused, reset, unreachable, closed mid-body, a host not allowed: the endpoint was not reached.
  return 'connection';
}

/** Consumes a response body chunk by chunk; `end` gives the verdict. `write` throws to stop reading early. */
export interface BodyJudge<T> {
  write(chunk: Uint8Array): void;
  end(): T;
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

function firstIssue(error: Parameters<typeof describeIssues>[0]): string {
  return describeIssues(error)[0] ?? 'unexpected shape';
}

/** The start of a body, kept for messages and for shapes that carry no version entry. */
class BodyStart {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  add(chunk: Uint8Array): void {
    if (this.size >= this.limit) {
      this.truncated = true;
      return;
    }
    const kept = chunk.subarray(0, this.limit - this.size);
    if (kept.length < chunk.length) this.truncated = true;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Judges a non-200 answer: a failure quoting TF Serving's `{"error": …}` text or the body's start. */
class ErrorAnswerJudge implements BodyJudge<StatusVerdict> {
  private readonly start = new BodyStart(MAX_SMALL_BODY_BYTES);
  constructor(private readonly statusCode: number) {}

  write(chunk: Uint8Array): void {
    this.start.add(chunk);
  }

  end(): StatusVerdict {
    const body = this.start.text();
    const error = parseJson(body);
    const message =
      error.ok && typeof (error.value as { error?: unknown })?.error === 'string'
        ? (error.value as { error: string }).error
        : body.slice(0, 80);
    return { ok: false, reason: `HTTP ${this.statusCode}: ${message}` };
  }
}

/** A verdict known before the body is read (a content type that is not JSON). */
const settled = (verdict: StatusVerdict): BodyJudge<StatusVerdict> => ({
  write: () => undefined,
  end: () => verdict,
});

/**
 * Judges a 200 status answer: each `model_version_status` entry is checked on its own, and one
 * malformed entry (a `-1` version directory, say, which TF Serving accepts) does not reject the
 * answer: the verdict is made from the well-formed entries. A body of up to MAX_SMALL_BODY_BYTES
 * (every real status answer) is parsed whole at the end with `JSON.parse`, several times cheaper
 * than the streaming parser; a larger one is streamed from the moment it outgrows that, so its
 * memory stays bounded.
 */
class StatusAnswerJudge implements BodyJudge<StatusVerdict> {
  private parser: JSONParser | undefined;
  /** The body so far, while it is small enough to be parsed whole. */
  private pending: Uint8Array[] = [];
  private readonly start = new BodyStart(MAX_SMALL_BODY_BYTES);
  private readonly available = new Set<string>();
  private readonly summary: string[] = [];
  private entries = 0;
  private wellFormed = 0;
  private firstProblem: string | undefined;
  private nonArrayEntries = false;
  private parseError = false;
  private bytes = 0;

  write(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.bytes > MAX_STATUS_BYTES) throw new Error(`body larger than ${MAX_STATUS_BYTES} bytes`);
    this.start.add(chunk);
    if (this.parser === undefined) {
      this.pending.push(chunk);
      if (this.bytes <= MAX_SMALL_BODY_BYTES) return;
      // Too large to hold: stream it from here on, starting with what came so far.
      this.parser = new JSONParser({ paths: ['$.model_version_status.*'], keepStack: false });
      this.parser.onValue = ({ value, key }) => this.onEntry(value, key);
      this.parser.onError = () => {
        this.parseError = true;
      };
      const held = this.pending;
      this.pending = [];
      for (const part of held) this.feed(part);
      return;
    }
    this.feed(chunk);
  }

  end(): StatusVerdict {
    if (this.parser === undefined) this.parseWhole();
    else if (!this.parseError && !this.parser.isEnded) this.parseError = true;
    if (this.parseError) {
      return { ok: false, reason: 'HTTP 200 with a body that is not JSON (truncated or garbage)' };
    }
    if (this.nonArrayEntries || this.entries === 0) return this.judgeWithoutEntries();
    if (this.wellFormed === 0) {
      return { ok: false, reason: `not a model status answer: ${this.firstProblem ?? 'no version entry'}` };
    }
    if (this.available.size === 0) {
      return { ok: false, reason: `no AVAILABLE version (${this.summary.join(', ') || 'no versions'})` };
    }
    return { ok: true, versions: newestFirst(this.available) };
  }

  private feed(chunk: Uint8Array): void {
    if (this.parseError) return;
    try {
      this.parser?.write(chunk);
    } catch {
      this.parseError = true;
    }
  }

  /** The small body at once: the entries the streaming parser would have emitted, in order. */
  private parseWhole(): void {
    const json = parseJson(Buffer.concat(this.pending).toString('utf8'));
    this.pending = [];
    if (!json.ok) {
      this.parseError = true;
      return;
    }
    if (typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) return;
    const entries = (json.value as { model_version_status?: unknown }).model_version_status;
    if (Array.isArray(entries)) {
      for (let index = 0; index < entries.length; index += 1) this.onEntry(entries[index], index);
    } else if (typeof entries === 'object' && entries !== null) {
      for (const [key, entry] of Object.entries(entries)) this.onEntry(entry, key);
    }
  }

  private onEntry(value: unknown, key: string | number | undefined): void {
    this.entries += 1;
    if (typeof key !== 'number') {
      this.nonArrayEntries = true;
      return;
    }
    const entry = VersionStatus.safeParse(value);
    if (!entry.success) {
      this.firstProblem ??= `model_version_status.${key}.${firstIssue(entry.error)}`;
      return;
    }
    this.wellFormed += 1;
    const { version, state, status } = entry.data;
    if (state === 'AVAILABLE') this.available.add(canonicalVersion(version) as string);
    if (this.summary.length < SUMMARY_ENTRIES) {
      const code = status?.error_code && status.error_code !== 'OK' ? ` ${status.error_code}` : '';
      this.summary.push(`${version} ${state}${code}`);
    }
  }

  /** No version entry streamed out: the body is small, so its kept start says what shape it has. */
  private judgeWithoutEntries(): StatusVerdict {
    const json = this.start.truncated ? { ok: false as const } : parseJson(this.start.text());
    if (!json.ok) return { ok: false, reason: 'not a model status answer: unexpected shape' };
    const status = ModelStatus.safeParse(json.value);
    if (!status.success)
      return { ok: false, reason: `not a model status answer: ${firstIssue(status.error)}` };
    return { ok: false, reason: 'no AVAILABLE version (no versions)' };
  }
}

/**
 * A judge for one `GET /v1/models/{model}` answer. Successful only for a well-formed 200 status
 * answer with at least one AVAILABLE version; `versions` are those versions, canonical, newest first.
 */
export function modelStatusJudge(
  statusCode: number,
  contentType: string | undefined,
): BodyJudge<StatusVerdict> {
  if (statusCode !== 200) return new ErrorAnswerJudge(statusCode);
  if (!contentType?.toLowerCase().includes('json')) {
    return settled({ ok: false, reason: `HTTP 200 with content type ${contentType ?? '(none)'}, not JSON` });
  }
  return new StatusAnswerJudge();
}

/** {@link modelStatusJudge} over a whole body at once. */
export function judgeModelStatus(
  statusCode: number,
  contentType: string | undefined,
  body: string | Uint8Array,
): StatusVerdict {
  const judge = modelStatusJudge(statusCode, contentType);
  try {
    judge.write(typeof body === 'string' ? Buffer.from(body) : body);
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  return judge.end();
}

/** A judge for a `…/labels/{label}/metadata` answer: the version the label resolves to, or undefined. */
export function labelMetadataJudge(statusCode: number): BodyJudge<string | undefined> {
  const start = new BodyStart(MAX_METADATA_BYTES);
  return {
    write: (chunk) => {
      if (statusCode === 200) start.add(chunk);
    },
    end: () =>
      statusCode === 200 && !start.truncated ? labelVersionFromMetadata(200, start.text()) : undefined,
  };
}

/** The version a label resolves to, from a `…/labels/{label}/metadata` answer, or undefined. */
export function labelVersionFromMetadata(statusCode: number, body: string): string | undefined {
  if (statusCode !== 200) return undefined;
  const json = parseJson(body);
  if (!json.ok) return undefined;
  const metadata = Metadata.safeParse(json.value);
  return metadata.success ? canonicalVersion(metadata.data.model_spec.version) : undefined;
}
