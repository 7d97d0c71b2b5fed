/**
 * The README's configuration table, rendered from the settings tables (the registry's and local
 * mode's), so the README cannot drift from what the code accepts. `npm run docs:settings`
 * rewrites the table in README.md; `test/unit/docs/settings-table.test.ts` fails when it differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SETTINGS, type SettingSpec } from '../../functions/domain/settings.ts';
import { LOCAL_SETTINGS } from '../../infra/local/local-settings.ts';

export const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- settings-table:start (npm run docs:settings) -->';
const END = '<!-- settings-table:end -->';

function defaultCell(spec: SettingSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
  return `\`${value}\``;
}

function meaningCell(spec: SettingSpec): string {
  const scope = spec.delivery === 'local-mode-only' ? 'local mode only: ' : '';
  const allowed =
    spec.kind === 'whole-number'
      ? ` (${spec.min}–${spec.max})`
      : spec.kind === 'list'
        ? ` (comma-separated${spec.itemPattern ? ` ${spec.items}` : ''})`
        : '';
  return `${scope}${spec.meaning}${allowed}${spec.note ? `; ${spec.note}` : ''}`;
}

export function renderSettingsTable(): string {
  const specs: [string, SettingSpec][] = [...Object.entries(SETTINGS), ...Object.entries(LOCAL_SETTINGS)];
  return [
    '| name | default | meaning |',
    '| --- | --- | --- |',
    ...specs.map(([name, spec]) => `| \`${name}\` | ${defaultCell(spec)} | ${meaningCell(spec)} |`),
  ].join('\n');
}

/** The table as the README has it now (between the markers), or undefined without markers. */
export function readmeSettingsTable(readme: string): string | undefined {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + START.length, end).trim();
}

function rewriteReadme(): void {
  const readme = readFileSync(README, 'utf8');
  if (readmeSettingsTable(readme) === undefined) throw new Error(`README.md has no ${START} … ${END} block`);
  const start = readme.indexOf(START) + START.length;
  const end = readme.indexOf(END);
  writeFileSync(README, `${readme.slice(0, start)}\n${renderSettingsTable()}\n${readme.slice(end)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) rewriteReadme();
