// The CDK app (`cdk.json`: `npx tsx infra/aws/app.ts`). Configuration: CDK context, see infra/aws/context.ts.
import { ContextError } from './context.ts';
import { createRegistryApp, validationSummary } from './registry-app.ts';

try {
  const { app } = createRegistryApp();
  app.synth();
  // stderr: `cdk synth` prints the template on stdout.
  console.error(validationSummary(app));
} catch (error) {
  // A bad context value is the user's to fix: its message says which key, the value and how; a
  // stack trace would only bury it.
  if (!(error instanceof ContextError)) throw error;
  console.error(`tf-serving-registry: ${error.message}`);
  process.exit(1);
}
