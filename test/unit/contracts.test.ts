/** The port contracts on the in-memory fakes; test/integration/contracts.test.ts runs them on the real adapters. */
import { describe } from 'vitest';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { clinicStoreContract } from '../contract/clinic-store.contract.js';
import { ledgerContract, tokenStoreContract } from '../contract/ledger.contract.js';
import { expectedMail, mailerContract } from '../contract/mailer.contract.js';
import { schedulerContract } from '../contract/scheduler.contract.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { seededRandom } from '../support/seeded-random.js';

let seed = 1;
const memoryStore = async ({ racing }: { racing: boolean }) => (racing ? new MemoryStore({ latency: seededRandom(seed++) }) : new MemoryStore());

describe('the in-memory ledger', () => ledgerContract(memoryStore));
describe('the in-memory token store', () => tokenStoreContract(memoryStore));
describe('the in-memory clinic store', () => clinicStoreContract(memoryStore));

describe('the in-memory scheduler', () =>
  schedulerContract(async () => {
    const scheduler = new InMemoryMessageScheduler();
    return {
      scheduler,
      read: async (name) => {
        const s = scheduler.schedules.get(name);
        return s && { at: s.at, payload: s.payload };
      },
    };
  }));

describe('the in-memory mailer', () =>
  mailerContract(async () => {
    const mailer = new MemoryMailer();
    return {
      mailer,
      stored: async (messageId) => {
        const email = mailer.sent.find((e) => e.messageId === messageId);
        return email && expectedMail(email);
      },
    };
  }));
