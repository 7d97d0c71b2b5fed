// The package as published: what the tarball holds, what it imports, that a consumer type-checks
// against it, that `auth: 'none'` needs none of its dependencies, that it lets a process exit, and
// its bundle size. The scripted discovery API listens on 127.0.90.253.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { measureBundleSizes } from '../scripts/bundle-size.ts';
import { endpoint, FakeRegistry } from './support/fake-registry.ts';
import { type ClientModule, loadClient } from './support/packed.ts';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** Budgets of the minified bundles (measured: see client/README.md). */
const CORE_BUDGET_BYTES = 20_000;
const SIGNER_BUDGET_BYTES = 40_000;

const packed = inject('packedClient');
const installed = (project: string) => join(project, 'node_modules', 'tf-serving-registry-client');
let registry: FakeRegistry | undefined;

afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

async function fake(): Promise<FakeRegistry> {
  registry = await FakeRegistry.start('127.0.90.253');
  registry.endpoints = [endpoint(1), endpoint(2)];
  return registry;
}

describe('the packed package', () => {
  it('holds the build, its declarations, the README and the manifest, nothing else', () => {
    // Act
    const files = execFileSync('tar', ['-tzf', packed.tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();

    // Assess
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/README.md');
    expect(
      files.filter((f) => !/^package\/(dist\/[a-z0-9-]+\.(js|d\.ts)|README\.md|package\.json)$/.test(f)),
    ).toEqual([]);
  });

  it('imports only its own files and its declared dependencies, and those only lazily', () => {
    // Prepare
    const dist = join(installed(packed.consumer), 'dist');
    const manifest = JSON.parse(readFileSync(join(installed(packed.consumer), 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imports = (file: string, pattern: RegExp) =>
      [...readFileSync(join(dist, file), 'utf8').matchAll(pattern)].map((m) => m[1] as string);

    // Act
    const files = readdirSync(dist).filter((f) => f.endsWith('.js'));
    // Node's own modules (the CLI's node:util) are no dependency.
    const external = (s: string) => !s.startsWith('./') && !s.startsWith('node:');
    const bare = files.flatMap((f) =>
      imports(f, /(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g).filter(external),
    );
    const dynamic = files.flatMap((f) => imports(f, /import\(\s*['"]([^'"]+)['"]\s*\)/g));
    const staticOfSigner = files
      .filter((f) => f !== 'sigv4.js')
      .flatMap((f) => imports(f, /from\s*['"]([^'"]+)['"]/g).filter(external));

    // Assess
    expect(new Set(bare.map((s) => s.replace(/^(@[^/]+\/[^/]+).*$/, '$1')))).toEqual(
      new Set(Object.keys(manifest.dependencies)),
    );
    expect(dynamic).toEqual(expect.arrayContaining(['./sigv4.js', '@aws-sdk/credential-provider-node']));
    expect(staticOfSigner).toEqual([]);
  });

  it('type-checks a strict consumer against its declarations', () => {
    // Prepare
    const consumer = packed.consumer;
    writeFileSync(
      join(consumer, 'use.ts'),
      [
        "import { NoEndpointError, RegistryClient, type ResolvedEndpoint } from 'tf-serving-registry-client';",
        "const registry = new RegistryClient({ url: 'http://127.0.0.1:3000', auth: 'none', refreshIntervalMs: 1000 });",
        "registry.addEventListener('stale', (event) => console.log(event.model, event.asOf));",
        'export async function call(): Promise<string | null> {',
        "  const ep: ResolvedEndpoint = await registry.pick('resnet', { label: 'stable', zone: 'us-east-1a', strategy: 'least-loaded' });",
        '  registry.begin(ep);',
        '  registry.reportSuccess(ep);',
        "  const all = await registry.endpoints('resnet', { version: '2' });",
        '  if (all.stale) console.log(all.asOf);',
        '  try { await registry.pick("x"); } catch (e) { if (e instanceof NoEndpointError) return e.code; }',
        '  registry.close();',
        '  return ep.grpcTarget ?? ep.restUrl;',
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2022'],
          types: ['node'],
          typeRoots: [join(REPO_DIR, 'node_modules', '@types')],
        },
        files: ['use.ts'],
      }),
    );

    // Act
    const run = () =>
      execFileSync(
        process.execPath,
        [join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer],
        {
          encoding: 'utf8',
        },
      );

    // Assess
    expect(run).not.toThrow();
  });

  it("works with none of its dependencies installed when auth is 'none'", async () => {
    // Prepare
    const server = await fake();
    const lib: ClientModule = await loadClient('bare');
    const none = new lib.RegistryClient({ url: server.url, auth: 'none' });
    const iam = new lib.RegistryClient({
      url: server.url,
      auth: 'iam',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    });

    // Act
    const picked = await none.pick('resnet');
    const signed = iam.pick('resnet');

    // Assess
    expect(picked.host).toBe('127.0.91.1');
    await expect(signed).rejects.toThrow(/@smithy\/(core|signature-v4)/);
    none.close();
    iam.close();
  });

  it.each([
    ['without close()', ''],
    ['after close()', 'client.close();'],
  ])('lets the process exit by itself %s, refresh timers running', async (_, ending) => {
    // Prepare
    const server = await fake();
    const script = [
      `const { RegistryClient } = await import(${JSON.stringify(join(packed.consumer, 'entry.mjs'))});`,
      `const client = new RegistryClient({ url: ${JSON.stringify(server.url)}, auth: 'none', refreshIntervalMs: 50 });`,
      "console.log((await client.pick('resnet')).host);",
      'await new Promise((resolve) => setTimeout(resolve, 300));',
      ending,
    ].join('\n');

    // Act
    const started = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await once(child, 'exit');
    clearTimeout(timer);

    // Assess
    expect(signal, output).toBeNull();
    expect(code, output).toBe(0);
    expect(output.trim()).toBe('127.0.91.1');
    expect(server.requests.length).toBeGreaterThan(2); // it did refresh before exiting
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it(`stays small: core ≤ ${CORE_BUDGET_BYTES} B and the SigV4 chunk ≤ ${SIGNER_BUDGET_BYTES} B minified`, async () => {
    // Act
    const sizes = await measureBundleSizes();

    // Assess
    expect(sizes.core.bytes).toBeLessThanOrEqual(CORE_BUDGET_BYTES);
    expect(sizes.signer.bytes).toBeLessThanOrEqual(SIGNER_BUDGET_BYTES);
    expect(sizes.credentialChain.bytes).toBeGreaterThan(sizes.signer.bytes); // why it is loaded only when needed
    expect(sizes.coreInputs.filter((input) => /(^|\/)cli\.ts$/.test(input))).toEqual([]);
    expect(sizes.coreInputs).toEqual(expect.arrayContaining([expect.stringMatching(/registry-client\.ts$/)]));
  });
});
