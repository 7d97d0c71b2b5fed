/**
 * Vitest global setup of the `client` project: packs the package (`npm pack`, which builds it
 * through `prepack`) and installs the tarball into temporary consumer projects, offline:
 * - `consumer`: the tarball extracted into `node_modules/tf-serving-registry-client`, and each
 *   dependency the packed package.json declares linked to this repository's installed copy
 *   (so an undeclared dependency fails to resolve);
 * - `bare`: the tarball alone, no dependency installed (what `auth: 'none'` needs).
 * Tests load the package only through `entry.mjs` there, that is through its `exports`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const CLIENT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const REPO_DIR = join(CLIENT_DIR, '..');

export interface PackedClient {
  readonly tarball: string;
  /** Consumer project with the declared dependencies installed. */
  readonly consumer: string;
  /** Consumer project with the package and nothing else. */
  readonly bare: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    packedClient: PackedClient;
  }
}

function install(root: string, tarball: string, withDependencies: boolean): void {
  const target = join(root, 'node_modules', 'tf-serving-registry-client');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = withDependencies ? Object.keys(manifest.dependencies ?? {}) : [];
  for (const dependency of dependencies) {
    const link = join(root, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(REPO_DIR, 'node_modules', dependency), link, 'dir');
  }
  writeFileSync(
    join(root, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`,
  );
  writeFileSync(join(root, 'entry.mjs'), "export * from 'tf-serving-registry-client';\n");
}

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'tfsr-client-'));
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', root], {
    cwd: CLIENT_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [packed] = JSON.parse(output.slice(output.indexOf('['))) as { filename: string }[];
  if (packed === undefined) throw new Error(`npm pack printed no package: ${output}`);
  const tarball = join(root, packed.filename);
  const consumer = join(root, 'consumer');
  const bare = join(root, 'bare');
  install(consumer, tarball, true);
  install(bare, tarball, false);
  project.provide('packedClient', { tarball, consumer, bare });
  return () => rmSync(root, { recursive: true, force: true });
}
