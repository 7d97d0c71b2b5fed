import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
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
 * Builds the CDK app: the registry stack, checked at synth by two policy validation plugins:
 * cdk-nag's AwsSolutions pack and cfn-guard's Control Tower proactive controls (a finding that is
 * not acknowledged, with its reason, fails synth).
 */
export function createRegistryApp(props: AppProps = {}): RegistryApp {
  const app = new App(props);
  const stack = new RegistryStack(app, STACK_ID, {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Tags.of(stack).add('project', 'tf-serving-registry');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
  return { app, stack };
}

/**
 * What the policy validation did, in one line for `cdk synth`: cdk-nag is silent when it passes,
 * so without this nothing shows that it ran. Call after a synth that returned (an unacknowledged
 * cdk-nag finding throws; cfn-guard's findings are in `cdk.out/validation-report.json`, and
 * test/infra/policy-validation.test.ts holds that report to none).
 */
export function validationSummary(app: App): string {
  const acknowledged = app.node
    .findAll()
    .flatMap((construct) => construct.node.metadata)
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys(entry.data as Record<string, string>));
  return `policy validation passed (cdk-nag AwsSolutions, cfn-guard Control Tower rules): no unacknowledged findings (${acknowledged.length} acknowledged, ${new Set(acknowledged).size} rules, each with its reason in the template metadata)`;
}
