import { type HealthPolicy, healthPolicy } from '../../../functions/domain/health.ts';
import { loadConfig, type RegistryConfig } from '../../../functions/domain/settings.ts';

/** The registry's settings at their defaults: what the production settings module reads from no environment. */
export const DEFAULT_SETTINGS: RegistryConfig = loadConfig({});

/** The health rules at the default settings. */
export const DEFAULT_POLICY: HealthPolicy = healthPolicy(DEFAULT_SETTINGS);
