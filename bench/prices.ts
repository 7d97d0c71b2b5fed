/**
 * Prices used by the cost model (USD, us-east-1, on demand, no free tier). They were read from
 * stored copies of public pages (this machine has no web access): each entry names its sources
 * and the date the stored page carries. Check them against the AWS pricing pages before quoting.
 */

export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly sources: readonly string[];
  /** When the sources were read, if not on {@link PRICES_READ_ON}. */
  readonly readOn?: string;
}

export const PRICES_READ_ON = '2026-11-21';

export const PRICES = {
  dynamodbWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'write request unit (on-demand, standard table class)',
    sources: [
      'airbyte.com/data-engineering-resources/dynamodb-pricing (page dated 2025-07-21): "Write Request Units (WRU): $0.625 per million", US East, after the November 2024 reduction',
      'jusdb.com/blog/dynamodb-cost-optimization-a-comprehensive-guide-by-jusdb (2025-08-19): on-demand throughput 50 % cheaper from 2024-11-01',
      'aws.amazon.com/dynamodb/pricing/on-demand/ (stored copy renders the rate table client-side: units and rounding rules only)',
    ],
  },
  dynamodbReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'read request unit (one strongly consistent read of up to 4 KB; eventually consistent: half)',
    sources: ['as for write request units: "Read Request Units (RRU): $0.125 per million"'],
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second, arm64 (first 7.5 billion GB-s a month)',
    sources: [
      'cloudchipr.com/blog/aws-lambda-pricing ("Ultimate Guide 2024"): ARM first 7.5 billion GB-s $0.0000133334',
      'artillery@2.0.28 lib/platform/aws-lambda/prices.js (unpkg): base arm64 1333340e-11 $/GB-s',
    ],
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: 'request (x86 and arm64)',
    sources: [
      'api-evangelist/aws-lambda plans/aws-lambda-plans-pricing.yml, transcribed from aws.amazon.com/lambda/pricing/ (read 2026-09-20): "$0.20 per million requests"',
    ],
  },
  apiGatewayRestRequest: {
    usd: 3.5 / 1e6,
    unit: 'REST API call (first 333 million a month; $2.80 per million for the next 667 million)',
    sources: [
      'docs.aws.amazon.com whitepaper "Best Practices for Designing Amazon API Gateway Private APIs and Private Integration", Cost optimization, Table 4 (undated stored copy)',
      'go-cloud.io/aws-api-gateway-pricing (2026): "REST API costs $3.50 per million"',
    ],
  },
  apiGatewayHttpRequest: {
    usd: 1.0 / 1e6,
    unit: 'HTTP API request (first 300 million a month; $0.90 per million for the next 700 million), metered in 512 KB increments',
    sources: [
      'docs.aws.amazon.com whitepaper "Best Practices for Designing Amazon API Gateway Private APIs and Private Integration", Cost optimization, Table 4 (undated stored copy): HTTP "First 300 million requests (per month): $1.00 (per million)"; "HTTP APIs are metered in 512 KB increments."',
      'api-evangelist/amazon-web-services plans/amazon-web-services-plans-pricing.yml, transcribed from aws.amazon.com/api-gateway/pricing/ (read 2026-09-20, from the page\'s pricing example): "HTTP APIs (first 300 million requests/month) $1.00/million", then "$0.90/million (over 300 million)"',
      'awsforengineers.com/blog/aws-api-gateway-pricing-explained (2025-05-19): "HTTP APIs: $1.00 per million requests (first 300M)"',
    ],
    readOn: '2026-12-03',
  },
  dynamodbStorageGbMonth: {
    usd: 0.25,
    unit: 'GB-month of table storage (standard table class; the first 25 GB a month are free, not counted here)',
    sources: [
      'aws.amazon.com/dynamodb/pricing/ (undated stored copy): "The first 25 GB consumed per month is free, and prices start from $0.25 per GB-month thereafter"',
      'docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html: item size rules, and "every item in DynamoDB requires 100 bytes of storage overhead for indexing"',
    ],
    readOn: '2026-12-03',
  },
  cloudMapInstanceMonth: {
    usd: 0.1,
    unit: 'registered resource (service instance) per month',
    sources: [
      'AWS Price List data, AWSCloudMap.csv (huggingface.co/datasets/labofsahil/aws-pricing-dataset, commit 465e0e8), EffectiveDate 2025-08-01: "USD 0.1 CloudMapResource", unit Resource-Month',
    ],
  },
  cloudMapDiscoveryCall: {
    usd: 1.0 / 1e6,
    unit: 'discovery API call (DiscoverInstances, usage type Cloud-Map-DIR-API-Calls)',
    sources: [
      'same AWSCloudMap.csv, EffectiveDate 2025-08-01: "$1.00 per million API calls" / "USD0.000001 per CloudMapAPICall for Cloud-Map-DIR-API-Calls"',
    ],
  },
} as const satisfies Record<string, Price>;

/** AWS bills a month as 730 hours. */
export const SECONDS_PER_MONTH = 730 * 3600;

/** An HTTP API request is metered in increments of this many bytes (source: `apiGatewayHttpRequest`). */
export const HTTP_API_METERING_BYTES = 512 * 1024;

/** DynamoDB bills storage per GB of 10^9 bytes. */
export const BYTES_PER_GB = 1e9;
