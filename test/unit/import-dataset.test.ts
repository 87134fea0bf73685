/** A dataset imported whole (simulation, seed) keeps the table rules a file import keeps, through the same writer. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/validation.js';
import type { ClientRecords } from '../../shared/ports/erasure.js';
import { importDataset } from '../../shared/use-cases/import/import-dataset.js';
import { MemoryStore } from '../support/memory-store.js';

const therapist = { id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' };
const client = (id: string, email: string) => ({ id, name: 'Client', email, timezone: 'Europe/London' });

describe('importing a dataset', () => {
  it('refuses an address another client in the table holds, in any case, before writing anything', async () => {
    const store = new MemoryStore();
    await importDataset(store, { clients: [client('c-1', 'sam@example.com')] });

    const attempt = importDataset(store, { therapists: [therapist], clients: [client('c-2', 'Sam@Example.com')] });

    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow('clients[0]: email: is the address of client c-1 in the table already');
    expect(await store.getTherapist('t-amy')).toBeUndefined();
    expect(await store.getClient('c-2')).toBeUndefined();
  });

  it('refuses a client that was erased, when it is given the erasure records', async () => {
    const store = new MemoryStore();
    const erasedAt = '2027-01-05T10:00:00.000Z';
    const records: Pick<ClientRecords, 'tombstonesFor'> = {
      tombstonesFor: async (ids) => ({ byId: new Map(ids.filter((id) => id === 'c-1').map((id) => [id, { clientId: id, erasedAt }])), byEmail: new Map() }),
    };

    await expect(importDataset(store, { clients: [client('c-1', 'sam@example.com')] }, { records })).rejects.toThrow(
      'clients[0]: client "c-1" was erased on 2027-01-05 (keepwell client erase): an erased client is not imported again',
    );
    expect(await store.getClient('c-1')).toBeUndefined();
  });

  it('imports the same client again under its own address, updating its name', async () => {
    const store = new MemoryStore();
    await importDataset(store, { clients: [client('c-1', 'sam@example.com')] });

    await importDataset(store, { clients: [{ ...client('c-1', 'SAM@example.com'), name: 'Sam R.' }] });

    expect((await store.getClient('c-1'))?.name).toBe('Sam R.');
  });
});
