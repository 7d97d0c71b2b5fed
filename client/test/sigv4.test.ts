// SigV4: the client's signer module against AWS's published test suite, the test's own verifier
// against the same suite, then the packed client against a verifying discovery API on 127.0.90.252.
import { readFileSync } from 'node:fs';
import type { RegistryClient } from 'tf-serving-registry-client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSigner } from '../src/sigv4.ts';
import { type ClientModule, loadClient } from './support/packed.ts';
import { SigningRegistry, verify } from './support/sigv4-verifier.ts';

interface Vector {
  name: string;
  sessionToken?: string;
  request: { method: string; path: string; query: Record<string, string>; headers: Record<string, string> };
  signedHeaders: string;
  signature: string;
}

const SUITE = JSON.parse(
  readFileSync(new URL('./fixtures/sigv4/aws-sig-v4-test-suite.json', import.meta.url), 'utf8'),
) as {
  context: { region: string; service: string; timestamp: string; credentials: Record<string, string> };
  vectors: Vector[];
};
const { context } = SUITE;
const AMZ_DATE = '20150830T123600Z';
const KEY = { accessKeyId: 'AKIDTFSRTEST', secretAccessKey: 'tfsr/test/secret/0123456789abcdefghij' };

let lib: ClientModule;
let registry: SigningRegistry | undefined;
const clients: RegistryClient[] = [];

beforeAll(async () => {
  lib = await loadClient();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await registry?.close();
  registry = undefined;
  vi.unstubAllEnvs();
});

function authorizationOf(vector: Vector): string {
  return (
    `AWS4-HMAC-SHA256 Credential=${context.credentials.accessKeyId}/20150830/us-east-1/service/aws4_request, ` +
    `SignedHeaders=${vector.signedHeaders}, Signature=${vector.signature}`
  );
}

describe("the client's signer (@smithy/signature-v4) on the AWS SigV4 test suite", () => {
  it.each(SUITE.vectors)('signs $name as published', async (vector) => {
    // Prepare
    const signer = await createSigner({
      region: context.region,
      service: context.service,
      credentials: {
        accessKeyId: context.credentials.accessKeyId as string,
        secretAccessKey: context.credentials.secretAccessKey as string,
        ...(vector.sessionToken ? { sessionToken: vector.sessionToken } : {}),
      },
    });

    // Act
    const headers = await signer.sign(
      { ...vector.request, protocol: 'https:', hostname: 'example.amazonaws.com' },
      new Date(context.timestamp),
    );

    // Assess
    expect(headers.authorization).toBe(authorizationOf(vector));
    expect(headers['x-amz-date']).toBe(AMZ_DATE);
    expect(headers['x-amz-security-token']).toBe(vector.sessionToken);
  });
});

describe("the test's independent verifier on the same suite", () => {
  it.each(SUITE.vectors)('accepts the published signature of $name, and not a changed one', (vector) => {
    // Prepare
    const headers = {
      ...vector.request.headers,
      'x-amz-date': AMZ_DATE,
      ...(vector.sessionToken ? { 'x-amz-security-token': vector.sessionToken } : {}),
    };
    const secrets = {
      [context.credentials.accessKeyId as string]: context.credentials.secretAccessKey as string,
    };
    const scope = { region: 'us-east-1', service: 'service' };
    const tampered = vector.signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));

    // Act
    const good = verify(
      { ...vector.request, headers: { ...headers, authorization: authorizationOf(vector) } },
      secrets,
      scope,
    );
    const bad = verify(
      {
        ...vector.request,
        headers: { ...headers, authorization: authorizationOf({ ...vector, signature: tampered }) },
      },
      secrets,
      scope,
    );

    // Assess
    expect(good).toMatchObject({ ok: true });
    expect(bad).toMatchObject({ ok: false, reason: 'signature does not match' });
  });
});

