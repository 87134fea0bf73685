/** Importing a clinic's data into the table: all or nothing, and safe to repeat. */
import { describe, expect, it } from 'vitest';
import { createTestTable } from '../support/local-aws.js';
import { importDataset, unsubscribe, cancelSession, pausePlan } from '../../shared/use-cases/manage-plans.js';

const therapist = { id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' };
const client = { id: 'c-sam', name: 'Sam Patel', email: 'sam@example.com', timezone: 'Europe/London' };
const plan = { id: 'p-sam', clientId: 'c-sam', therapistId: 't-amy', goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 28 }] };
const session = { id: 's-1', planId: 'p-sam', start: '2027-03-01T10:00:00Z', durationMinutes: 60, location: 'Room 1' };

describe('importing a dataset', () => {
  it('keeps what the client chose and what happened when the same data is imported again', async () => {
    const { store } = await createTestTable();
    await importDataset(store, {
      therapists: [therapist],
      clients: [client],
      plans: [plan],
      sessions: [session, { ...session, id: 's-2', start: '2027-03-29T10:00:00Z' }],
    });
    await unsubscribe(store, 'c-sam', 'check-ins');
    await store.suppressByEmail('sam@example.com', 'bounce', '2027-02-01T00:00:00.000Z');
    await pausePlan(store, 'p-sam');
    await cancelSession(store, 's-1');

    await importDataset(store, {
      therapists: [therapist],
      clients: [{ ...client, name: 'Sam R. Patel' }],
      plans: [plan],
      sessions: [session, { ...session, id: 's-2', start: '2027-03-30T10:00:00Z' }],
    });

    const bundle = await store.getClientBundle('c-sam');
    expect(bundle?.client).toMatchObject({ name: 'Sam R. Patel', preferences: { 'check-ins': false }, suppressed: { reason: 'bounce' } });
    expect(bundle?.plans[0]?.status).toBe('paused');
    expect(bundle?.sessions.find((s) => s.id === 's-1')).toMatchObject({ status: 'cancelled', version: 1 });
    // A changed time is a reschedule: the version rises so messages about the old time are void.
    expect(bundle?.sessions.find((s) => s.id === 's-2')).toMatchObject({ status: 'booked', version: 2, start: '2027-03-30T10:00:00.000Z' });
  });

  it('accepts references to records already in the table, and refuses ones that are nowhere', async () => {
    const { store } = await createTestTable();
    await importDataset(store, { therapists: [therapist], clients: [client], plans: [plan] });
    await expect(importDataset(store, { sessions: [session] })).resolves.toMatchObject({ sessions: 1 });
    await expect(importDataset(store, { sessions: [{ ...session, id: 's-9', planId: 'p-nowhere' }] })).rejects.toThrow(
      'sessions[0].planId: refers to a missing plan "p-nowhere"',
    );
    expect(await store.findSession('s-9')).toBeUndefined();
  });
});
