/** The port contracts on the real adapters and the twin's parts; test/unit/contracts.test.ts runs them on the fakes. */
import { describe } from 'vitest';
import type { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import { ledgerContract, tokenStoreContract } from '../contract/ledger.contract.js';
import { createTestTable } from '../support/local-aws.js';

let table: Promise<DynamoStore> | undefined;
/** One table for the file: every case uses names of its own. DynamoDB's calls always interleave. */
const dynamoStore = async () => (table ??= createTestTable().then((t) => t.store));

describe('the DynamoDB ledger', () => ledgerContract(dynamoStore));
describe('the DynamoDB token store', () => tokenStoreContract(dynamoStore));
