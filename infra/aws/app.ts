// The CDK app (`cdk.json`: `npx tsx infra/aws/app.ts`). Configuration: CDK context, see infra/aws/context.ts.
import { createRegistryApp } from './registry-app.ts';

createRegistryApp().app.synth();
