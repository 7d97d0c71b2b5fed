/**
 * The two LocalStack calls the smoke run makes without an SDK client: its health endpoint and
 * EventBridge PutEvents (AWS JSON 1.1). LocalStack's free edition does not verify signatures, so
 * the request carries a well-formed but unsigned Authorization header naming the region; it is
 * never meant for real AWS (which also refuses `aws.*` sources from PutEvents).
 */
import type { PutEventsEntry } from './smoke-event.ts';

export type Fetch = typeof fetch;

export interface HttpRequest {
  readonly url: string;
  readonly init: { readonly method: 'POST'; readonly headers: Record<string, string>; readonly body: string };
}

function amzDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The HTTP request for `PutEvents` against LocalStack's edge endpoint. */
export function putEventsRequest(
  edgeUrl: string,
  region: string,
  entries: readonly PutEventsEntry[],
  at: Date,
): HttpRequest {
  if (entries.length === 0 || entries.length > 10) {
    throw new Error(`PutEvents takes 1 to 10 entries, got ${entries.length}`);
  }
  const date = amzDate(at);
  return {
    url: `${edgeUrl.replace(/\/+$/, '')}/`,
    init: {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSEvents.PutEvents',
        'x-amz-date': date,
        authorization: `AWS4-HMAC-SHA256 Credential=test/${date.slice(0, 8)}/${region}/events/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
      },
      body: JSON.stringify({ Entries: entries }),
    },
  };
}

interface PutEventsResponse {
  FailedEntryCount?: number;
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

/** Puts the entries on the default bus; throws with EventBridge's reasons if any entry failed. */
export async function putEvents(
  edgeUrl: string,
  region: string,
  entries: readonly PutEventsEntry[],
  fetchFn: Fetch = fetch,
): Promise<string[]> {
  const { url, init } = putEventsRequest(edgeUrl, region, entries, new Date());
  const response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`PutEvents answered HTTP ${response.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as PutEventsResponse;
  const failed = (body.Entries ?? []).filter((entry) => entry.ErrorCode !== undefined);
  if ((body.FailedEntryCount ?? 0) > 0 || failed.length > 0) {
    throw new Error(
      `PutEvents rejected ${body.FailedEntryCount ?? failed.length} entries: ${failed.map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`).join('; ')}`,
    );
  }
  return (body.Entries ?? []).map((entry) => entry.EventId ?? '?');
}

/** The services the deployed stack needs running in LocalStack. */
export const REQUIRED_SERVICES = [
  'cloudformation',
  'dynamodb',
  'events',
  'lambda',
  'apigateway',
  'sqs',
  'logs',
  'iam',
  's3',
] as const;

/** Checks a `/_localstack/health` answer: returns what is missing (empty when all is well). */
export function missingServices(health: unknown): string[] {
  const services =
    health !== null && typeof health === 'object'
      ? (health as { services?: Record<string, unknown> }).services
      : undefined;
  if (!services) return [...REQUIRED_SERVICES];
  return REQUIRED_SERVICES.filter((name) => !['available', 'running'].includes(String(services[name])));
}

/** Fetches LocalStack's health and returns its version, or throws saying what is wrong. */
export async function checkLocalStack(edgeUrl: string, fetchFn: Fetch = fetch): Promise<string> {
  let response: Response;
  try {
    response = await fetchFn(`${edgeUrl.replace(/\/+$/, '')}/_localstack/health`, {
      signal: AbortSignal.timeout(5_000),
    });
  } catch (thrown) {
    throw new Error(
      `LocalStack is not answering at ${edgeUrl} (${thrown instanceof Error ? thrown.message : String(thrown)})`,
    );
  }
  if (!response.ok) throw new Error(`LocalStack health answered HTTP ${response.status}`);
  const health = (await response.json()) as { version?: string };
  const missing = missingServices(health);
  if (missing.length > 0) throw new Error(`LocalStack services not available: ${missing.join(', ')}`);
  return health.version ?? 'unknown';
}
