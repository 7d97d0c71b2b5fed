import type { TestProject } from 'vitest/node';
import { type EngineKind, startEngine } from './dynamodb-engines.ts';

/**
 * vitest globalSetup: starts the project's DynamoDB engine once per run (named by the project's
 * `env.DYNAMODB_ENGINE`) and provides its endpoint to the tests.
 */
export default async function setup(project: TestProject) {
  const kind = (project.config.env?.DYNAMODB_ENGINE ?? 'dynalite') as EngineKind;
  const engine = await startEngine(kind);
  project.provide('dynamodbEndpoint', engine.endpoint);
  project.provide('dynamodbEngine', kind);
  return () => engine.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    dynamodbEngine: EngineKind;
  }
}
