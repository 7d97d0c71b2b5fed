import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_NODE_IMAGE, DEFAULT_TFSERVING_IMAGE } from './tfserving-container.ts';

export interface SmokeOptions {
  /** A TF Serving model directory (`<dir>/<version>/saved_model.pb`); absent: the stand-in. */
  readonly modelDir: string | undefined;
  readonly model: string;
  /** The Docker image of the TF Serving container. */
  readonly image: string;
  /** Deadline of each waiting step. */
  readonly timeoutSeconds: number;
  /** Leave the TF Serving container running afterwards. */
  readonly keep: boolean;
}

export const SMOKE_USAGE = `Usage: npm run localstack:smoke -- [--model-dir <dir>] [--model <name>] [--image <image>] [--timeout <s>] [--keep]
  --model-dir  serve this SavedModel directory (<dir>/<version>/saved_model.pb) with tensorflow/serving;
               without it, the project's TF Serving stand-in serves a model in a node container
  --model      model name (default: the directory's name, or "smoke" for the stand-in)
  --image      container image (default: ${DEFAULT_TFSERVING_IMAGE} with --model-dir, else ${DEFAULT_NODE_IMAGE})
  --timeout    seconds each waiting step may take (default 180)
  --keep       leave the TF Serving container running`;

/** A TF Serving model name: no '/', ':' or control characters (TF Serving's own path rule). */
const MODEL_NAME = /^[^/:\p{Cc}]{1,256}$/u;

/** Reads the smoke run's command line; throws with the usage on a bad argument. */
export function parseSmokeArgs(argv: readonly string[]): SmokeOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'model-dir': { type: 'string' },
        model: { type: 'string' },
        image: { type: 'string' },
        timeout: { type: 'string' },
        keep: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (thrown) {
    throw new Error(`${thrown instanceof Error ? thrown.message : String(thrown)}\n${SMOKE_USAGE}`);
  }
  const modelDir = typeof values['model-dir'] === 'string' ? resolve(values['model-dir']) : undefined;
  const model = (values.model as string | undefined) ?? (modelDir ? basename(modelDir) : 'smoke');
  if (!MODEL_NAME.test(model)) {
    throw new Error(
      `--model ${JSON.stringify(model)} is not a TF Serving model name (no '/', ':' or control characters)`,
    );
  }
  const timeoutSeconds = values.timeout === undefined ? 180 : Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 10 || timeoutSeconds > 3600) {
    throw new Error(`--timeout ${JSON.stringify(values.timeout)} is invalid: whole seconds from 10 to 3600`);
  }
  return {
    modelDir,
    model,
    image: (values.image as string | undefined) ?? (modelDir ? DEFAULT_TFSERVING_IMAGE : DEFAULT_NODE_IMAGE),
    timeoutSeconds,
    keep: values.keep === true,
  };
}
