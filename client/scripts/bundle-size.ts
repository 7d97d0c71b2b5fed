/**
 * Minified bundle sizes of the client (esbuild, ESM, platform node), as an application bundling
 * it would ship it: the core that every user loads, and the SigV4 chunk that only `auth: 'iam'`
 * loads (`import()`), with the SDK's signer and, separately, its default credential provider chain.
 *
 *   npx tsx client/scripts/bundle-size.ts
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const SRC = new URL('../src/', import.meta.url);

export interface ChunkSize {
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface BundleSizes {
  /** `import { RegistryClient } from 'tf-serving-registry-client'`: everything `auth: 'none'` loads. */
  readonly core: ChunkSize;
  /** The lazily imported SigV4 chunk: this package's code plus @smithy/signature-v4 and its SHA-256. */
  readonly signer: ChunkSize;
  /** @aws-sdk/credential-provider-node, loaded only when IAM auth is used without explicit credentials. */
  readonly credentialChain: ChunkSize;
  /** The operator CLI (`bin`), SDK excluded: a separate entry point, never part of the core. */
  readonly cli: ChunkSize;
  /** The source files the core and its lazy chunk are made of (the CLI must not be among them). */
  readonly coreInputs: readonly string[];
}

async function bundle(entry: { path?: string; contents?: string }, external: string[]) {
  const result = await build({
    ...(entry.path !== undefined
      ? { entryPoints: [entry.path] }
      : { stdin: { contents: entry.contents ?? '', resolveDir: new URL('.', SRC).pathname, loader: 'ts' } }),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The house bundling option (style §11): the SDK's ES modules tree-shake, its CJS builds do not.
    mainFields: ['module', 'main'],
    splitting: entry.path !== undefined,
    outdir: '/virtual-out',
    write: false,
    metafile: true,
    external,
    logLevel: 'silent',
  });
  const files = result.outputFiles.map((file) => ({
    path: file.path,
    bytes: file.contents.length,
    gzip: gzipSync(file.contents).length,
  }));
  return Object.assign(files, { inputs: Object.keys(result.metafile.inputs) });
}

const size = (file: { bytes: number; gzip: number }): ChunkSize => ({
  bytes: file.bytes,
  gzipBytes: file.gzip,
});

export async function measureBundleSizes(): Promise<BundleSizes> {
  const SDK = ['@smithy/*', '@aws-sdk/*'];
  const core = await bundle({ path: new URL('index.ts', SRC).pathname }, SDK);
  const entry = core.find((file) => file.path.endsWith('/index.js'));
  if (entry === undefined || core.length !== 2) {
    throw new Error(
      `expected the core and one lazily loaded chunk, got ${core.map((f) => f.path).join(', ')}`,
    );
  }
  const [signer] = await bundle({ contents: "export { createSigner } from './sigv4.ts';" }, [
    '@aws-sdk/credential-provider-node',
  ]);
  const [chain] = await bundle(
    { contents: "export { defaultProvider } from '@aws-sdk/credential-provider-node';" },
    [],
  );
  const cli = (await bundle({ path: new URL('cli.ts', SRC).pathname }, SDK)).find((file) =>
    file.path.endsWith('/cli.js'),
  );
  if (signer === undefined || chain === undefined || cli === undefined)
    throw new Error('esbuild produced no output');
  return {
    core: size(entry),
    signer: size(signer),
    credentialChain: size(chain),
    cli: size(cli),
    coreInputs: core.inputs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = await measureBundleSizes();
  const { coreInputs: _inputs, ...chunks } = sizes;
  for (const [name, s] of Object.entries(chunks)) {
    console.log(
      `${name.padEnd(16)} ${s.bytes.toLocaleString('en').padStart(9)} B minified, ${s.gzipBytes.toLocaleString('en').padStart(8)} B gzip`,
    );
  }
}
