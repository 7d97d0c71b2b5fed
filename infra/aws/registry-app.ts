import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RegistryStack } from './registry-stack.ts';

/** The stack id, which is also the CloudFormation stack name and the function name prefix. */
export const STACK_ID = 'TfServingRegistry';

export interface RegistryApp {
  readonly app: App;
  readonly stack: RegistryStack;
}

/**
 * Builds the CDK app: the registry stack, checked by cdk-nag's AwsSolutions pack as a synth
 * validation plugin (a finding that is not acknowledged, with its reason, fails synth).
 */
export function createRegistryApp(props: AppProps = {}): RegistryApp {
  const app = new App(props);
  const stack = new RegistryStack(app, STACK_ID, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Tags.of(stack).add('project', 'tf-serving-registry');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
