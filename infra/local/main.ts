/**
 * `npm start`: the registry as one local process. Configuration comes from the environment,
 * with the same names as on Lambda (see README), plus the local-only ones (local-settings.ts).
 */

// Before any module reads them: metrics off (no CloudWatch here); the SDK's notice that Node 20
// support ends in 2027 is left to the README rather than printed on every start.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { loadConfig, settingConflicts } = await import('../../functions/domain/settings.ts');
const { ConfigError } = await import('../../functions/domain/errors.ts');
const { startLocalRegistry } = await import('./local-registry.ts');
const { loadLocalSettings } = await import('./local-settings.ts');

let registry: Awaited<ReturnType<typeof startLocalRegistry>>;
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
  registry = await startLocalRegistry({ config, ...loadLocalSettings() });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`tf-serving-registry: bad configuration: ${error.message}`);
    process.exit(2);
  }
  console.error('tf-serving-registry: could not start:', error);
  process.exit(1);
}

console.log(
  [
    '',
    `tf-serving-registry is running at ${registry.url}`,
    `  status page       ${registry.url}/   (every model and endpoint, and why it is or is not served)`,
    `  registry engine   ${registry.engine}, table ${config.tableName}`,
    `  discovery         GET  ${registry.url}/models[/{model}[/versions/{v}|/labels/{l}|/health]]`,
    `  API document      GET  ${registry.url}/openapi.json`,
    `  ECS events        POST ${registry.url}/events   (EventBridge events, one or an array)`,
    `  probe             every ${config.probeIntervalSeconds} s, timeout ${config.probeTimeoutMs} ms, ` +
      `${config.failureThreshold} failures to exclude`,
    `  health            unhealthy after ${config.unhealthyAfterSeconds} s without a successful probe, rows expire ` +
      `${config.removeAfterSeconds} s after it`,
    '  stop              Ctrl+C',
    ...settingConflicts(config).map((conflict) => `  warning           ${conflict.message}`),
    '',
  ].join('\n'),
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`tf-serving-registry: ${signal}, shutting down`);
    registry.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('tf-serving-registry: shutdown failed:', error);
        process.exit(1);
      },
    );
  });
}
