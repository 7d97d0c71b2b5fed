import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES } from '../../infra/aws/constructs/app-function.ts';
import { buildStack, resourcesOf } from './synth.ts';

const execFileAsync = promisify(execFile);

// Synthesizes with bundling on: every function is bundled by the local esbuild with exactly the
// house options of AppFunction (never Docker: there is none here).
const outdir = mkdtempSync(join(tmpdir(), 'tfsr-bundles-'));
const { template } = buildStack({ 'aws:cdk:enable-asset-metadata': true }, { bundling: true, outdir });
const functions = Object.entries(resourcesOf(template))
  .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
  .map(([id, resource]) => ({
    id,
    name: String(resource.Properties?.FunctionName),
    handler: String(resource.Properties?.Handler),
    assetDir: join(outdir, String((resource.Metadata as Record<string, unknown>)['aws:asset:path'])),
  }));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('function bundles (local esbuild, house options)', () => {
  it('bundles the five functions', () => {
    expect(functions.map((fn) => fn.name).sort()).toEqual([
      'TfServingRegistry-discovery',
      'TfServingRegistry-ecs-events',
      'TfServingRegistry-probe',
      'TfServingRegistry-probe-shard',
      'TfServingRegistry-reconcile',
    ]);
  });

  it.each(functions)(
    '$name is one minified ESM file with a source map, within budget',
    ({ name, assetDir, handler }) => {
      const bundle = join(assetDir, 'index.mjs');
      expect(handler).toBe('index.handler');
      expect(existsSync(bundle), `${bundle} (asset of ${name})`).toBe(true);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      const size = statSync(bundle).size;
      console.info(
        `${name}: index.mjs ${(size / 1024).toFixed(0)} KiB, source map ${(statSync(`${bundle}.map`).size / 1024).toFixed(0)} KiB`,
      );
      expect(size).toBeLessThan(BUNDLE_BUDGET_BYTES);
    },
  );

  it.each(functions)(
    '$name loads in a fresh Node process and exports a handler function',
    async ({ assetDir }) => {
      const url = pathToFileURL(join(assetDir, 'index.mjs')).href;
      const script = `const m = await import(${JSON.stringify(url)}); console.log(typeof m.handler); process.exit(0);`;
      const { stdout } = await execFileAsync(
        process.execPath,
        ['--enable-source-maps', '--input-type=module', '-e', script],
        {
          cwd: assetDir,
          timeout: 30_000,
          // Only what Lambda would set: no AWS credentials, no dev tooling on the module path.
          env: {
            PATH: process.env.PATH ?? '',
            AWS_REGION: 'us-east-1',
            TABLE_NAME: 'tf-serving-registry',
            POWERTOOLS_SERVICE_NAME: 'tf-serving-registry',
            POWERTOOLS_METRICS_NAMESPACE: 'TfServingRegistry',
            POWERTOOLS_LOG_LEVEL: 'SILENT',
            NODE_OPTIONS: '',
          },
        },
      );
      expect(stdout.trim()).toBe('function');
    },
  );
});
