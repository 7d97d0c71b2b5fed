/**
 * The LocalStack smoke run (`npm run localstack:smoke`), after `localstack:up` and `localstack:deploy`:
 * a TF Serving endpoint on the LocalStack network, a synthetic ECS RUNNING event for it, discovery
 * serving it through API Gateway, then a STOPPED event and discovery dropping it.
 * Needs Docker; the pieces are unit-tested without it (test/infra/localstack-smoke.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { checkLocalStack, putEvents } from './local-aws.ts';
import { CLUSTER_ARN, DOCKER_NETWORK, EDGE_URL, OUTPUTS_FILE, REGION, STACK_NAME } from './settings.ts';
import { newTaskId, type SmokeTask, taskStateChangeEntry } from './smoke-event.ts';
import { parseSmokeArgs, SMOKE_USAGE, type SmokeOptions } from './smoke-options.ts';
import {
  findEndpoint,
  localExecuteApiUrl,
  modelPath,
  parseInvokeUrl,
  readStackOutputs,
} from './stack-outputs.ts';
import { type Attempt, createStepRunner, pollUntil, StepError } from './steps.ts';
import {
  bundleStandIn,
  checkModelDir,
  containerLogs,
  removeContainer,
  STAND_IN_BUNDLE,
  startTfServing,
  type TfServingSource,
} from './tfserving-container.ts';

const CONTAINER_NAME = 'tfsr-smoke-tfserving';
const STAND_IN_ENTRY = fileURLToPath(new URL('../tools/tfserving-stand-in/cli.ts', import.meta.url));
const LOGS_HINT =
  "look at the functions' output: `docker logs tfsr-localstack` (LocalStack prints Lambda errors; DEBUG=1 for more) and the Lambda containers (`docker ps -a --filter network=tfsr-localstack`)";

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the report
  }
  return { status: response.status, body };
}

function brief(value: unknown): string {
  return (typeof value === 'string' ? value : JSON.stringify(value)).slice(0, 300);
}

/** TF Serving's status answer has at least one AVAILABLE version. */
function availableVersions(body: unknown): string[] {
  const statuses = (body as { model_version_status?: { version?: unknown; state?: unknown }[] })
    ?.model_version_status;
  return Array.isArray(statuses)
    ? statuses.filter((s) => s.state === 'AVAILABLE').map((s) => String(s.version))
    : [];
}

