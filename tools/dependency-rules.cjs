/**
 * The dependency rule, checked by `npm run lint` (dependency-cruiser): domain ← adapters ←
 * composition ← function entries, and nothing of `functions/` imports the deployments (`infra/`),
 * the tools, the tests or the benchmarks. No import circles anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle hides which module depends on which.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      comment: 'The domain (records, ports, rules) imports nothing else of the project.',
      from: { path: '^functions/domain/' },
      to: { path: '^(functions/(?!domain/)|infra/|tools/|test/|bench/|localstack/|client/|examples/)' },
    },
    {
      name: 'adapters-do-not-import-composition-or-entries',
      severity: 'error',
      comment: 'Adapters implement the domain ports; the composition root and the entries use them.',
      from: { path: '^functions/adapters/' },
      to: {
        path: '^(functions/(composition|discovery|ecs-events|probe|probe-shard|reconcile)/|infra/|tools/|test/|bench/|localstack/|client/)',
      },
    },
    {
      name: 'composition-does-not-import-entries',
      severity: 'error',
      from: { path: '^functions/composition/' },
      to: {
        path: '^(functions/(discovery|ecs-events|probe|probe-shard|reconcile)/|infra/|tools/|test/|bench/|localstack/|client/)',
      },
    },
    {
      name: 'entries-do-not-import-each-other',
      severity: 'error',
      comment: 'A step two functions need lives in the domain, not in one of them.',
      from: { path: '^functions/(discovery|ecs-events|probe|probe-shard|reconcile)/' },
      to: {
        path: '^(functions/(discovery|ecs-events|probe|probe-shard|reconcile)/|infra/|tools/|test/|bench/)',
        pathNot: '^functions/$1/',
      },
    },
    {
      name: 'client-is-standalone',
      severity: 'error',
      comment: 'The client package depends on nothing of the server.',
      from: { path: '^client/src/' },
      to: {
        path: '^(?!client/)',
        dependencyTypesNot: [
          'npm',
          'npm-dev',
          'npm-optional',
          'npm-peer',
          'core',
          'npm-no-pkg',
          'npm-unknown',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|cdk\\.out|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
