/**
 * How the LocalStack deployment calls `cdklocal` (the pure parts, unit-tested): its environment
 * and its arguments.
 */
import { ACCOUNT, LOCALSTACK_CONTEXT, OUTPUTS_FILE, REGION, STACK_NAME } from './settings.ts';

/** AWS variables that could point cdklocal at a real account; they are dropped. */
const DROPPED = ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_PROFILE'];

/**
 * cdklocal's environment: LocalStack's dummy credentials and region, nothing else of the caller's
 * AWS identity. If cdklocal ever failed to redirect a call (aws-cdk-local issues #94, #103), real
 * AWS would refuse these credentials instead of deploying to the caller's account.
 *
 * The caller's `AWS_ENDPOINT_URL` is kept: it is how to reach LocalStack without DNS
 * (`http://localhost:4566`; cdklocal's default, `localhost.localstack.cloud`, needs a resolver).
 * cdklocal refuses it without `AWS_ENDPOINT_URL_S3`, which then defaults to the same endpoint
 * (cdklocal rewrites asset bucket URLs to path style).
 */
export function cdklocalEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !DROPPED.includes(key)) out[key] = value;
  }
  if (out.AWS_ENDPOINT_URL !== undefined) out.AWS_ENDPOINT_URL_S3 ??= out.AWS_ENDPOINT_URL;
  return {
    ...out,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    // cdklocal strips AWS_* settings unless they are listed here.
    AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY',
  };
}

export function bootstrapArgs(): string[] {
  return ['bootstrap', `aws://${ACCOUNT}/${REGION}`];
}

/** `cdklocal deploy` of the stack with the LocalStack context, writing the outputs the smoke run reads. */
export function deployArgs(context: Readonly<Record<string, string>> = LOCALSTACK_CONTEXT): string[] {
  return [
    'deploy',
    STACK_NAME,
    '--require-approval',
    'never',
    '--outputs-file',
    OUTPUTS_FILE,
    ...Object.entries(context).flatMap(([key, value]) => ['--context', `${key}=${value}`]),
  ];
}
