import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import type { Lifecycle } from '../../domain/lifecycle.ts';
import type { ModelPartition, ModelRegistration, ProbeRecord } from '../../domain/records.ts';

/**
 * How a model snapshot's partition is stored: JSON rows (one tuple per registration, its probe
 * row inline), Brotli-compressed. Read units are charged per 4 KB of item, and a fleet's rows
 * repeat each other (cluster, ARNs' prefixes, ports, versions, labels, times a few seconds apart),
 * so 100 endpoints fit in about 3.5 KB: one read unit for a full answer or a 304. Quality 5 is as
 * small as quality 11 on these inputs at a tenth of the time (measured: 100 rows 3.5 KB in 1.5 ms).
 * A large model's rows are mostly their random task ids, which no quality compresses further:
 * past {@link FAST_ABOVE_JSON_CHARS} quality 1 (measured at 10,000 rows with 32-hex task ids:
 * 285 KB in 11 ms, against 292 KB in 120 ms at quality 5; a rebuild runs up to once a second).
 */

// 2: one marker per probe shard (`rounds`); a format-1 body reads as no snapshot (the partition is read).
const FORMAT = 2;
const QUALITY = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } };
const FAST_QUALITY = { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } };
const FAST_ABOVE_JSON_CHARS = 256 * 1024;

type ProbeRow = [
  versions: string[],
  labels: Record<string, string>,
  lastSuccessAt: number | null,
  probedAt: number,
  consecutiveFailures: number,
  expiresAt: number | null,
];
type RegistrationRow = [
  endpointId: string,
  taskArn: string,
  clusterArn: string,
  availabilityZone: string | null,
  host: string | null,
  restPort: number | null,
  grpcPort: number | null,
  taskVersion: number,
  lifecycle: Lifecycle,
  probe: ProbeRow | null,
];
interface Body {
  readonly format: typeof FORMAT;
  readonly model: string;
  /** Each probe shard's marker: its times, and its shard (null for the whole fleet's). */
  readonly rounds: [startedAt: number, recordedAt: number, shard: [index: number, count: number] | null][];
  readonly rows: RegistrationRow[];
}

/** The partition as the snapshot item's `body`. Probe rows without a registration are left out. */
export function encodePartition(model: string, partition: ModelPartition): Uint8Array {
  const probes = new Map(partition.probes.map((p) => [p.endpointId, p]));
  const body: Body = {
    format: FORMAT,
    model,
    rounds: partition.rounds.map((round) => [
      round.startedAt,
      round.recordedAt,
      round.shard === undefined ? null : [round.shard.index, round.shard.count],
    ]),
    rows: partition.registrations.map((r) => {
      const probe = probes.get(r.endpointId);
      return [
        r.endpointId,
        r.taskArn,
        r.clusterArn,
        r.availabilityZone ?? null,
        r.host ?? null,
        r.restPort ?? null,
        r.grpcPort,
        r.taskVersion,
        r.lifecycle,
        probe === undefined
          ? null
          : [
              [...probe.versions],
              { ...probe.labels },
              probe.lastSuccessAt ?? null,
              probe.probedAt,
              probe.consecutiveFailures,
              probe.expiresAt ?? null,
            ],
      ];
    }),
  };
  const json = JSON.stringify(body);
  return brotliCompressSync(json, json.length > FAST_ABOVE_JSON_CHARS ? FAST_QUALITY : QUALITY);
}

/** The partition back from a `body`; undefined when it is not one this code wrote (another format, corrupt). */
export function decodePartition(model: string, encoded: Uint8Array): ModelPartition | undefined {
  let body: Body;
  try {
    body = JSON.parse(brotliDecompressSync(encoded).toString('utf8')) as Body;
  } catch {
    return undefined;
  }
  if (
    body?.format !== FORMAT ||
    body.model !== model ||
    !Array.isArray(body.rows) ||
    !Array.isArray(body.rounds)
  ) {
    return undefined;
  }
  const registrations: ModelRegistration[] = [];
  const probes: ProbeRecord[] = [];
  for (const [
    endpointId,
    taskArn,
    clusterArn,
    zone,
    host,
    restPort,
    grpcPort,
    taskVersion,
    lifecycle,
    probe,
  ] of body.rows) {
    registrations.push({
      endpointId,
      model,
      taskArn,
      clusterArn,
      availabilityZone: zone ?? undefined,
      host: host ?? undefined,
      restPort: restPort ?? undefined,
      grpcPort,
      taskVersion,
      lifecycle,
    });
    if (probe === null) continue;
    const [versions, labels, lastSuccessAt, probedAt, consecutiveFailures, expiresAt] = probe;
    probes.push({
      endpointId,
      model,
      versions,
      labels,
      lastSuccessAt: lastSuccessAt ?? undefined,
      probedAt,
      consecutiveFailures,
      lastError: undefined,
      expiresAt: expiresAt ?? undefined,
    });
  }
  const rounds = body.rounds.map(([startedAt, recordedAt, shard]) => ({
    startedAt,
    recordedAt,
    seen: new Map<string, number>(),
    ...(shard === null ? {} : { shard: { index: shard[0], count: shard[1] } }),
  }));
  return { registrations, probes, rounds };
}