async function run(options: SmokeOptions): Promise<void> {
  const log = (line: string) => console.log(line);
  const step = createStepRunner({ log });
  const wait = { timeoutMs: options.timeoutSeconds * 1000, intervalMs: 2000 };
  let containerStarted = false;

  try {
    const version = await step(
      'LocalStack is up',
      () => checkLocalStack(EDGE_URL),
      'start it: npm run localstack:up',
    );
    log(`    LocalStack ${version}`);

    const outputs = await step(
      `read the outputs of ${STACK_NAME}`,
      async () => readStackOutputs(JSON.parse(await readFile(OUTPUTS_FILE, 'utf8')), STACK_NAME),
      `deploy first: npm run localstack:deploy (it writes ${OUTPUTS_FILE})`,
    );
    const api = parseInvokeUrl(outputs.apiUrl);
    const url = (path: string) => localExecuteApiUrl(EDGE_URL, api, path);
    log(`    discovery: ${url('/models')}`);

    await step(
      'discovery answers GET /models',
      () =>
        pollUntil(
          'GET /models answering 200',
          async (): Promise<Attempt<unknown>> => {
            const { status, body } = await getJson(url('/models'));
            return status === 200
              ? { done: true, value: body }
              : { done: false, reason: `HTTP ${status} ${brief(body)}` };
          },
          wait,
        ),
      `the first call starts the discovery Lambda (LocalStack pulls its runtime image once); ${LOGS_HINT}`,
    );

    const source = await step(
      options.modelDir ? `check the model directory ${options.modelDir}` : 'bundle the TF Serving stand-in',
      async (): Promise<TfServingSource> => {
        if (options.modelDir) {
          log(`    versions: ${checkModelDir(options.modelDir).join(', ')}`);
          return { kind: 'tensorflow-serving', modelDir: options.modelDir, image: options.image };
        }
        const bundlePath = await bundleStandIn(STAND_IN_ENTRY, STAND_IN_BUNDLE);
        return { kind: 'stand-in', bundlePath, versions: '1', image: options.image };
      },
    );

    const endpoint = await step(
      `start ${options.image} on the ${DOCKER_NETWORK} network`,
      async () => {
        containerStarted = true;
        return startTfServing({
          name: CONTAINER_NAME,
          network: DOCKER_NETWORK,
          model: options.model,
          source,
        });
      },
      `the network exists while LocalStack runs (npm run localstack:up); the image must be pullable`,
    );
    log(
      `    ${CONTAINER_NAME}: ${endpoint.ip}:8501 on ${DOCKER_NETWORK}, 127.0.0.1:${endpoint.hostPort} on the host`,
    );

    const versions = await step(
      `TF Serving reports ${options.model} AVAILABLE`,
      () =>
        pollUntil(
          `GET /v1/models/${options.model} with an AVAILABLE version`,
          async (): Promise<Attempt<string[]>> => {
            const { status, body } = await getJson(
              `http://127.0.0.1:${endpoint.hostPort}/v1/models/${encodeURIComponent(options.model)}`,
            );
            const available = availableVersions(body);
            return available.length > 0
              ? { done: true, value: available }
              : { done: false, reason: `HTTP ${status} ${brief(body)}` };
          },
          wait,
        ),
      `docker logs ${CONTAINER_NAME}`,
    );
    log(`    AVAILABLE versions: ${versions.join(', ')}`);

    const task: SmokeTask = {
      clusterArn: CLUSTER_ARN,
      taskId: newTaskId(),
      ip: endpoint.ip,
      model: options.model,
    };
    await step('put an ECS "Task State Change" RUNNING event', () =>
      putEvents(EDGE_URL, REGION, [taskStateChangeEntry(task, 'RUNNING', new Date())]),
    );

    const served = await step(
      `discovery serves ${endpoint.ip} for ${options.model}`,
      () =>
        pollUntil(
          `GET ${modelPath(options.model)} listing ${endpoint.ip}`,
          async () => {
            const { status, body } = await getJson(url(modelPath(options.model)));
            const found = status === 200 ? findEndpoint(body, endpoint.ip) : undefined;
            return found
              ? { done: true, value: found }
              : { done: false, reason: `HTTP ${status} ${brief(body)}` };
          },
          wait,
        ),
      `the ecs-events function applies the event and probes at once, the probe rule runs every minute; ${LOGS_HINT}; failed events land in ${outputs.deadLetterQueueUrl}`,
    );
    log(`    endpoint: ${JSON.stringify(served)}`);

    await step('put an ECS "Task State Change" STOPPED event', () =>
      putEvents(EDGE_URL, REGION, [taskStateChangeEntry(task, 'STOPPED', new Date())]),
    );
    await step(
      `discovery drops ${endpoint.ip}`,
      () =>
        pollUntil(
          `GET ${modelPath(options.model)} without ${endpoint.ip}`,
          async () => {
            const { status, body } = await getJson(url(modelPath(options.model)));
            const gone = status === 404 || (status === 200 && findEndpoint(body, endpoint.ip) === undefined);
            return gone
              ? { done: true, value: status }
              : { done: false, reason: `HTTP ${status} ${brief(body)}` };
          },
          wait,
        ),
      LOGS_HINT,
    );
    log('smoke run passed');
  } catch (thrown) {
    if (!(thrown instanceof StepError)) throw thrown;
    console.error(`\n${thrown.message}`);
    if (containerStarted)
      console.error(`\nlast lines of ${CONTAINER_NAME}:\n${await containerLogs(CONTAINER_NAME)}`);
    process.exitCode = 1;
  } finally {
    if (containerStarted && !options.keep) await removeContainer(CONTAINER_NAME);
  }
}

const argv = process.argv.slice(2);
try {
  if (argv.includes('--help') || argv.includes('-h')) console.log(SMOKE_USAGE);
  else await run(parseSmokeArgs(argv));
} catch (thrown) {
  console.error(thrown instanceof Error ? thrown.message : thrown);
  process.exitCode = 1;
}
