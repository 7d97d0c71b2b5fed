import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DISCOVERY_METHODS, DISCOVERY_ROUTES, routeParameters } from '../../../functions/domain/routes.ts';
import type { ApiAuth, ApiKind } from '../context.ts';
import { AppFunction, acknowledgeLogGroupChoices } from './app-function.ts';

const ENTRY = fileURLToPath(new URL('../../../functions/discovery/handler.ts', import.meta.url));

const EXECUTION_LOGS_OFF =
  'Access logs are on; execution logs stay off (API Gateway creates their log group with no retention).';

const INVOKE_PERMISSIONS_SCOPED =
  "Each invoke permission has SourceArn (this API's route) and SourceAccount (this account), as references resolved at deploy, which the rule reads as absent.";

/**
 * The HTTP API's access log line: JSON, with HTTP API context variables (its stages know no
 * `$context.resourcePath`; the route is `$context.routeKey`). `userArn` is the SigV4 caller.
 */
const HTTP_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  userArn: '$context.identity.userArn',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
});

/**
 * What the alarms and the dashboard read of the discovery API's stage. A REST stage (namespace
 * AWS/ApiGateway, dimensions ApiName and Stage, metrics 5XXError, 4XXError, Count, Latency) and an
 * HTTP API stage (dimensions ApiId and Stage, metrics 5xx, 4xx, Count, Latency) both provide it,
 * each with its own metric names and dimensions.
 */
export interface DiscoveryApiStage {
  readonly stageName: string;
  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

export interface DiscoveryApiProps {
  /** The settings every function reads. */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * `iam`: callers sign requests (SigV4) and need `execute-api:Invoke`; `none`: open.
   * @default 'iam'
   */
  readonly auth?: ApiAuth;
  /**
   * `rest`: an API Gateway REST API (v1), what LocalStack's free edition has; `http`: an API
   * Gateway HTTP API (v2), cheaper per request, with the same routes, function and event shape
   * (payload format 1.0). docs/decisions/0020-http-api-option.md.
   * @default 'rest'
   */
  readonly kind?: ApiKind;
  /**
   * The stage the API is served on (both kinds: the URL is `https://<api>.execute-api.<region>.<suffix>/<stage>/`).
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
   * Create the account-level role API Gateway uses to write a REST API's logs (an account and
   * Region need it once for access logs; it is retained when the stack goes). HTTP APIs write
   * access logs without it: no role is created for `kind: 'http'`.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * The discovery API: the discovery function behind an API Gateway REST API (v1, Lambda proxy) or,
 * with `kind: 'http'`, an HTTP API (v2, Lambda proxy with payload format 1.0, so the function gets
 * the same event). Both route every path of `DISCOVERY_ROUTES` with every method of
 * `DISCOVERY_METHODS`, authorize with IAM unless `auth: 'none'`, throttle their stage and write
 * JSON access logs.
 */
export class DiscoveryApi extends Construct {
  readonly kind: ApiKind;
  readonly appFunction: AppFunction;
  /** The REST API (`kind: 'rest'`), else undefined. */
  readonly restApi: apigateway.RestApi | undefined;
  /** The HTTP API (`kind: 'http'`), else undefined. */
  readonly httpApi: apigwv2.HttpApi | undefined;
  /** The stage clients call, whichever the kind: what alarms and the dashboard watch. */
  readonly stage: DiscoveryApiStage;
  readonly accessLogGroup: logs.LogGroup;
  /** The invoke URL of the stage, ending with '/'. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: DiscoveryApiProps) {
    super(scope, id);
    const auth = props.auth ?? 'iam';
    this.kind = props.kind ?? 'rest';
    const rate = props.throttlingRateLimit ?? 100;
    const burst = props.throttlingBurstLimit ?? 200;
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) {
      throw new Error(
        `DiscoveryApi throttling rate=${rate} burst=${burst} is invalid: use a rate above 0 and a whole burst of at least 1.`,
      );
    }
    const stageName = props.stageName ?? 'v1';

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
    acknowledgeLogGroupChoices(this.accessLogGroup);

    const throttling = { rate, burst };
    if (this.kind === 'http') {
      const { api, stage } = this.httpFront(auth, stageName, throttling);
      this.restApi = undefined;
      this.httpApi = api;
      this.stage = stage;
      // A named stage's URL has no trailing '/' (the REST API's has): clients append paths to it.
      this.url = `${stage.url.replace(/\/$/, '')}/`;
    } else {
      const api = this.restFront(auth, stageName, throttling, props.cloudWatchRole ?? true);
      this.restApi = api;
      this.httpApi = undefined;
      this.stage = api.deploymentStage;
      this.url = api.url;
    }

    // Each invoke permission names its method or route of this API (SourceArn, a joined ARN that
    // policy checkers such as Control Tower's CT.LAMBDA.PR.2 cannot read); SourceAccount adds,
    // readably, that only this account's API Gateway may invoke the function.
    for (const permission of (this.restApi ?? this.httpApi)?.node.findAll() ?? []) {
      if (permission instanceof lambda.CfnPermission) permission.sourceAccount = Stack.of(this).account;
    }
  }

  /** API Gateway's metrics are keyed by the API's name (REST) or id (HTTP): one name per stack. */
  private apiName(): string {
    return `${Stack.of(this).stackName}-discovery`;
  }

