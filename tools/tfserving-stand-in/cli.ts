/**
 * Runs TF Serving stand-ins from the command line until SIGINT or SIGTERM.
 *
 *   npm run stand-in -- --host 127.0.0.2 --port 8501 --model resnet:1,2 --model bert:7 --label resnet:stable=1
 *   npm run stand-in -- --host 127.0.0.2 --model resnet:1 --loading resnet:2
 *   curl -d 'available resnet 2' http://127.0.0.2:8501/_stand-in
 *
 * Prints one line per listening address, then one per command applied. Exit codes: 0 stopped by a
 * signal, 1 could not listen, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { COMMANDS_HELP, type Misbehaviour, type ModelSeed, TfServingStandIn } from './stand-in.ts';

const USAGE = `Usage: npm run stand-in -- [options]

Serves TensorFlow Serving's REST model status and metadata API (a stand-in, no real models), and
:predict for a model named half_plus_two (TF Serving's example: y = 0.5 x + 2).

Options:
  --host <address>         address to listen on; repeat for several (default 127.0.0.1;
                           0.0.0.0 for every interface, e.g. in a container)
  --count <n>              listen on n consecutive IPv4 addresses starting at --host (default 1)
  --port <port>            port on every address (default 8501; 0 = any free port)
  --model <name:v1,v2,..>  a model and its AVAILABLE versions; repeatable
  --loading <name:v1,..>   versions still LOADING (not served yet); repeatable
  --failed <name:v1,..>    versions whose load failed: END with NOT_FOUND, as TF Serving reports a
                           missing SavedModel; repeatable
  --label <name:label=v>   a version label of a model above (metadata resolves it); repeatable
  --misbehave <mode>       hang | http-500 | html | non-json | truncated-json | oversized | wrong-shape
  -h, --help               show this help

While running, each stand-in takes commands at POST /_stand-in (one a line; GET it for help and
the current state):

${COMMANDS_HELP}

Examples:
  npm run stand-in -- --host 127.0.0.2 --model resnet:1,2 --model bert:7 --label resnet:stable=1
  npm run stand-in -- --host 127.0.0.2 --model resnet:1 --loading resnet:2
  curl -d 'available resnet 2' http://127.0.0.2:8501/_stand-in
  npm run stand-in -- --host 127.0.0.11 --count 3 --model half_plus_two:1
  curl -d '{"instances": [1.0, 2.0, 5.0]}' http://127.0.0.11:8501/v1/models/half_plus_two:predict`;

const MISBEHAVIOURS = ['hang', 'http-500', 'html', 'non-json', 'truncated-json', 'oversized', 'wrong-shape'];

class UsageError extends Error {}

type Seed = ModelSeed & {
  available: string[];
  loading: string[];
  failed: string[];
  labels: Record<string, string>;
};

interface Plan {
  hosts: string[];
  port: number;
  models: Record<string, Seed>;
  misbehaviour: Misbehaviour;
}

/** The flags that list a model's versions, and the state each gives them. */
const VERSION_FLAGS = { model: 'available', loading: 'loading', failed: 'failed' } as const;

function parse(argv: string[]): Plan | 'help' {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    ({ values } = parseOptions(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return 'help';

  const port = integer('--port', values.port ?? '8501', 0, 65535);
  const count = integer('--count', values.count ?? '1', 1, 65536);
  const hosts = values.host ?? ['127.0.0.1'];
  if (hosts.some((host) => host.trim() === '')) throw new UsageError('--host needs an address');
  if (count > 1) {
    if (hosts.length !== 1) throw new UsageError('--count works with exactly one --host');
    hosts.splice(0, 1, ...consecutiveIpv4(hosts[0] as string, count));
  }

  const models: Plan['models'] = {};
  for (const [flag, state] of Object.entries(VERSION_FLAGS)) {
    for (const spec of values[flag as keyof typeof VERSION_FLAGS] ?? []) {
      const colon = spec.indexOf(':');
      const name = spec.slice(0, colon);
      const versions = spec.slice(colon + 1).split(',');
      if (colon <= 0 || versions.some((version) => !isVersion(version))) {
        throw new UsageError(`--${flag} ${spec}: expected name:versions, e.g. resnet:1,2`);
      }
      models[name] ??= { available: [], loading: [], failed: [], labels: {} };
      models[name][state].push(...versions);
    }
  }
  for (const spec of values.label ?? []) {
    const match = /^([^:]+):([^=]+)=(\d+)$/.exec(spec);
    if (match === null || !isVersion(match[3] as string)) {
      throw new UsageError(`--label ${spec}: expected name:label=version, e.g. resnet:stable=1`);
    }
    const [, name = '', label = '', version = ''] = match;
    const model = models[name];
    if (model === undefined) {
      throw new UsageError(`--label ${spec}: no --model, --loading or --failed ${name}:... given`);
    }
    model.labels[label] = version;
  }

  const misbehaviour = values.misbehave ?? 'none';
  if (misbehaviour !== 'none' && !MISBEHAVIOURS.includes(misbehaviour)) {
    throw new UsageError(`--misbehave ${misbehaviour}: expected one of ${MISBEHAVIOURS.join(', ')}`);
  }
  return { hosts, port, models, misbehaviour: misbehaviour as Misbehaviour };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string', multiple: true },
      count: { type: 'string' },
      port: { type: 'string' },
      model: { type: 'string', multiple: true },
      loading: { type: 'string', multiple: true },
      failed: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      misbehave: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function integer(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${option} ${text}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

function isVersion(text: string): boolean {
  return /^\d+$/.test(text) && BigInt(text) <= 9223372036854775807n;
}

function consecutiveIpv4(first: string, count: number): string[] {
  const parts = first.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    throw new UsageError(`--count needs an IPv4 --host, got ${first}`);
  }
  const start = parts.reduce((sum, part) => sum * 256 + Number(part), 0);
  if (start + count - 1 > 0xffffffff) throw new UsageError(`--count ${count} runs past 255.255.255.255`);
  return Array.from({ length: count }, (_, i) => {
    const n = start + i;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  });
}

async function main(): Promise<number> {
  let plan: Plan | 'help';
  try {
    plan = parse(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`stand-in: ${error.message}\nRun with --help for usage.\n`);
    return 2;
  }
  if (plan === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const { hosts, port, models, misbehaviour } = plan;
  const started = await Promise.allSettled(
    hosts.map((host) =>
      TfServingStandIn.start({
        host,
        port,
        models,
        control: true,
        onCommand: (line, result) => process.stdout.write(`${host}: ${line}\n  ${result}\n`),
      }),
    ),
  );
  const standIns = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failures = started.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0) {
    for (const failure of failures) process.stderr.write(`stand-in: ${(failure as Error).message}\n`);
    await Promise.all(standIns.map((standIn) => standIn.close()));
    return 1;
  }

  for (const standIn of standIns) {
    standIn.misbehave(misbehaviour);
    const state = standIn.describe().replaceAll('\n', '; ');
    process.stdout.write(`TF Serving stand-in listening on ${standIn.url}, ${state}\n`);
  }
  const first = standIns[0] as TfServingStandIn;
  process.stdout.write(
    `Commands: curl -d 'load <model> <version>' ${first.url}/_stand-in   (curl ${first.url}/_stand-in for the list)\n`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`stand-in: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`stand-in: ${signal}, stopping ${standIns.length} stand-in(s)\n`);
      void Promise.all(standIns.map((standIn) => standIn.close())).then(() => resolve(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`stand-in: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    process.exit(1);
  },
);
