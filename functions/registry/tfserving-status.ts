import * as z from 'zod/mini';
import { describeIssues } from '../shared/zod.ts';
import { canonicalVersion, newestFirst } from './names.ts';

/**
 * TF Serving's model status and metadata answers (`shared/reference/tfserving-rest-api.md` §1–2).
 * Health is decided from the states, never from the HTTP code: a model removed from the config
 * still answers 200 with every version END.
 */

const Int64String = z
  .string()
  .check(z.refine((v) => canonicalVersion(v) !== undefined, 'must be an int64 decimal string'));

const VersionStatus = z.object({
  version: Int64String,
  state: z.enum(['UNKNOWN', 'START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END']),
  status: z.optional(z.object({ error_code: z.string(), error_message: z.optional(z.string()) })),
});

const ModelStatus = z.object({ model_version_status: z.array(VersionStatus) });

const Metadata = z.object({ model_spec: z.object({ version: Int64String }) });

export type StatusVerdict =
  | { readonly ok: true; readonly versions: string[] }
  | { readonly ok: false; readonly reason: string };

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

/**
 * Judges one `GET /v1/models/{model}` answer. Successful only for a well-formed 200 status answer
 * with at least one AVAILABLE version; `versions` are those AVAILABLE versions, canonical, newest first.
 */
export function judgeModelStatus(
  statusCode: number,
  contentType: string | undefined,
  body: string,
): StatusVerdict {
  if (statusCode !== 200) {
    const error = parseJson(body);
    const message =
      error.ok && typeof (error.value as { error?: unknown })?.error === 'string'
        ? (error.value as { error: string }).error
        : `${body.slice(0, 80)}`;
    return { ok: false, reason: `HTTP ${statusCode}: ${message}` };
  }
  if (!contentType?.toLowerCase().includes('json')) {
    return { ok: false, reason: `HTTP 200 with content type ${contentType ?? '(none)'}, not JSON` };
  }
  const json = parseJson(body);
  if (!json.ok) return { ok: false, reason: 'HTTP 200 with a body that is not JSON (truncated or garbage)' };
  const status = ModelStatus.safeParse(json.value);
  if (!status.success) return { ok: false, reason: `not a model status answer: ${firstIssue(status.error)}` };
  const available = status.data.model_version_status
    .filter((v) => v.state === 'AVAILABLE')
    .map((v) => canonicalVersion(v.version) as string);
  if (available.length === 0) {
    const summary = status.data.model_version_status
      .slice(0, 3)
      .map(
        (v) =>
          `${v.version} ${v.state}${v.status?.error_code && v.status.error_code !== 'OK' ? ` ${v.status.error_code}` : ''}`,
      )
      .join(', ');
    return { ok: false, reason: `no AVAILABLE version (${summary || 'no versions'})` };
  }
  return { ok: true, versions: newestFirst(new Set(available)) };
}

/** The version a label resolves to, from a `…/labels/{label}/metadata` answer, or undefined. */
export function labelVersionFromMetadata(statusCode: number, body: string): string | undefined {
  if (statusCode !== 200) return undefined;
  const json = parseJson(body);
  if (!json.ok) return undefined;
  const metadata = Metadata.safeParse(json.value);
  return metadata.success ? canonicalVersion(metadata.data.model_spec.version) : undefined;
}
