/** The port contracts on the in-memory fakes; test/integration/contracts.test.ts runs them on the real adapters. */
import { describe } from 'vitest';
import { ledgerContract, tokenStoreContract } from '../contract/ledger.contract.js';
import { MemoryStore } from '../support/memory-store.js';
import { seededRandom } from '../support/seeded-random.js';

let seed = 1;
const memoryStore = async ({ racing }: { racing: boolean }) => (racing ? new MemoryStore({ latency: seededRandom(seed++) }) : new MemoryStore());

describe('the in-memory ledger', () => ledgerContract(memoryStore));
describe('the in-memory token store', () => tokenStoreContract(memoryStore));
