import { BUNDLE_BUDGET_BYTES } from '../infra/aws/constructs/app-function.ts';
import type { ClientResult } from './client.ts';
import type { ColdStartResult } from './cold-start.ts';
import { type CostMeasurements, type CostModel, FLEET } from './cost-model.ts';
import type { DiscoveryResult } from './discovery.ts';
import type { FreshnessSettings, Scenario } from './freshness.ts';
import { type Distribution, round } from './lib/stats.ts';
import type { ProbeFleetResult } from './probe-fleet.ts';
import type { ProbeRoundResult } from './probe-round.ts';

/** The issue's targets, checked against one run's figures, and the Markdown summary. */

const usd = (value: number) =>
  `$${value.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;

const FLEET_LABEL = `${FLEET.tasks} tasks × ${FLEET.models.length} models, ${FLEET.discoveryCallsPerSecond} discovery calls/s`;

export interface FreshnessResult {
  readonly settings: FreshnessSettings;
  readonly trials: number;
  readonly results: Partial<Record<Scenario, Distribution>>;
}

export interface BenchResults {
  readonly meta: Record<string, unknown>;
  discovery?: DiscoveryResult[];
  probe?: ProbeRoundResult[];
  freshness?: { short: FreshnessResult; defaults?: FreshnessResult };
  coldStart?: ColdStartResult;
  cost?: { measurements: CostMeasurements; model: CostModel; prices: unknown; assumptions: unknown };
  client?: ClientResult;
  probeFleet?: ProbeFleetResult;
  errors: { benchmark: string; message: string }[];
  targets?: TargetCheck[];
}

export interface TargetCheck {
  readonly benchmark: string;
  readonly what: string;
  readonly figure: string;
  readonly target: string;
  readonly met: boolean | null;
}

export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const add = (benchmark: string, what: string, figure: string, target: string, met: boolean | null) =>
    checks.push({ benchmark, what, figure, target, met });

  for (const d of r.discovery ?? []) {
    const label = `${d.engine}, N=${d.endpoints}`;
    add(
      'discovery',
      `handler p50 / bare partition Query p50 (${label})`,
      `${d.handler.p50} / ${d.bareQuery.p50} ms = ×${d.ratio}`,
      '(reported: the read path before snapshots)',
      null,
    );
    if (d.endpoints === 100) {
      add(
        'discovery',
        `read units per full answer (${label})`,
        `${d.readUnitsPerCall} RRU in ${d.readsPerCall} read(s) → ${d.callsPerSecondPerPartition.toLocaleString('en')} calls/s per partition`,
        '≤ 4 RRU (≥ 750 calls/s)',
        d.readUnitsPerCall <= 4,
      );
      add(
        'discovery',
        `read units per 304 (${label})`,
        `${d.readUnitsPer304} RRU`,
        '≤ 1 RRU',
        d.readUnitsPer304 <= 1,
      );
      if (d.http) {
        add(
          'discovery',
          `HTTP req/s vs a bare node:http server, same bytes, ${d.http.full.connections} connections (${label})`,
          `${d.http.full.requestsPerSecond} vs ${d.http.floor.requestsPerSecond} req/s = ×${d.http.ratioToFloor}; p99 ${d.http.full.p99} vs ${d.http.floor.p99} ms`,
          '≥ ×0.5',
          d.http.ratioToFloor >= 0.5,
        );
      }
    }
    const http = d.http;
    add(
      'discovery',
      `304 vs full answer (${label})`,
      `${
        http
          ? `HTTP ${http.notModified.requestsPerSecond} vs ${http.full.requestsPerSecond} req/s, ` +
            `${http.notModified.bytesPerResponse} vs ${http.full.bytesPerResponse} B; `
          : ''
      }in-process p50 ×${d.ratio304}`,
      '304 cheaper: fewer bytes, HTTP req/s ≥ full answer',
      http
        ? http.notModified.bytesPerResponse < http.full.bytesPerResponse &&
            http.notModified.requestsPerSecond >= http.full.requestsPerSecond
        : null,
    );
  }
  for (const engine of new Set((r.discovery ?? []).map((d) => d.engine))) {
    const at = (n: number) => r.discovery?.find((d) => d.engine === engine && d.endpoints === n);
    const [small, large] = [at(10), at(1000)];
    if (small && large) {
      const growth = round(large.handler.p50 / small.handler.p50, 2);
      add(
        'discovery',
        `handler p50 at N=1,000 / at N=10 (${engine})`,
        `${large.handler.p50} / ${small.handler.p50} ms = ×${growth}`,
        '≤ ×5',
        growth <= 5,
      );
    }
  }

  for (const p of r.probe ?? []) {
    const label = `${p.engine}, K=${p.endpoints} × 2 models`;
    add(
      'probe',
      `round / bare fan-out, medians (${label})`,
      `${p.roundMs.median} / ${p.floorMs.median} ms = ×${p.ratio}`,
      '≤ ×1.5',
      p.ratio <= 1.5,
    );
    if (p.endpoints === 1000) {
      add(
        'probe',
        `K=1,000 round wall time (${p.engine})`,
        `${p.roundMs.median} ms`,
        '≤ 5,000 ms',
        p.roundMs.median <= 5000,
      );
    }
  }

  const short = r.freshness?.short;
  if (short) {
    const s = short.settings;
    const bound = (s.failureThreshold * s.intervalSeconds * 1000 + s.timeoutMs) * 1.1;
    const f = short.results;
    if (f.drain)
      add('freshness', 'drain accepted → excluded (max)', fmtDist(f.drain), '≤ 50 ms', f.drain.max <= 50);
    if (f['silent-death']) {
      add(
        'freshness',
        'silent death → excluded (max)',
        fmtDist(f['silent-death']),
        `≤ ${bound} ms`,
        f['silent-death'].max <= bound,
      );
    }
    if (f.hang)
      add(
        'freshness',
        'hang → excluded (max)',
        fmtDist(f.hang),
        `≤ ${bound} ms (same bound)`,
        f.hang.max <= bound,
      );
    if (f['running-to-discoverable']) {
      const d = f['running-to-discoverable'];
      add('freshness', 'RUNNING (AVAILABLE) → discoverable (max)', fmtDist(d), '≤ 1,000 ms', d.max <= 1000);
    }
    if (f.recovery)
      add('freshness', 'recovery → served again (max)', fmtDist(f.recovery), '(no target)', null);
  }
  const defaults = r.freshness?.defaults;
  if (defaults?.results['silent-death']) {
    const d = defaults.results['silent-death'];
    add('freshness', 'defaults: silent death → excluded (max)', fmtDist(d), '≤ 10,000 ms', d.max <= 10_000);
  }
  if (defaults?.results.hang) {
    const d = defaults.results.hang;
    add('freshness', 'defaults: hang → excluded (max)', fmtDist(d), '≤ 10,000 ms', d.max <= 10_000);
  }

  const cold = r.coldStart;
  for (const f of cold?.functions ?? []) {
    add(
      'cold start',
      `${f.name} module init / floor (as deployed, source maps on)`,
      `${f.initMs.sourceMaps} / ${cold?.floor.initMs.sourceMaps} ms = ×${f.ratio} (plain ×${f.ratioPlain})`,
      '≤ ×1.5',
      f.ratio <= 1.5 && f.ratioPlain <= 1.5,
    );
    add(
      'cold start',
      `${f.name} bundle, minified`,
      `${f.bytes.toLocaleString('en')} B (gzip ${f.gzipBytes.toLocaleString('en')} B)`,
      `≤ ${BUNDLE_BUDGET_BYTES.toLocaleString('en')} B`,
      f.bytes <= BUNDLE_BUDGET_BYTES,
    );
  }

  const cost = r.cost;
  if (cost) {
    const { measurements: m, model } = cost;
    const { rest, http } = model.variants;
    const { perMillionCalls: perMillion, standing } = model.targets;
    add(
      'cost',
      'per million discovery calls: REST API / HTTP API',
      `${usd(rest.perMillionCalls.totalUsd)} / ${usd(http.perMillionCalls.totalUsd)} (Cloud Map ${usd(model.cloudMap.perMillionCallsUsd)})`,
      '(reported)',
      null,
    );
    add(
      'cost',
      'per million discovery calls with the HTTP API, vs Cloud Map',
      `${usd(perMillion.oursUsd)} vs ${usd(model.cloudMap.perMillionCallsUsd)} = ×${perMillion.ratio}`,
      `≤ ×1.5 Cloud Map (${usd(perMillion.limitUsd)})`,
      perMillion.met,
    );
    add(
      'cost',
      `standing cost a month (probe, reconcile, events, storage; no discovery traffic) vs Cloud Map's instance charge (${model.cloudMap.instances} instances)`,
      `${usd(standing.oursUsd)} vs ${usd(standing.limitUsd)} = ×${standing.ratio}`,
      "≤ Cloud Map's instance charge",
      standing.met,
    );
    const sizing = model.probeSizing;
    add(
      'cost',
      `probe CPU a round for a full share (${sizing.targetsPerShare} targets) at its ${sizing.memoryMb} MB, of the interval`,
      `${sizing.shareRoundCpuMs.toLocaleString('en')} ms of ${sizing.intervalMs.toLocaleString('en')} ms = ×${sizing.ofInterval}`,
      `≤ ×${sizing.limit} (the size is what the standing cost bills)`,
      sizing.met,
    );
    add(
      'cost',
      `monthly, ${FLEET_LABEL}, defaults: REST API / HTTP API`,
      `${usd(rest.monthly.totalUsd)} / ${usd(http.monthly.totalUsd)} (Cloud Map ${usd(model.cloudMap.totalUsd)})`,
      '(reported; no numeric target)',
      null,
    );
    add(
      'cost',
      'writes per endpoint-model per minute (steady)',
      `${m.writesPerEndpointModelPerMinute}`,
      '(reported)',
      null,
    );
    add(
      'cost',
      'reads per discovery call',
      `${readsText(m)}, ${m.discovery.readUnitsPerCall} RRU`,
      '(reported)',
      null,
    );
  }
  const client = r.client;
  if (client) {
    const p = client.pick;
    add(
      'client',
      `pick from memory, round-robin, ${p.endpoints} endpoints (ns per await client.pick())`,
      `${p.roundRobinNs} ns vs bare array pick ${p.floorNs} ns = ×${p.ratio} (×${p.ratioToAwaitedFloor} an awaited array pick, ${p.awaitedFloorNs} ns)`,
      '≤ 1,000 ns (reported ratio)',
      p.roundRobinNs <= 1000,
    );
    add(
      'client',
      'registry requests per client per minute, default refresh (1 s ± 10 %)',
      `${client.requests.perClientPerMinute} (${round(client.requests.notModifiedShare * 100, 1)} % 304s)`,
      '≤ 66 (one a refresh), mostly 304s',
      client.requests.perClientPerMinute <= 66 && client.requests.notModifiedShare >= 0.9,
    );
    const d = client.death;
    add(
      'client',
      'silent death → not picked, with passive ejection (max)',
      `${fmtDist(d.withEjection)}; ${d.picksAfterEjection} picks of it in the second after`,
      'within the one failed request; 0 picks after',
      d.picksAfterEjection === 0,
    );
    const bound =
      (d.settings.failureThreshold * d.settings.intervalSeconds * 1000 +
        d.settings.timeoutMs +
        d.settings.refreshMs * 1.1) *
      1.1;
    add(
      'client',
      'silent death → not picked, without ejection (max)',
      fmtDist(d.withoutEjection),
      `≤ exclusion + one refresh (+10 %): ${round(bound, 0)} ms`,
      d.withoutEjection.max <= bound,
    );
    add(
      'client',
      'bundle, minified: core / SigV4 chunk (loaded only for IAM)',
      `${client.bundle.core.bytes.toLocaleString('en')} B / ${client.bundle.signer.bytes.toLocaleString('en')} B (credential chain ${client.bundle.credentialChain.bytes.toLocaleString('en')} B)`,
      '≤ 20,000 B / ≤ 40,000 B',
      client.bundle.core.bytes <= 20_000 && client.bundle.signer.bytes <= 40_000,
    );
  }
  const fleet = r.probeFleet;
  if (fleet) {
    const label = `K=${fleet.endpoints.toLocaleString('en')} × 2 models, local runtime, defaults`;
    const intervalMs = fleet.settings.intervalSeconds * 1000;
    add(
      'probe at fleet scale',
      `round duration p50 / max (${label})`,
      `${fleet.roundMs.p50} / ${fleet.roundMs.max} ms (${fleet.roundMs.samples} rounds); bare fan-out p50 ${fleet.floorMs.p50} ms, round ×${fleet.ratio}`,
      `≤ the ${intervalMs.toLocaleString('en')} ms interval`,
      fleet.roundMs.max <= intervalMs,
    );
    const d = fleet.deadToExcluded;
    add(
      'probe at fleet scale',
      `silent death → excluded (${label})`,
      `p50 ${d.p50} / max ${d.max} ms (${d.samples} trials; a discovery call took p50 ${fleet.discoveryCallMs.p50} / max ${fleet.discoveryCallMs.max} ms)`,
      '≤ 10,000 ms',
      d.max <= 10_000,
    );
    add(
      'probe at fleet scale',
      `peak RSS (${label})`,
      `registry ${fleet.memory.registryPeakMiB} MiB (steady rounds ${fleet.memory.registrySteadyPeakMiB} MiB); stand-ins ${fleet.memory.standInPeakMiB.join(' + ')} MiB`,
      '(reported)',
      null,
    );
  }
  return checks;
}

