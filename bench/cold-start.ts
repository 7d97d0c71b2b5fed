/**
 * Benchmark 4, cold start: each function bundled with the house esbuild options (`HOUSE_BUNDLING`
 * of `infra/aws/constructs/app-function.ts`, passed the way CDK's NodejsFunction passes them), then
 * its module init (the time of `await import(bundle)`) in fresh `node` processes, round-robin with
 * the floor: a handler bundled the same way that only imports `@aws-sdk/client-dynamodb` and
 * creates a client. Measured as deployed (`NODE_OPTIONS=--enable-source-maps`, which AppFunction
 * sets) and without source maps.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { median, ratio, round } from './lib/stats.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const FUNCTIONS = {
  'ecs-events': 'functions/ecs-events/handler.ts',
  probe: 'functions/probe/handler.ts',
  discovery: 'functions/discovery/handler.ts',
} as const;

const FLOOR_SOURCE = `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const client = new DynamoDBClient({});
export const handler = async () => ({ region: await client.config.region() });
`;

export interface BundleFigures {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  /** Largest inputs by bytes in the output. */
  readonly topInputs: { readonly path: string; readonly bytes: number }[];
  /** Median module init (ms), as deployed (source maps on) and without. */
  readonly initMs: { readonly sourceMaps: number; readonly plain: number };
  readonly initSamples: { readonly sourceMaps: number[]; readonly plain: number[] };
}

export interface ColdStartResult {
  readonly node: string;
  readonly runs: number;
  readonly esbuild: Record<string, unknown>;
  readonly floor: BundleFigures;
  readonly functions: (BundleFigures & { readonly ratio: number; readonly ratioPlain: number })[];
}

async function houseOptions(): Promise<BuildOptions> {
  // The CDK module is loaded only for its constant, so the options cannot drift from the stack's.
  const { HOUSE_BUNDLING } = await import('../infra/aws/constructs/app-function.ts');
  return {
    bundle: true,
    platform: 'node',
    format: HOUSE_BUNDLING.format as 'esm',
    target: HOUSE_BUNDLING.target,
    minify: HOUSE_BUNDLING.minify,
    sourcemap: HOUSE_BUNDLING.sourceMap,
    sourcesContent: HOUSE_BUNDLING.sourcesContent,
    keepNames: HOUSE_BUNDLING.keepNames,
    mainFields: [...HOUSE_BUNDLING.mainFields],
    external: [...HOUSE_BUNDLING.externalModules],
    logLevel: 'error',
    metafile: true,
  };
}

async function bundle(
  options: BuildOptions,
  name: string,
  dir: string,
  entry: { path: string } | { source: string },
): Promise<{ file: string; figures: Omit<BundleFigures, 'initMs' | 'initSamples'> }> {
  const outfile = join(dir, name, 'index.mjs');
  const result = await build({
    ...options,
    ...('path' in entry
      ? { entryPoints: [join(ROOT, entry.path)] }
      : {
          stdin: { contents: entry.source, resolveDir: ROOT, sourcefile: 'floor-handler.mjs', loader: 'js' },
        }),
    outfile,
    absWorkingDir: ROOT,
  });
  const output = Object.entries(result.metafile?.outputs ?? {}).find(([path]) =>
    path.endsWith('index.mjs'),
  )?.[1];
  const topInputs = Object.entries(output?.inputs ?? {})
    .map(([path, input]) => ({ path, bytes: input.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
  return {
    file: outfile,
    figures: {
      name,
      bytes: statSync(outfile).size,
      gzipBytes: gzipSync(readFileSync(outfile), { level: 9 }).length,
      sourceMapBytes: statSync(`${outfile}.map`).size,
      topInputs,
    },
  };
}

/** One fresh `node` process importing the bundle; the import's duration in ms. */
async function initOnce(file: string, sourceMaps: boolean): Promise<number> {
  const script =
    `const t0 = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(file).href)});` +
    `const ms = performance.now() - t0; if (typeof m.handler !== 'function') throw new Error('no handler');` +
    'process.stdout.write(JSON.stringify({ ms })); process.exit(0);';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: join(file, '..'),
    timeout: 30_000,
    // What Lambda would set; dummy credentials; no endpoint, nothing of this machine's environment.
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDBENCHMARK',
      AWS_SECRET_ACCESS_KEY: 'bench',
      TABLE_NAME: 'tf-serving-registry',
      POWERTOOLS_SERVICE_NAME: 'tf-serving-registry',
      POWERTOOLS_METRICS_NAMESPACE: 'TfServingRegistry',
      NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '',
    },
  });
  return (JSON.parse(stdout) as { ms: number }).ms;
}

export async function benchColdStart(options: {
  runs: number;
  log?: (line: string) => void;
}): Promise<ColdStartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tfsr-bench-bundles-'));
  try {
    const esbuildOptions = await houseOptions();
    const built = [
      await bundle(esbuildOptions, 'floor', dir, { source: FLOOR_SOURCE }),
      ...(await Promise.all(
        Object.entries(FUNCTIONS).map(([name, path]) => bundle(esbuildOptions, name, dir, { path })),
      )),
    ];
    const samples = built.map(() => ({ sourceMaps: [] as number[], plain: [] as number[] }));
    // One warm-up import each (file cache), then round-robin so every bundle sees the same machine.
    for (const b of built) await initOnce(b.file, true);
    for (let i = 0; i < options.runs; i += 1) {
      for (const [index, b] of built.entries()) {
        const s = samples[index] as (typeof samples)[number];
        s.sourceMaps.push(round(await initOnce(b.file, true), 2));
        s.plain.push(round(await initOnce(b.file, false), 2));
      }
    }
    const figures = built.map((b, index) => {
      const s = samples[index] as (typeof samples)[number];
      return {
        ...b.figures,
        initMs: { sourceMaps: round(median(s.sourceMaps), 2), plain: round(median(s.plain), 2) },
        initSamples: s,
      };
    });
    const [floor, ...functions] = figures as [BundleFigures, ...BundleFigures[]];
    const result: ColdStartResult = {
      node: process.version,
      runs: options.runs,
      esbuild: Object.fromEntries(Object.entries(esbuildOptions).filter(([key]) => key !== 'metafile')),
      floor,
      functions: functions.map((f) => ({
        ...f,
        ratio: ratio(f.initMs.sourceMaps, floor.initMs.sourceMaps),
        ratioPlain: ratio(f.initMs.plain, floor.initMs.plain),
      })),
    };
    for (const f of result.functions) {
      options.log?.(
        `cold start ${f.name}: ${round(f.bytes / 1024, 0)} KiB, init ${f.initMs.sourceMaps} ms (×${f.ratio} floor ${floor.initMs.sourceMaps} ms)`,
      );
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
