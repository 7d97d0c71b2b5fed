import { RequestError } from './errors.ts';

/**
 * Model names, labels and versions as TF Serving accepts them in REST paths: a name or label is
 * 1–256 code points with no control character, `/` or `:`; a version is decimal digits that fit
 * in int64 and compares as a number (`007` is `7`).
 */

/** An ECS cluster ARN, in any partition; cluster names are 1–255 letters, digits, `-` and `_`. */
export const ECS_CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
/** An ECS task ARN (the long form, which names the cluster, or the old short form). */
export const ECS_TASK_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/\S+$/;

const MAX_NAME_CODE_POINTS = 256;
const INT64_MAX = 9_223_372_036_854_775_807n;
// Control characters (C0, DEL, C1), plus the two separators TF Serving's path regex excludes.
const FORBIDDEN = /[\p{Cc}/:]/u;
const REPLACEMENT_CHARACTER = '\uFFFD';

/** Why `value` is not a valid model name or label, or undefined when it is. */
export function nameProblem(value: string): string | undefined {
  const length = [...value].length;
  if (length === 0) return 'must not be empty';
  if (length > MAX_NAME_CODE_POINTS)
    return `must be at most ${MAX_NAME_CODE_POINTS} characters (got ${length})`;
  if (!value.isWellFormed() || value.includes(REPLACEMENT_CHARACTER)) return 'must be valid UTF-8';
  if (FORBIDDEN.test(value)) return 'must not contain control characters, "/" or ":"';
  return undefined;
}

export function isValidName(value: string): boolean {
  return nameProblem(value) === undefined;
}

/** The canonical form of a version string (`"007"` → `"7"`), or undefined when it is not an int64. */
export function canonicalVersion(value: string): string | undefined {
  // Leading zeros are allowed at any length (`007` is `7`); the bound keeps BigInt parsing cheap.
  if (!/^\d{1,256}$/.test(value)) return undefined;
  const parsed = BigInt(value);
  return parsed <= INT64_MAX ? parsed.toString() : undefined;
}

/** Sorts version strings newest first, numerically. */
export function newestFirst(versions: Iterable<string>): string[] {
  return [...versions].sort((a, b) => {
    const left = BigInt(a);
    const right = BigInt(b);
    return left === right ? 0 : left > right ? -1 : 1;
  });
}

/** Checks a path parameter and returns it, or throws a 400 {@link RequestError}. */
export function requireName(kind: 'model' | 'label', value: string | undefined): string {
  const problem = value === undefined ? 'is missing' : nameProblem(value);
  if (problem !== undefined || value === undefined) {
    throw new RequestError(
      400,
      `Invalid${kind === 'model' ? 'Model' : 'Label'}Name`,
      `The ${kind} name ${problem}.`,
    );
  }
  return value;
}

/** Checks a version path parameter and returns its canonical form, or throws a 400 {@link RequestError}. */
export function requireVersion(value: string | undefined): string {
  const version = value === undefined ? undefined : canonicalVersion(value);
  if (version === undefined) {
    throw new RequestError(
      400,
      'InvalidVersion',
      `The version ${JSON.stringify(value ?? '')} is not valid: expected decimal digits that fit in a signed 64-bit integer.`,
    );
  }
  return version;
}
