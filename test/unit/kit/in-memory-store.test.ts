import { InMemoryRegistryStore } from '../../support/kit/in-memory-store.ts';
import { registryStoreContract } from '../../support/registry-store-contract.ts';

// The twin the unit tests stand on passes the same contract as the DynamoDB store.
registryStoreContract('InMemoryRegistryStore', async () => ({ store: new InMemoryRegistryStore() }));