describe("auth: 'iam' against a verifying discovery API on loopback", () => {
  async function start() {
    registry = await SigningRegistry.start('127.0.90.252', { [KEY.accessKeyId]: KEY.secretAccessKey });
    return registry;
  }

  function iamClient(
    url: string,
    credentials?: ConstructorParameters<ClientModule['RegistryClient']>[0]['credentials'],
  ) {
    const client = new lib.RegistryClient({
      url,
      auth: 'iam',
      region: 'us-east-1',
      ...(credentials ? { credentials } : {}),
    });
    clients.push(client);
    return client;
  }

  it('signs every request with execute-api credentials the verifier accepts', async () => {
    // Prepare
    const server = await start();
    const client = iamClient(server.url, KEY);

    // Act
    const picked = await client.pick('resnet', { label: 'stable' });
    const all = await client.endpoints('résnet', { version: 7 });

    // Assess
    expect(picked.host).toBe('127.0.91.9');
    expect(all.endpoints).toHaveLength(1);
    expect(server.verdicts.map((v) => v.ok)).toEqual([true, true]);
    expect(server.verdicts[0]?.signedHeaders).toBe('host;x-amz-date');
  });

  it('is rejected with a wrong secret key: RegistryRequestError 403', async () => {
    // Prepare
    const server = await start();
    const client = iamClient(server.url, { ...KEY, secretAccessKey: `${KEY.secretAccessKey}x` });

    // Act
    const picking = client.pick('resnet');

    // Assess
    await expect(picking).rejects.toBeInstanceOf(lib.RegistryRequestError);
    await expect(picking).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/does not match/),
    });
    expect(server.verdicts).toEqual([
      expect.objectContaining({ ok: false, reason: 'signature does not match' }),
    ]);
  });

  it('signs the session token of temporary credentials, from a provider function', async () => {
    // Prepare
    const server = await start();
    const provider = vi.fn(async () => ({ ...KEY, sessionToken: 'session-token-123' }));
    const client = iamClient(server.url, provider);

    // Act
    await client.pick('resnet');

    // Assess
    expect(provider).toHaveBeenCalled();
    expect(server.headers[0]?.['x-amz-security-token']).toBe('session-token-123');
    expect(server.verdicts[0]).toMatchObject({
      ok: true,
      signedHeaders: 'host;x-amz-date;x-amz-security-token',
    });
  });

  it("uses the AWS SDK's default provider chain when given no credentials (here: the environment)", async () => {
    // Prepare: environment credentials come first in the chain; nothing else is looked at
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', KEY.secretAccessKey);
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const server = await start();
    const client = iamClient(server.url);

    // Act
    const picked = await client.pick('resnet');

    // Assess
    expect(picked.host).toBe('127.0.91.9');
    expect(server.verdicts[0]).toMatchObject({ ok: true, accessKeyId: KEY.accessKeyId });
  });

  it('fails open when signing starts failing after an answer (expired credentials)', async () => {
    // Prepare
    const server = await start();
    let expired = false;
    const client = new lib.RegistryClient({
      url: server.url,
      auth: 'iam',
      region: 'us-east-1',
      refreshIntervalMs: 30,
      credentials: async () => {
        if (expired) throw new Error('credentials expired');
        return KEY;
      },
    });
    clients.push(client);
    await client.pick('resnet');

    // Act
    expired = true;
    const deadline = Date.now() + 3000;
    while (!(await client.endpoints('resnet')).stale && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // Assess
    expect(await client.endpoints('resnet')).toMatchObject({ stale: true, endpoints: [expect.anything()] });
    expect((await client.pick('resnet')).host).toBe('127.0.91.9');
  });

  it("sends no Authorization header with auth: 'none' (and the verifier refuses it)", async () => {
    // Prepare
    const server = await start();
    const client = new lib.RegistryClient({ url: server.url, auth: 'none' });
    clients.push(client);

    // Act + Assess
    await expect(client.pick('resnet')).rejects.toMatchObject({ status: 403 });
    expect(server.headers[0]?.authorization).toBeUndefined();
    expect(server.verdicts[0]?.reason).toBe('Missing Authentication Token');
  });

  it('takes the region from an execute-api URL, and otherwise needs one', () => {
    // Prepare
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');

    // Act
    const fromUrl = () =>
      new lib.RegistryClient({ url: 'https://a1b2c3.execute-api.eu-west-1.amazonaws.com/v1/', auth: 'iam' });
    const none = () => new lib.RegistryClient({ url: 'http://127.0.0.1:3000', auth: 'iam' });

    // Assess
    expect(fromUrl).not.toThrow();
    expect(none).toThrow(/auth 'iam' needs a region/);
  });
});
