import { en } from 'zod/locales';
import { config } from 'zod/mini';

/**
 * Schemas use `zod/mini` (import it as `import * as z from 'zod/mini'` where they are defined):
 * the classic API is ~440 KB minified and does not tree-shake, this is ~15 KB. It ships no
 * messages, so English ones are installed here, once, for readable rejections in logs.
 */
config(en());

/** `path: message` for each issue of a failed parse. */
export function describeIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string[] {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
}
