import { isLoopback } from '../../functions/adapters/tfserving/tfserving-client.ts';
import { loadConfig } from '../../functions/domain/settings.ts';
import { type LocalRegistry, startLocalRegistry } from '../../infra/local/local-registry.ts';
import { settingsEnv } from './local-process.ts';

/**
 * The local runtime of `npm start` (`startLocalRegistry`: embedded dynalite, the HTTP front, the
 * probe loop) in this test process, on a free port, its probe confined to loopback addresses.
 * Cheaper than spawning `npm start` when a test is about what the registry answers, not the process.
 */
export interface InProcessRegistry extends LocalRegistry {
  /** POSTs one event or an array to `/events`; the status and the parsed body. */
  post(events: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** GETs a discovery path (`/models/resnet/versions/2`); the status and the parsed body. */
  get(path: string): Promise<{ status: number; body: DiscoveryBody }>;
  /** The hosts a discovery path lists, or its status when that is not 200. */
  hosts(path: string): Promise<string[] | number>;
}

export interface DiscoveryBody {
  readonly endpoints?: readonly { host: string; restPort: number; versions: string[] }[];
  readonly error?: { code: string; message: string };
}

export async function startInProcessRegistry(
  settings: Readonly<Record<string, string | number>>,
): Promise<InProcessRegistry> {
  const registry = await startLocalRegistry({
    config: loadConfig(settingsEnv(settings)),
    port: 0,
    isAllowedProbeHost: isLoopback,
  });
  const get = async (path: string) => {
    const response = await fetch(`${registry.url}${path}`);
    return { status: response.status, body: (await response.json()) as DiscoveryBody };
  };
  return {
    ...registry,
    async post(events) {
      const response = await fetch(`${registry.url}/events`, {
        method: 'POST',
        body: JSON.stringify(events),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    get,
    async hosts(path) {
      const { status, body } = await get(path);
      return status === 200 ? (body.endpoints ?? []).map((endpoint) => endpoint.host) : status;
    },
  };
}
