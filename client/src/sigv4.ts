/**
 * SigV4 signing with the AWS SDK's own signer. Loaded with `import()` only when `auth: 'iam'` is
 * used, so clients without IAM auth never load these packages.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials, AwsCredentialsProvider } from './types.js';

export interface SignerOptions {
  readonly region: string;
  /** @default 'execute-api' */
  readonly service?: string;
  /** @default - the SDK's default provider chain (`@aws-sdk/credential-provider-node`) */
  readonly credentials?: AwsCredentials | AwsCredentialsProvider;
  /** Sign `x-amz-content-sha256` too (the published test suite does not). @default false */
  readonly applyChecksum?: boolean;
}

export interface SignableRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  /** As sent on the wire (already percent-encoded); the signer encodes it again, as non-S3 services expect. */
  readonly path: string;
  readonly query?: Record<string, string | string[]>;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface RequestSigner {
  /** The request's headers plus `authorization`, `x-amz-date` and, with a session token, `x-amz-security-token`. */
  sign(request: SignableRequest, signingDate?: Date): Promise<Record<string, string>>;
}

export async function createSigner(options: SignerOptions): Promise<RequestSigner> {
  let credentials = options.credentials;
  if (credentials === undefined) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    credentials = defaultProvider();
  }
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials,
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? false,
  });
  return {
    async sign(request, signingDate) {
      const signed = await signer.sign(
        { ...request, query: request.query ?? {} },
        signingDate === undefined ? {} : { signingDate },
      );
      return { ...(signed.headers as Record<string, string>) };
    },
  };
}
