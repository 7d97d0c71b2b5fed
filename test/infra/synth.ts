import { readFileSync } from 'node:fs';
import type { AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createRegistryApp, type RegistryApp } from '../../infra/aws/registry-app.ts';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface BuiltStack extends RegistryApp {
  readonly template: Template;
}

/**
 * Builds the app as `cdk synth` does (cdk.json flags, cdk-nag plugin), with `context` on top.
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`) unless `bundling` is set.
 */
export function buildStack(
  context: Record<string, unknown> = {},
  { bundling = false, outdir }: { bundling?: boolean; outdir?: string } = {},
): BuiltStack {
  const props: AppProps = {
    context: { ...CDK_JSON_CONTEXT, ...(bundling ? {} : { 'aws:cdk:bundling-stacks': [] }), ...context },
    ...(outdir && { outdir }),
  };
  const built = createRegistryApp(props);
  return { ...built, template: Template.fromStack(built.stack) };
}

export const VPC_CONTEXT = {
  VPC_ID: 'vpc-0123456789abcdef0',
  SUBNET_IDS: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
} as const;

type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }
>;

export function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

/** The properties of one resource; throws if there is no such resource. */
export function propertiesOf(template: Template, logicalId: string): Record<string, unknown> {
  const resource = resourcesOf(template)[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId}`);
  return resource.Properties ?? {};
}

/** The logical id of the one Lambda function whose FunctionName ends with `-<name>`. */
export function functionId(template: Template, name: string): string {
  const ids = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, fn]) =>
    String((fn.Properties as { FunctionName?: unknown }).FunctionName).endsWith(`-${name}`),
  );
  if (ids.length !== 1) throw new Error(`expected one function named *-${name}, found ${ids.length}`);
  return (ids[0] as [string, unknown])[0];
}

export interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, unknown>;
}

/** The statements of every inline policy of the function's execution role, as in the template. */
export function roleStatements(template: Template, fnLogicalId: string): PolicyStatement[] {
  const role = roleOf(template, fnLogicalId);
  return Object.values(resourcesOf(template))
    .filter(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        ((resource.Properties?.Roles as { Ref: string }[] | undefined) ?? []).some((ref) => ref.Ref === role),
    )
    .flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement?: PolicyStatement[] } | undefined)?.Statement ?? [],
    );
}

function roleOf(template: Template, fnLogicalId: string): string {
  return (propertiesOf(template, fnLogicalId).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Every IAM action the function's execution role is allowed, with the resources of each. */
export function roleActions(template: Template, fnLogicalId: string): Map<string, unknown[]> {
  const actions = new Map<string, unknown[]>();
  for (const statement of roleStatements(template, fnLogicalId)) {
    for (const action of [statement.Action].flat()) {
      actions.set(action, [...(actions.get(action) ?? []), ...[statement.Resource].flat()]);
    }
  }
  const managed = resourcesOf(template)[roleOf(template, fnLogicalId)]?.Properties?.ManagedPolicyArns;
  if (managed !== undefined) actions.set('(managed policies)', [managed].flat());
  return actions;
}
