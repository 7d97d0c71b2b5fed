/**
 * The fixed values of the LocalStack path, shared by the compose file's users: the deploy
 * wrapper, the smoke run and the infra tests that check what they build.
 */

/** LocalStack's edge endpoint as seen from the host (docker-compose.yml publishes it on loopback). */
export const EDGE_URL = 'http://localhost:4566';
export const REGION = 'us-east-1';
/** LocalStack's default account. cdklocal deploys there; anything else means the wrong target. */
export const ACCOUNT = '000000000000';
/** The user-defined Docker network of LocalStack, its Lambda containers and the TF Serving container. */
export const DOCKER_NETWORK = 'tfsr-localstack';
export const STACK_NAME = 'TfServingRegistry';
/** The cluster the smoke run's synthetic events come from; the deployed rule only accepts this one. */
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/smoke`;
/** Where `cdklocal deploy` writes the stack outputs the smoke run reads (git-ignored `.tmp/`). */
export const OUTPUTS_FILE = '.tmp/localstack/outputs.json';

/**
 * CDK context for the LocalStack deployment: a REST API, open (LocalStack's free edition enforces no
 * IAM anyway), no account-level API Gateway logging role (an AWS account setting that does not
 * matter locally), a table that goes with the stack, events of the smoke cluster only, and no
 * dashboard.
 */
export const LOCALSTACK_CONTEXT: Readonly<Record<string, string>> = {
  // The free edition has REST APIs only (no API Gateway v2): pinned, whatever cdk.json says.
  API_KIND: 'rest',
  API_AUTH: 'none',
  API_CLOUDWATCH_ROLE: 'false',
  TABLE_REMOVAL_POLICY: 'destroy',
  CLUSTER_ARNS: CLUSTER_ARN,
  // The free edition has no CloudFormation provider for AWS::CloudWatch::Dashboard.
  DASHBOARD: 'false',
};
