import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../../functions/adapters/observability-names.ts';
import { type DeployedFunction, FUNCTION_MEMORY_MB } from './function-memory.ts';

/** Pinned, not NODEJS_LATEST: a runtime change is a deliberate, reviewed change (and LocalStack 4.14 runs it). */
export const APP_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * The house bundling options, used by every function and by the infra test that bundles them.
 * ESM, minified, source maps (read at run time through NODE_OPTIONS), names kept for stack traces,
 * and the AWS SDK bundled so the deployed code runs the SDK version we tested. Two exceptions: the
 * EC2 client (540 KB minified), imported on first use by bridge-mode lookups only, and the Lambda
 * client, imported on first use by the probe when the fleet needs shards, come from the SDK v3 that
 * the Lambda Node.js runtime ships (`ec2PrivateIpLookup` and `lambdaInvoke` in
 * `functions/adapters/aws-clients.ts`; decisions 0006 and 0021).
 */
export const HOUSE_BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  keepNames: true,
  mainFields: ['module', 'main'],
  externalModules: ['@aws-sdk/client-ec2', '@aws-sdk/client-lambda'],
} as const satisfies nodejs.BundlingOptions;

/**
 * The size target for every function bundle, minified: 550 KB (deterministic, so a test guards it
 * and the benchmarks report it). It was 500 KB until status answers were stream-parsed
 * (@streamparser/json, 23 KB) and discovery began recording metrics; cold start itself is measured
 * by the benchmarks against a DynamoDB-client-only floor.
 */
export const BUNDLE_BUDGET_BYTES = 550_000;

/** Where a function runs in a VPC (needed to reach private task IPs). */
export interface AppFunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

export interface AppFunctionProps {
  /** Absolute path of the handler module (exporting `handler`). */
  readonly entry: string;
  /** kebab-case name; the deployed function is `<stack name>-<name>`. */
  readonly name: DeployedFunction;
  /** One line saying what the function does. */
  readonly description: string;
  /**
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * @default - the function's size in FUNCTION_MEMORY_MB
   */
  readonly memorySize?: number;
  /**
   * Extra environment variables (the settings every function reads).
   * @default - only the house variables (NODE_OPTIONS, POWERTOOLS_*)
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * @default - not in a VPC
   */
  readonly network?: AppFunctionNetwork;
  /**
   * Whether the function calls TF Serving (and so belongs in the tasks' VPC when one is given).
   * @default false
   */
  readonly callsTfServing?: boolean;
}

const FUNCTION_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * A NodejsFunction with the house defaults: pinned Node.js 22 on arm64, local esbuild bundling,
 * an explicit log group with retention (no `logRetention` custom resource), and its own role that
 * may only write to that log group until capability constructs grant more.
 */
export class AppFunction extends Construct implements iam.IGrantable {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  /** Grants go to the function's own role (CDK's `grant…(grantee)` style). */
  readonly grantPrincipal: iam.IPrincipal;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    if (!FUNCTION_NAME.test(props.name)) {
      throw new Error(
        `AppFunction name=${JSON.stringify(props.name)} is invalid: use 1–31 characters of a-z, 0-9 and '-', starting with a letter (e.g. 'ecs-events').`,
      );
    }
    const functionName = `${Stack.of(this).stackName}-${props.name}`.slice(0, 64);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // Operational logs with bounded retention: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${functionName}`,
    });
    this.grantPrincipal = this.role;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      functionName,
      description: props.description,
      runtime: APP_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? FUNCTION_MEMORY_MB[props.name],
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      // X-Ray traces of each invocation (init, invocation, overhead), no tracing SDK in the code:
      // docs/decisions/0017-x-ray-without-powertools-tracer.md.
      tracing: lambda.Tracing.ACTIVE,
      bundling: HOUSE_BUNDLING,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      ...(props.network && {
        vpc: props.network.vpc,
        vpcSubnets: props.network.vpcSubnets,
        securityGroups: [...props.network.securityGroups],
      }),
    });

    if (props.network) {
      // What AWSLambdaVPCAccessExecutionRole grants, inline: Lambda manages the function's ENIs.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: props.network
        ? 'X-Ray (PutTraceSegments, PutTelemetryRecords, added by active tracing) and Lambda VPC networking (the ENI actions of AWSLambdaVPCAccessExecutionRole) support no resource-level permissions.'
        : 'X-Ray PutTraceSegments and PutTelemetryRecords (added by active tracing) support no resource-level permissions.',
    });

    acknowledgeLogGroupChoices(this.logGroup);
    if (!props.network) {
      Validations.of(this.function).acknowledge({
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason: props.callsTfServing
          ? 'No VPC_ID given: the stack then serves TF Serving tasks reachable from outside a VPC; with VPC_ID (README: Deploy) this function runs in it.'
          : 'This function calls only AWS APIs (DynamoDB), never TF Serving: a VPC would add ENIs to its cold start and NAT or endpoint cost, and protect nothing.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Runtime pinned to nodejs22.x on purpose: upgrades are reviewed changes, and LocalStack 4.14.0 (free) runs it.',
    });
  }

  /** Sets one environment variable on the function. */
  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }
}

/**
 * The two choices every log group of the stack makes, acknowledged where the group is made:
 * operational logs are kept a month by default (a year and more is a compliance choice with its
 * cost, set by the construct's retention prop), and encrypted at rest with CloudWatch Logs' own
 * keys (they hold endpoint addresses and health, no payloads or secrets; a customer key would add
 * a key policy for the logs service and a cost per request).
 */
export function acknowledgeLogGroupChoices(logGroup: logs.LogGroup): void {
  Validations.of(logGroup).acknowledge(
    {
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
      reason:
        'Operational logs, kept a month by default; a longer retention is a compliance choice (retention prop).',
    },
    {
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
      reason:
        "Encrypted at rest with CloudWatch Logs' own keys: endpoint addresses and health, no payloads or secrets.",
    },
  );
}