  private restFront(
    auth: ApiAuth,
    stageName: string,
    throttling: { rate: number; burst: number },
    cloudWatchRole: boolean,
  ): apigateway.RestApi {
    const restApi = new apigateway.RestApi(this, 'RestApi', {
      // API Gateway's metrics are keyed by this name: one per stack, so alarms see only theirs.
      restApiName: this.apiName(),
      description: 'tf-serving-registry discovery API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole,
      // The role is an account-wide setting other APIs may rely on: keep it when the stack goes.
      ...(cloudWatchRole && { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN }),
      deployOptions: {
        stageName,
        throttlingRateLimit: throttling.rate,
        throttlingBurstLimit: throttling.burst,
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
      restApi.addGatewayResponse(id, {
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
    const validator = restApi.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      // GET routes carry no body; on for the AwsSolutions check (APIG2), a no-op without request models.
      validateRequestBody: true,
    });
    for (const route of DISCOVERY_ROUTES) {
      const resource = restApi.root.resourceForPath(route);
      for (const method of DISCOVERY_METHODS) {
        resource.addMethod(method, integration, {
          requestValidator: validator,
          requestParameters: Object.fromEntries(
            routeParameters(route).map((param) => [`method.request.path.${param}`, true]),
          ),
        });
      }
    }
    this.acknowledgeRestFindings(restApi, auth, cloudWatchRole);
    return restApi;
  }

  private httpFront(
    auth: ApiAuth,
    stageName: string,
    throttling: { rate: number; burst: number },
  ): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage } {
    const api = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: this.apiName(),
      description: 'tf-serving-registry discovery API',
      // The stage below is named like the REST API's, so ApiUrl has the same shape for both kinds.
      createDefaultStage: false,
      defaultAuthorizer: auth === 'iam' ? new HttpIamAuthorizer() : new apigwv2.HttpNoneAuthorizer(),
    });
    const stage = new apigwv2.HttpStage(api, 'Stage', {
      httpApi: api,
      stageName,
      autoDeploy: true,
      throttle: { rateLimit: throttling.rate, burstLimit: throttling.burst },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: apigateway.AccessLogFormat.custom(HTTP_ACCESS_LOG_FORMAT),
      },
    });
    // Payload format 1.0: the REST API's proxy event (httpMethod, resource, pathParameters,
    // headers), so the one discovery handler answers both kinds unchanged.
    const integration = new HttpLambdaIntegration('Discovery', this.appFunction.function, {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_1_0,
    });
    for (const route of DISCOVERY_ROUTES) {
      api.addRoutes({
        path: route,
        methods: DISCOVERY_METHODS.map((method) => apigwv2.HttpMethod[method]),
        integration,
      });
    }
    this.acknowledgeHttpFindings(api, auth);
    return { api, stage };
  }

  private acknowledgeRestFindings(restApi: apigateway.RestApi, auth: ApiAuth, cloudWatchRole: boolean): void {
    const api = Validations.of(restApi);
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
        reason: INVOKE_PERMISSIONS_SCOPED,
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

  private acknowledgeHttpFindings(httpApi: apigwv2.HttpApi, auth: ApiAuth): void {
    const api = Validations.of(httpApi);
    api.acknowledge({
      id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
      reason: INVOKE_PERMISSIONS_SCOPED,
    });
    if (auth === 'none') {
      const reason = 'API_AUTH=none was chosen explicitly (a private network in front of the API).';
      api.acknowledge(
        { id: 'AwsSolutions-APIG4', reason },
        { id: 'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check', reason },
      );
    }
  }
}
