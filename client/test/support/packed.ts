import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inject } from 'vitest';

/** The package's public surface (types from its source, values from the installed tarball). */
export type ClientModule = typeof import('tf-serving-registry-client');

/** Imports the packed package as a consumer does (`import … from 'tf-serving-registry-client'`). */
export async function loadClient(project: 'consumer' | 'bare' = 'consumer'): Promise<ClientModule> {
  const packed = inject('packedClient');
  const entry = join(project === 'consumer' ? packed.consumer : packed.bare, 'entry.mjs');
  return (await import(pathToFileURL(entry).href)) as ClientModule;
}
