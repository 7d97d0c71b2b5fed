import type { Endpoint, ResolvedEndpoint } from './types.js';

/**
 * What this client knows about one endpoint across every answer it holds: requests in flight
 * (reported by the caller) and passive ejection. Shared by every (model, selector) listing it.
 */
export interface EndpointState {
  inflight: number;
  /** Failures reported in a row (reset by a success); sets the back-off. */
  failures: number;
  /** Epoch ms until which picks skip the endpoint; 0 when not ejected. */
  ejectedUntil: number;
}

export interface Slot {
  readonly endpoint: ResolvedEndpoint;
  readonly state: EndpointState;
}

/** One registry answer made ready for picking: slots in the registry's order, grouped by zone. */
export interface Routing {
  readonly slots: readonly Slot[];
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly zones: ReadonlyMap<string, readonly Slot[]>;
  /** Everything a client routes by (ids, addresses, ports, versions): equal keys, same routing. */
  readonly key: string;
}

export function buildRouting(
  endpoints: readonly Endpoint[],
  stateOf: (id: string) => EndpointState,
): Routing {
  const slots: Slot[] = [];
  const zones = new Map<string, Slot[]>();
  for (const endpoint of endpoints) {
    const slot = { endpoint: resolve(endpoint), state: stateOf(endpoint.id) };
    slots.push(slot);
    const zone = endpoint.availabilityZone;
    if (zone !== null) {
      const list = zones.get(zone);
      if (list === undefined) zones.set(zone, [slot]);
      else list.push(slot);
    }
  }
  const key = JSON.stringify(endpoints.map((e) => [e.id, e.host, e.restPort, e.grpcPort, e.versions]));
  return { slots, endpoints: slots.map((s) => s.endpoint), zones, key };
}

function resolve(endpoint: Endpoint): ResolvedEndpoint {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return Object.freeze({
    ...endpoint,
    versions: Object.freeze([...endpoint.versions]),
    restUrl: `http://${host}:${endpoint.restPort}`,
    grpcTarget: endpoint.grpcPort === null ? null : `${host}:${endpoint.grpcPort}`,
  });
}

/** Power of two choices: two distinct random candidates, the one with fewer requests in flight. */
export function leastLoaded(list: readonly Slot[], n: number): Slot {
  if (n === 1) return list[0] as Slot;
  const i = Math.floor(Math.random() * n);
  let j = Math.floor(Math.random() * (n - 1));
  if (j >= i) j += 1;
  const a = list[i] as Slot;
  const b = list[j] as Slot;
  return b.state.inflight < a.state.inflight ? b : a;
}

/** The slot whose ejection ends first: what a fully ejected list falls back to (fail open). */
export function soonestBack(list: readonly Slot[]): Slot {
  let best = list[0] as Slot;
  for (const slot of list) if (slot.state.ejectedUntil < best.state.ejectedUntil) best = slot;
  return best;
}

/** Back-off of the n-th failure in a row: base, 2 × base, 4 × base, … capped at max. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}
