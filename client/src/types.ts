/** One TF Serving endpoint, as the registry's discovery API returns it. */
export interface Endpoint {
  /** Cluster + task ARN + container name: stable for the life of the task. */
  readonly id: string;
  readonly host: string;
  readonly restPort: number;
  /** `null` when the task declares no gRPC port. */
  readonly grpcPort: number | null;
  /** AVAILABLE versions, newest first (strings, as TF Serving reports them). */
  readonly versions: readonly string[];
  /** Declared labels resolved to a served version (label → version); `{}` from older registries. */
  readonly labels: Readonly<Record<string, string>>;
  readonly availabilityZone: string | null;
  readonly clusterArn: string;
  readonly taskArn: string;
  /** ISO 8601 time of the last successful probe. */
  readonly lastProbeAt: string;
}

/** An {@link Endpoint} with the addresses a caller dials. */
export interface ResolvedEndpoint extends Endpoint {
  /** `http://host:restPort` (IPv6 hosts in brackets), e.g. `http://10.0.1.5:8501`. */
  readonly restUrl: string;
  /** `host:grpcPort`, e.g. `10.0.1.5:8500`, or `null` without a gRPC port. */
  readonly grpcTarget: string | null;
}

/** Which endpoints of a model: any AVAILABLE version (neither set), one version, or one label. */
export interface Selector {
  /** Decimal digits (`'2'`, or the number 2). */
  readonly version?: string | number;
  readonly label?: string;
}

export type Strategy = 'round-robin' | 'least-loaded';

export interface PickOptions extends Selector {
  /** Prefer endpoints in this Availability Zone; others are used when it has none to offer. */
  readonly zone?: string;
  /** @default 'round-robin' */
  readonly strategy?: Strategy;
}

/** The registry's answer for one model and selector, as this client knows it. */
export interface EndpointsResult {
  readonly model: string;
  readonly version?: string;
  readonly label?: string;
  /** The registry's endpoints, in its order; passive ejection does not filter this list. */
  readonly endpoints: readonly ResolvedEndpoint[];
  /** `false` when the registry answered 404 ModelNotFound (no running task declares the model). */
  readonly known: boolean;
  /** `true` when this is a last known answer: the registry is unreachable or failing, or said so itself. */
  readonly stale: boolean;
  /** When stale: ISO 8601 time of the data (the registry's `asOf`, or when it last confirmed the answer). */
  readonly asOf?: string;
}

/** AWS credentials, as the SDK's providers return them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface EjectionOptions {
  /** Ejection after the first failure; each further failure in a row doubles it. @default 1000 */
  readonly baseMs?: number;
  /** Longest ejection. @default 30000 */
  readonly maxMs?: number;
}

export interface RegistryClientOptions {
  /**
   * Base URL of the discovery API: `http://127.0.0.1:3000` in local mode, the API Gateway stage URL
   * (`https://{api}.execute-api.{region}.amazonaws.com/v1/`) on AWS.
   */
  readonly url: string;
  /** `'iam'` signs every request with SigV4 (service `execute-api`). */
  readonly auth: 'none' | 'iam';
  /** SigV4 region. @default - from an `execute-api` URL, else `AWS_REGION` / `AWS_DEFAULT_REGION` */
  readonly region?: string;
  /** Credentials or a provider of them. @default - the AWS SDK's default provider chain */
  readonly credentials?: AwsCredentials | AwsCredentialsProvider;
  /** Background revalidation period of each watched (model, selector). @default 1000 */
  readonly refreshIntervalMs?: number;
  /** Each refresh waits interval × (1 ± jitter), uniformly. @default 0.1 */
  readonly jitter?: number;
  /** Deadline of every registry request, body included. @default 2000 */
  readonly requestTimeoutMs?: number;
  /** A watch nobody asked about for this long stops refreshing; the next call revalidates it. @default 300000 */
  readonly idleTimeoutMs?: number;
  readonly ejection?: EjectionOptions;
  /** The fetch to use (e.g. a wrapper that counts or logs). @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** Extra headers on every registry request (e.g. `x-api-key`). */
  readonly headers?: Readonly<Record<string, string>>;
}
