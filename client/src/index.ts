export {
  NoEndpointError,
  RegistryClientError,
  RegistryRequestError,
  RegistryUnavailableError,
} from './errors.js';
export { RegistryClient, type RegistryClientEventMap, RegistryStateEvent } from './registry-client.js';
export type {
  AwsCredentials,
  AwsCredentialsProvider,
  EjectionOptions,
  Endpoint,
  EndpointsResult,
  PickOptions,
  RegistryClientOptions,
  ResolvedEndpoint,
  Selector,
  Strategy,
} from './types.js';
