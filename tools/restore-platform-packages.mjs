#!/usr/bin/env node
/**
 * Puts back the lock-file entries of platform-specific optional packages that this workplace's
 * npm registry mirror does not serve (for Biome: the macOS, Windows, Android and musl binaries).
 * npm 11 drops them from package-lock.json when it cannot fetch them, and `npm ci` then rejects
 * the lock file everywhere (npm/cli#9846). Run after any `npm install` that rewrites the lock:
 *
 *   node tools/restore-platform-packages.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;

// `@biomejs/cli-<os>-<cpu>[-musl]`: the only platform-binary family in this tree.
const PLATFORM = /^@biomejs\/cli-(linux|darwin|win32|android)-(x64|arm64)(-musl)?$/;

let restored = 0;
for (const entry of Object.values(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = PLATFORM.exec(name);
    const hoisted = `node_modules/${name}`;
    if (!match || packages[hoisted]) continue;
    const [, os, cpu, musl] = match;
    packages[hoisted] = {
      version,
      cpu: [cpu],
      dev: entry.dev,
      ...(os === 'linux' ? { libc: [musl ? 'musl' : 'glibc'] } : {}),
      license: entry.license,
      optional: true,
      os: [os],
      engines: entry.engines,
    };
    restored += 1;
  }
}

// npm's own order (localeCompare), so the file diffs only by the restored entries.
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en'))),
);
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`restored ${restored} platform package entries`);