/** `1 Query` or `1 GetItem + 0.5 Query`: the read operations of a discovery call, as measured. */
const readsText = (m: CostMeasurements) =>
  Object.entries(m.discovery.readsByCommand)
    .map(([command, count]) => `${count} ${command.replace(/Command$/, '')}`)
    .join(' + ') || 'no reads';

/** Benchmark 5 in Markdown: the REST and HTTP API variants side by side, beside Cloud Map. */
function costSection(m: CostMeasurements, model: CostModel): string[] {
  const { rest, http } = model.variants;
  const out: string[] = ['', '## 5. Cost', ''];
  out.push(
    `Counted on ${m.engine} with ${m.targets} endpoint-models at the default settings (interval ${m.settings.intervalSeconds} s): ` +
      `${m.perRound.writes} writes (${m.perRound.writeUnits} WRU) and ${m.perRound.reads} reads (${m.perRound.readUnits} RRU) per probe round ` +
      `→ **${m.writesPerEndpointModelPerMinute} writes per endpoint-model per minute**; a discovery call = ` +
      `**${readsText(m)}, ${m.discovery.readUnitsPerCall} RRU** (measured: the model takes it as it is), ` +
      `answer ${m.discovery.answerBytes.toLocaleString('en')} B; a steady reconcile round: reads ${m.reconcile.reads} (${m.reconcile.readUnits} RRU), ` +
      `writes ${m.reconcile.writes}, ECS calls ${m.reconcile.ecsCalls}; the table: ${m.storage.items} items, ` +
      `${m.storage.bytes.toLocaleString('en')} B billed. RUNNING event ${m.events.runningWrites} writes, drain ${m.events.drainWrites} writes + ${m.events.drainReads} read.`,
  );

  const t = model.targets;
  const sizing = model.probeSizing;
  out.push(
    '',
    `- ${t.perMillionCalls.met ? '✅ met' : '❌ not met'}: ${t.perMillionCalls.what}: ${usd(t.perMillionCalls.oursUsd)} vs ${usd(model.cloudMap.perMillionCallsUsd)} (×${t.perMillionCalls.ratio}; limit ${usd(t.perMillionCalls.limitUsd)}).`,
    `- ${t.standing.met ? '✅ met' : '❌ not met'}: ${t.standing.what}: ${usd(t.standing.oursUsd)} vs ${usd(t.standing.limitUsd)} a month (×${t.standing.ratio}).`,
    `- ${mark(sizing.met)}: the probe's size carries a full share: ${sizing.targetsPerShare} targets × ${sizing.cpuMsPerTarget} ms CPU each (measured here) at ${sizing.memoryMb} MB (${sizing.cpuShare} vCPU) = ${sizing.shareRoundCpuMs.toLocaleString('en')} ms a round, ×${sizing.ofInterval} of the ${sizing.intervalMs / 1000} s interval (limit ×${sizing.limit}).`,
  );

  out.push(
    '',
    '| per million discovery calls | REST API | HTTP API | Cloud Map |',
    '| --- | --- | --- | --- |',
  );
  const [restApiLine, ...shared] = rest.perMillionCalls.lines;
  const [httpApiLine] = http.perMillionCalls.lines;
  out.push(
    `| API Gateway requests (HTTP API: ${httpApiLine?.item.replace(/^[^(]*\(/, '').replace(/\)$/, '')}) | ${usd(restApiLine?.usd ?? 0)} | ${usd(httpApiLine?.usd ?? 0)} | – |`,
  );
  for (const l of shared) out.push(`| ${l.item} | ${usd(l.usd)} | ${usd(l.usd)} | – |`);
  out.push(`| DiscoverInstances calls | – | – | ${usd(model.cloudMap.perMillionCallsUsd)} |`);
  out.push(
    `| **total** | **${usd(rest.perMillionCalls.totalUsd)}** | **${usd(http.perMillionCalls.totalUsd)}** | **${usd(model.cloudMap.perMillionCallsUsd)}** |`,
  );

  const traffic = (v: typeof rest) => round(v.monthly.totalUsd - model.standing.totalUsd, 2);
  out.push(
    '',
    `| monthly (730 h), ${FLEET_LABEL} | REST API | HTTP API | Cloud Map |`,
    '| --- | --- | --- | --- |',
    `| discovery traffic (${model.callsPerMonth.toLocaleString('en')} calls) | ${usd(traffic(rest))} | ${usd(traffic(http))} | ${usd(round(model.cloudMap.totalUsd - model.cloudMap.instancesUsd, 2))} |`,
    `| standing: this registry with no traffic / Cloud Map's ${model.cloudMap.instances} registered instances | ${usd(model.standing.totalUsd)} | ${usd(model.standing.totalUsd)} | ${usd(model.cloudMap.instancesUsd)} |`,
    `| **total** | **${usd(rest.monthly.totalUsd)}** | **${usd(http.monthly.totalUsd)}** | **${usd(model.cloudMap.totalUsd)}** |`,
  );

  out.push('', '| standing cost, a month (no discovery traffic) | quantity | USD |', '| --- | --- | --- |');
  for (const l of model.standing.lines)
    out.push(`| ${l.item} | ${l.quantity.toLocaleString('en')} ${l.unit} | ${l.usd} |`);
  out.push(`| **standing, total** | | **${model.standing.totalUsd}** |`);
  for (const l of model.cloudMap.lines)
    out.push(`| Cloud Map: ${l.item} | ${l.quantity.toLocaleString('en')} ${l.unit} | ${l.usd} |`);

  out.push('', '| other variants of this registry | monthly USD | note |', '| --- | --- | --- |');
  for (const v of model.otherVariants) out.push(`| ${v.name} | ${v.totalUsd} | ${v.note} |`);
  out.push(
    '',
    `Probe writes cost more than discovery reads below ${model.writesDominateBelowCallsPerSecond} discovery calls/s. ${model.cloudMap.note} ${model.notCounted}`,
    '',
    'Prices (USD, us-east-1, read from stored copies of public pages; see `bench/prices.ts` for each source and its date) ' +
      'and assumptions are in the JSON file next to this one.',
  );
  return out;
}

