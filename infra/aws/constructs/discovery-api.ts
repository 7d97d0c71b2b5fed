import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DISCOVERY_METHODS, DISCOVERY_ROUTES, routeParameters } from '../../../functions/domain/routes.ts';
import type { ApiAuth } from '../context.ts';
import { AppFunction, acknowledgeLogGroupChoices } from './app-function.ts';

const ENTRY = fileURLToPath(new URL('../../../functions/discovery/handler.ts', import.meta.url));

const EXECUTION_LOGS_OFF =
  'Access logs are on; execution logs stay off (API Gateway creates their log group with no retention).';

export interface DiscoveryApiProps {
  /** The settings every function reads. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * `iam`: callers sign requests (SigV4) and need `execute-api:Invoke`; `none`: open.
   * @default 'iam'
   */
  readonly auth?: ApiAuth;
  /**
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Stage-wide steady-state requests per second.
   * @default 100
   */
  readonly throttlingRateLimit?: number;
  /**
   * @default 200
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Create the account-level role API Gateway uses to write logs (an account and Region need it
   * once for access logs; it is retained when the stack goes).
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/** The discovery API: an API Gateway REST API (v1) with Lambda proxy integration. */
export class DiscoveryApi extends Construct {
  readonly appFunction: AppFunction;
  readonly restApi: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DiscoveryApiProps) {
    super(scope, id);
    const auth = props.auth ?? 'iam';
    const rate = props.throttlingRateLimit ?? 100;
    const burst = props.throttlingBurstLimit ?? 200;
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) {
      throw new Error(
        `DiscoveryApi throttling rate=${rate} burst=${burst} is invalid: use a rate above 0 and a whole burst of at least 1.`,
      );
    }
    const cloudWatchRole = props.cloudWatchRole ?? true;

    this.appFunction = new AppFunction(this, 'Function', {
      entry: ENTRY,
      name: 'discovery',
      description: 'Answers which TF Serving endpoints can serve a model (version, label) now',
      timeout: Duration.seconds(10),
      environment: props.environment,
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      // API Gateway's metrics are keyed by this name: one per stack, so alarms see only theirs.
      restApiName: `${Stack.of(this).stackName}-discovery`,
      description: 'tf-serving-registry discovery API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole,
      // The role is an account-wide setting other APIs may rely on: keep it when the stack goes.
      ...(cloudWatchRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      deployOptions: {
        stageName: props.stageName ?? 'v1',
        throttlingRateLimit: rate,
        throttlingBurstLimit: burst,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        // X-Ray: a request's trace runs from the stage into the discovery function.
        tracingEnabled: true,
      },
      defaultMethodOptions: {
        authorizationType:
          auth === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
      },
    });

    // API Gateway's own errors (unknown route, missing auth, throttled) in the design's error shape.
    for (const [id, type] of [
      ['Default4xx', apigateway.ResponseType.DEFAULT_4XX],
      ['Default5xx', apigateway.ResponseType.DEFAULT_5XX],
    ] as const) {
      this.restApi.addGatewayResponse(id, {
        type,
        templates: {
          'application/json':
            '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}',
        },
      });
    }

    const integration = new apigateway.LambdaIntegration(this.appFunction.function, {
      allowTestInvoke: false,
    });
    const validator = this.restApi.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      // GET routes carry no body; on for the AwsSolutions check (APIG2), a no-op without request models.
      validateRequestBody: true,
    });
    for (const route of DISCOVERY_ROUTES) {
      const resource = this.restApi.root.resourceForPath(route);
      for (const method of DISCOVERY_METHODS) {
        resource.addMethod(method, integration, {
          requestValidator: validator,
          requestParameters: Object.fromEntries(
            routeParameters(route).map((param) => [`method.request.path.${param}`, true]),
          ),
        });
      }
    }

    // Each invoke permission names its method of this API (SourceArn, a joined ARN that policy
    // checkers such as Control Tower's CT.LAMBDA.PR.2 cannot read); SourceAccount adds, readably,
    // that only this account's API Gateway may invoke the function.
    for (const permission of this.restApi.node.findAll()) {
      if (permission instanceof lambda.CfnPermission) permission.sourceAccount = Stack.of(this).account;
    }

    this.acknowledgeNagFindings(auth, cloudWatchRole);
  }

  /** The invoke URL of the stage, ending with '/'. */
  get url(): string {
    return this.restApi.url;
  }

  private acknowledgeNagFindings(auth: ApiAuth, cloudWatchRole: boolean): void {
    acknowledgeLogGroupChoices(this.accessLogGroup);
    const api = Validations.of(this.restApi);
    api.acknowledge(
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF by default: stage throttling bounds the load, and callers are IAM-authorized unless API_AUTH=none.',
      },
      {
        id: 'AwsSolutions-APIG6',
        reason: EXECUTION_LOGS_OFF,
      },
      {
        id: 'cdk-validator-cfnguard::api_gw_v1_execution_logging_enabled_check',
        reason: EXECUTION_LOGS_OFF,
      },
      {
        id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
        reason:
          "Each invoke permission has SourceArn (this API's method) and SourceAccount (this account), as references resolved at deploy, which the rule reads as absent.",
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'Callers are AWS principals (IAM authorization), not Cognito users.',
      },
    );
    if (auth === 'none') {
      api.acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'API_AUTH=none was chosen explicitly (LocalStack, or a private network in front of the API).',
      });
    }
    if (cloudWatchRole) {
      api.acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-level logging role uses the AWS managed policy made for it.",
      });
    }
  }
}
