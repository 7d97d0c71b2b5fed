/**
 * The TF Serving endpoint of the smoke run, as a Docker container on the LocalStack network:
 * the real `tensorflow/serving` image serving a model directory, or the project's TF Serving
 * stand-in (tools/tfserving-stand-in/cli.ts, bundled to one file) in a `node` container.
 */
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const REST_PORT = 8501;
export const DEFAULT_TFSERVING_IMAGE = 'tensorflow/serving:2.19.0';
export const DEFAULT_NODE_IMAGE = 'node:22-alpine';
/** Where the stand-in's one-file bundle goes (git-ignored). */
export const STAND_IN_BUNDLE = '.tmp/localstack/tfserving-stand-in.mjs';

export type TfServingSource =
  | {
      readonly kind: 'stand-in';
      readonly bundlePath: string;
      readonly versions: string;
      readonly image: string;
    }
  | { readonly kind: 'tensorflow-serving'; readonly modelDir: string; readonly image: string };

export interface TfServingContainer {
  readonly name: string;
  readonly network: string;
  readonly model: string;
  readonly source: TfServingSource;
}

/** `docker run` arguments: detached, on the network, REST port published on a free loopback port. */
export function dockerRunArgs(container: TfServingContainer): string[] {
  const { name, network, model, source } = container;
  const common = [
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    network,
    '--publish',
    `127.0.0.1::${REST_PORT}`,
  ];
  if (source.kind === 'tensorflow-serving') {
    return [
      ...common,
      '--volume',
      `${resolve(source.modelDir)}:/models/${model}:ro`,
      '--env',
      `MODEL_NAME=${model}`,
      source.image,
    ];
  }
  const bundle = resolve(source.bundlePath);
  return [
    ...common,
    '--volume',
    `${dirname(bundle)}:/stand-in:ro`,
    source.image,
    'node',
    `/stand-in/${basename(bundle)}`,
    '--host',
    '0.0.0.0',
    '--port',
    String(REST_PORT),
    '--model',
    `${model}:${source.versions}`,
  ];
}

/**
 * Checks a model directory before mounting it: TF Serving wants `<dir>/<version>/saved_model.pb`
 * with numeric versions. Returns the versions found.
 */
export function checkModelDir(dir: string): string[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir);
  } catch (thrown) {
    throw new Error(
      `model directory ${dir} cannot be read (${thrown instanceof Error ? thrown.message : String(thrown)})`,
    );
  }
  const versions = entries.filter((entry) => /^\d+$/.test(entry) && statSync(join(dir, entry)).isDirectory());
  const servable = versions.filter((version) => {
    try {
      return statSync(join(dir, version, 'saved_model.pb')).isFile();
    } catch {
      return false;
    }
  });
  if (servable.length === 0) {
    throw new Error(
      `model directory ${dir} has no <version>/saved_model.pb (found: ${entries.join(', ') || 'nothing'}); ` +
        'point --model-dir at the directory that holds the numbered version directories',
    );
  }
  return servable.sort((a, b) => Number(b) - Number(a));
}

/** The container's IP on `network`, from `docker inspect -f '{{json .NetworkSettings.Networks}}'`. */
export function ipOnNetwork(networksJson: string, network: string): string {
  const networks = JSON.parse(networksJson) as Record<string, { IPAddress?: string } | undefined>;
  const ip = networks[network]?.IPAddress;
  if (!ip)
    throw new Error(
      `the container is not on network ${network} (networks: ${Object.keys(networks).join(', ')})`,
    );
  return ip;
}

/** The host port from `docker port <name> 8501/tcp` output (`127.0.0.1:49153`, maybe several lines). */
export function hostPortOf(dockerPortOutput: string): number {
  const match = /:(\d+)\s*$/m.exec(dockerPortOutput.trim().split('\n')[0] ?? '');
  if (!match) throw new Error(`cannot read a host port from ${JSON.stringify(dockerPortOutput)}`);
  return Number(match[1]);
}

/** Runs the Docker CLI; the error says the command and Docker's own message. */
export async function docker(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('docker', [...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch (thrown) {
    const error = thrown as { stderr?: string; message?: string; code?: unknown };
    if (error.code === 'ENOENT') throw new Error('the docker CLI is not installed (or not on PATH)');
    throw new Error(
      `docker ${args.slice(0, 2).join(' ')} failed: ${(error.stderr || error.message || '').trim()}`,
    );
  }
}

/** Starts the container (replacing a leftover one of the same name); returns its IP and published REST port. */
export async function startTfServing(
  container: TfServingContainer,
): Promise<{ ip: string; hostPort: number }> {
  await docker(['rm', '--force', container.name]).catch(() => undefined);
  await docker(dockerRunArgs(container));
  const ip = ipOnNetwork(
    await docker(['inspect', '--format', '{{json .NetworkSettings.Networks}}', container.name]),
    container.network,
  );
  const hostPort = hostPortOf(await docker(['port', container.name, `${REST_PORT}/tcp`]));
  return { ip, hostPort };
}

/** The container's last log lines (its stdout and stderr), for a failure report. */
export async function containerLogs(name: string, lines = 30): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync('docker', ['logs', '--tail', String(lines), name]);
    return `${stdout}${stderr}`.trim();
  } catch (thrown) {
    return thrown instanceof Error ? thrown.message : String(thrown);
  }
}

/**
 * Bundles the stand-in CLI into one ESM file that a plain `node` container runs: no node_modules
 * in the container, so no native binaries built for another platform (e.g. macOS hosts).
 */
export async function bundleStandIn(entry: string, outfile: string): Promise<string> {
  try {
    statSync(entry);
  } catch {
    throw new Error(
      `the TF Serving stand-in ${entry} does not exist (or pass --model-dir to use tensorflow/serving)`,
    );
  }
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'warning',
    // Its dependencies are not known here: a CommonJS one that requires a Node built-in needs `require`.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  });
  return outfile;
}

export async function removeContainer(name: string): Promise<void> {
  await docker(['rm', '--force', name]).catch(() => undefined);
}