const fmtDist = (d: Distribution) => `p50 ${d.p50} / p99 ${d.p99} / max ${d.max} ms (${d.samples} trials)`;
const mark = (met: boolean | null) => (met === null ? '–' : met ? '✅ met' : '❌ not met');

export function markdown(r: BenchResults): string {
  const out: string[] = [];
  const meta = r.meta;
  out.push(`# Benchmark results: ${meta.id}`);
  out.push('');
  out.push(
    `${meta.mode} run, ${meta.date}, ${meta.cpu} × ${meta.cores}, ${meta.memoryGiB} GiB, Node ${meta.node}, ` +
      `${meta.durationSeconds} s. Every ratio is measured in the same run against its floor.`,
  );
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push('| benchmark | figure | measured | target | |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const t of r.targets ?? [])
    out.push(`| ${t.benchmark} | ${t.what} | ${t.figure} | ${t.target} | ${mark(t.met)} |`);
  if (r.errors.length > 0) {
    out.push('');
    out.push('## Errors');
    for (const e of r.errors) out.push(`- ${e.benchmark}: ${e.message}`);
  }

  if (r.discovery?.length) {
    out.push('', '## 1. Discovery read path', '');
    out.push('Sequential in-process calls (ms); HTTP through the local runtime under autocannon.', '');
    out.push(
      '| engine | N | bare Query p50 / p99 | handler p50 / p99 | ×b/a | 304 p50 / p99 | bytes | reads, RRU per call (304) | HTTP 200 req/s, p50 / p99 | HTTP 304 req/s, p50 / p99 | bare node:http req/s, p50 / p99 | server CPU µs per request: 200 / 304 / bare |',
    );
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const d of r.discovery) {
      const h = d.http;
      out.push(
        `| ${d.engine} | ${d.endpoints.toLocaleString('en')} | ${d.bareQuery.p50} / ${d.bareQuery.p99} | ${d.handler.p50} / ${d.handler.p99} | ×${d.ratio} | ` +
          `${d.handler304.p50} / ${d.handler304.p99} | ${d.responseBytes.toLocaleString('en')} | ${d.readsPerCall}, ${d.readUnitsPerCall} (${d.readUnitsPer304}) | ` +
          (h
            ? `${h.full.requestsPerSecond}, ${h.full.p50} / ${h.full.p99} | ${h.notModified.requestsPerSecond}, ${h.notModified.p50} / ${h.notModified.p99} | ${h.floor.requestsPerSecond}, ${h.floor.p50} / ${h.floor.p99} | ` +
              `${h.full.cpuMicrosPerRequest} / ${h.notModified.cpuMicrosPerRequest} / ${h.floor.cpuMicrosPerRequest} |`
            : '– | – | – | – |'),
      );
    }
  }

  if (r.probe?.length) {
    out.push('', '## 2. Probe round', '');
    out.push(
      '| engine | K × 2 models | bare fan-out (median ms) | full round (median ms) | ×round/floor | writes (WRU) per round | reads (RRU) per round | peak RSS floor / round (MiB) | one partition read: whole vs EP# rows (ms, RRU) |',
    );
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const p of r.probe) {
      out.push(
        `| ${p.engine} | ${p.endpoints.toLocaleString('en')} | ${p.floorMs.median} | ${p.roundMs.median} | ×${p.ratio} | ${p.writesPerRound} (${p.writeUnitsPerRound}) | ` +
          `${p.readsPerRound} (${p.readUnitsPerRound}) | ${p.peakRssMiB.floor} / ${p.peakRssMiB.round} | ` +
          `${p.partitionRead.wholeMs} ms, ${p.partitionRead.wholeReadUnits} vs ${p.partitionRead.probeRowsOnlyMs} ms, ${p.partitionRead.probeRowsOnlyReadUnits} |`,
      );
    }
  }

  if (r.freshness) {
    out.push('', '## 3. Freshness', '');
    out.push('| settings | scenario | trials | p50 ms | p99 ms | max ms |');
    out.push('| --- | --- | --- | --- | --- | --- |');
    for (const run of [r.freshness.short, r.freshness.defaults]) {
      if (!run) continue;
      const s = run.settings;
      const label = `interval ${s.intervalSeconds} s, unhealthy-after ${s.unhealthyAfterSeconds} s, threshold ${s.failureThreshold}, timeout ${s.timeoutMs} ms`;
      for (const [scenario, d] of Object.entries(run.results)) {
        out.push(`| ${label} | ${scenario} | ${d.samples} | ${d.p50} | ${d.p99} | ${d.max} |`);
      }
    }
  }

  if (r.coldStart) {
    const c = r.coldStart;
    out.push('', '## 4. Cold start', '');
    out.push(
      `Median of ${c.runs} fresh \`node\` processes (${c.node}) per bundle, round-robin with the floor.`,
      '',
    );
    out.push(
      '| bundle | minified B | gzip B | source map B | init ms (source maps) | ×floor | init ms (plain) | ×floor |',
    );
    out.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const f = c.floor;
    out.push(
      `| floor (DynamoDB client only) | ${f.bytes.toLocaleString('en')} | ${f.gzipBytes.toLocaleString('en')} | ${f.sourceMapBytes.toLocaleString('en')} | ${f.initMs.sourceMaps} | – | ${f.initMs.plain} | – |`,
    );
    for (const fn of c.functions) {
      out.push(
        `| ${fn.name} | ${fn.bytes.toLocaleString('en')} | ${fn.gzipBytes.toLocaleString('en')} | ${fn.sourceMapBytes.toLocaleString('en')} | ${fn.initMs.sourceMaps} | ×${fn.ratio} | ${fn.initMs.plain} | ×${fn.ratioPlain} |`,
      );
    }
  }

  if (r.cost) out.push(...costSection(r.cost.measurements, r.cost.model));
  if (r.client) {
    const { pick: p, requests: q, death: d, bundle: b } = r.client;
    out.push('', '## 6. Client library', '');
    out.push(
      `Median ns per call over ${p.endpoints} endpoints, batches interleaved with the floors in the same run.`,
      '',
      '| bare array pick | awaited array pick | round-robin | least-loaded | zone | round-robin, an ejection active |',
      '| --- | --- | --- | --- | --- | --- |',
      `| ${p.floorNs} | ${p.awaitedFloorNs} | ${p.roundRobinNs} (×${p.ratio}) | ${p.leastLoadedNs} | ${p.zoneNs} | ${p.withEjectionNs} |`,
      '',
      `Registry requests: ${q.perClientPerMinute} per client per minute (${q.clients} clients, ${q.seconds} s, ${round(q.notModifiedShare * 100, 1)} % 304s).`,
      '',
      `Silent death → not picked (registry interval ${d.settings.intervalSeconds} s, threshold ${d.settings.failureThreshold}, timeout ${d.settings.timeoutMs} ms; client refresh ${d.settings.refreshMs} ms):`,
      '',
      '| | trials | p50 ms | p99 ms | max ms |',
      '| --- | --- | --- | --- | --- |',
      `| with passive ejection (caller calls every 10 ms, reports failures) | ${d.withEjection.samples} | ${d.withEjection.p50} | ${d.withEjection.p99} | ${d.withEjection.max} |`,
      `| without (the registry excludes it, the next refresh sees it) | ${d.withoutEjection.samples} | ${d.withoutEjection.p50} | ${d.withoutEjection.p99} | ${d.withoutEjection.max} |`,
      '',
      '| bundle (minified, esbuild) | bytes | gzip |',
      '| --- | --- | --- |',
      `| core | ${b.core.bytes.toLocaleString('en')} | ${b.core.gzipBytes.toLocaleString('en')} |`,
      `| SigV4 chunk | ${b.signer.bytes.toLocaleString('en')} | ${b.signer.gzipBytes.toLocaleString('en')} |`,
      `| default credential provider chain | ${b.credentialChain.bytes.toLocaleString('en')} | ${b.credentialChain.gzipBytes.toLocaleString('en')} |`,
    );
  }
  if (r.probeFleet) {
    const f = r.probeFleet;
    const s = f.settings;
    out.push('', '## 7. Probe at fleet scale', '');
    out.push(
      `The local runtime as \`npm start\` runs it (in-process dynalite), interval ${s.intervalSeconds} s, timeout ${s.timeoutMs} ms, ` +
        `threshold ${s.failureThreshold}, unhealthy after ${s.unhealthyAfterSeconds} s, concurrency ${s.concurrency}; ` +
        `${f.endpoints.toLocaleString('en')} tasks registered through \`POST /events\` in ${f.registrationMs.toLocaleString('en')} ms, ` +
        `stand-ins in ${f.standInChildren} child process(es).`,
      '',
      '| | samples | p50 ms | max ms |',
      '| --- | --- | --- | --- |',
      `| steady round | ${f.roundMs.samples} | ${f.roundMs.p50} | ${f.roundMs.max} |`,
      `| bare fan-out (floor), in the gap after each round | ${f.floorMs.samples} | ${f.floorMs.p50} | ${f.floorMs.max} |`,
      `| round during the death trials (discovery calls share the process) | ${f.roundMsDuringTrials.samples} | ${f.roundMsDuringTrials.p50} | ${f.roundMsDuringTrials.max} |`,
      `| silent death → excluded from \`GET /models/alpha\` | ${f.deadToExcluded.samples} | ${f.deadToExcluded.p50} | ${f.deadToExcluded.max} |`,
      `| one \`GET /models/alpha\` during the trials | ${f.discoveryCallMs.samples} | ${f.discoveryCallMs.p50} | ${f.discoveryCallMs.max} |`,
      '',
      `Endpoints served per answer during the trials (of ${f.endpoints.toLocaleString('en')}, ${f.deadToExcluded.samples} killed): ` +
        `fewest ${f.servedDuringTrials.min}, median ${f.servedDuringTrials.p50} over ${f.servedDuringTrials.answers} answers. ` +
        `Load average (1 min) ${f.loadAverage[0]} at the start, ${f.loadAverage[1]} at the end; the most probes failing in one steady round: ${f.maxUnhealthyInRound}.`,
      '',
      `Round ×${f.ratio} its floor; ${f.writesPerRound} registry writes per steady round (median); ${f.overlappingFloors} floor(s) left out ` +
        `(the next round started before they ended); ${f.failedRounds} round(s) failed whole. ` +
        `RSS: registry ${f.memory.registryBaselineMiB} MiB before the fleet, peak ${f.memory.registryPeakMiB} MiB ` +
        `(${f.memory.registrySteadyPeakMiB} MiB during the steady rounds); stand-in children ${f.memory.standInPeakMiB.join(', ')} MiB at peak.`,
    );
  }
  out.push('');
  return out.join('\n');
}
