/**
 * `npm run localstack:deploy`: `cdklocal bootstrap` then `cdklocal deploy` of the stack into the
 * running LocalStack, with the LocalStack context (localstack/settings.ts). LocalStack updates
 * stacks unreliably: for a clean redeploy, restart it (npm run localstack:down && npm run localstack:up).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bootstrapArgs, cdklocalEnv, deployArgs } from './cdklocal.ts';
import { checkLocalStack } from './local-aws.ts';
import { EDGE_URL, OUTPUTS_FILE, STACK_NAME } from './settings.ts';
import { readStackOutputs } from './stack-outputs.ts';

function cdklocal(args: readonly string[]): Promise<void> {
  console.log(`$ cdklocal ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'cdklocal', ...args], {
      stdio: 'inherit',
      env: cdklocalEnv(process.env),
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`cdklocal ${args[0]} exited with ${code}`)),
    );
  });
}

try {
  console.log(`LocalStack ${await checkLocalStack(EDGE_URL)} at ${EDGE_URL}`);
  await mkdir(dirname(OUTPUTS_FILE), { recursive: true });
  await cdklocal(bootstrapArgs());
  await cdklocal(deployArgs());
  const outputs = readStackOutputs(JSON.parse(await readFile(OUTPUTS_FILE, 'utf8')), STACK_NAME);
  if (!outputs.apiUrl.includes('localhost.localstack.cloud')) {
    throw new Error(`ApiUrl ${outputs.apiUrl} is not a LocalStack URL: check where the stack went`);
  }
  console.log(`\nDeployed to LocalStack. Outputs in ${OUTPUTS_FILE}:\n${JSON.stringify(outputs, null, 2)}`);
} catch (thrown) {
  console.error(`\nlocalstack:deploy failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
  console.error(
    'Is LocalStack up (npm run localstack:up)? For a clean redeploy: npm run localstack:down && npm run localstack:up',
  );
  process.exitCode = 1;
}
