/**
 * The data layer on DynamoDB Local: one test per access pattern, with the consumed capacity
 * showing that each read touches only what it returns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestTable, resetMeter, type TestTable } from '../support/local-aws.js';
import { clientSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import { bookSession, cancelSession, rescheduleSession, importDataset } from '../../shared/use-cases/manage-plans.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { LedgerConflictError } from '../../shared/domain/errors.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';

const therapist = therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' });
const client = (id: string) => clientSchema.parse({ id, name: `Client ${id}`, email: `${id}@example.com`, timezone: 'Europe/London' });
const plan = (id: string, clientId: string) =>
  planSchema.parse({
    id,
    clientId,
    therapistId: 't-amy',
    goal: 'back-pain',
    phases: [
      { name: 'initial', sessions: 3, everyDays: 7 },
      { name: 'maintenance', everyDays: 28 },
    ],
  });
const session = (id: string, planId: string, start: string) => sessionSchema.parse({ id, planId, start, durationMinutes: 60, location: 'Room 1' });

describe('the DynamoDB store', () => {
  let t: TestTable;

  beforeAll(async () => {
    t = await createTestTable();
    await t.store.putTherapist(therapist);
    await t.store.putClient(client('c-1'));
    await t.store.putPlan(plan('p-1', 'c-1'));
    for (const [i, start] of ['2027-03-01T10:00:00Z', '2027-03-08T10:00:00Z', '2027-03-15T10:00:00Z', '2027-03-22T10:00:00Z'].entries()) {
      await t.store.saveSession(session(`s-1-${i + 1}`, 'p-1', start));
    }
    // Noise: many other clients' sessions outside the windows asked about below.
    for (let c = 2; c <= 6; c++) {
      await t.store.putClient(client(`c-${c}`));
      await t.store.putPlan(plan(`p-${c}`, `c-${c}`));
      for (let s = 0; s < 4; s++) await t.store.saveSession(session(`s-${c}-${s}`, `p-${c}`, `2027-0${4 + (s % 3)}-1${s}T09:00:00Z`));
    }
  });

  it('reads everything about one client in one Query', async () => {
    resetMeter(t.meter);
    const bundle = await t.store.getClientBundle('c-1');
    expect(t.meter.requests).toBe(1);
    expect(bundle?.client.id).toBe('c-1');
    expect(bundle?.plans.map((p) => p.id)).toEqual(['p-1']);
    expect(bundle?.sessions.map((s) => s.id)).toEqual(['s-1-1', 's-1-2', 's-1-3', 's-1-4']);
  });

  it("numbers a plan's sessions through its phases", async () => {
    const bundle = await t.store.getClientBundle('c-1');
    expect(bundle?.sessions.map((s) => [s.number, s.phase])).toEqual([
      [1, 'initial'],
      [2, 'initial'],
      [3, 'initial'],
      [4, 'maintenance'],
    ]);
  });

  it('finds the sessions starting in a window, reading only those', async () => {
    resetMeter(t.meter);
    const sessions = await t.store.sessionsStartingBetween('2027-03-07T00:00:00.000Z', '2027-03-16T00:00:00.000Z');
    expect(sessions.map((s) => s.id).sort()).toEqual(['s-1-2', 's-1-3']);
    expect(t.meter.itemsRead).toBe(2);
    // One Query per UTC day in the window; each small page costs the 0.5-unit minimum.
    expect(t.meter.readUnits).toBeGreaterThan(0);
    expect(t.meter.readUnits).toBeLessThanOrEqual(t.meter.requests * 0.5);
  });

  it("finds a therapist's sessions in a period", async () => {
    resetMeter(t.meter);
    const activity = await t.store.therapistActivity('t-amy', '2027-03-01T00:00:00.000Z', '2027-03-09T00:00:00.000Z');
    expect(activity.sessions.map((s) => s.id)).toEqual(['s-1-1', 's-1-2']);
    expect(t.meter.itemsRead).toBe(2);
  });

  it("stores each check-in with the intake's baseline and the previous check-in; the first is not a baseline", async () => {
    expect(
      await t.store.recordBaseline({
        clientId: 'c-1',
        planId: 'p-1',
        answers: { pain: 8, mobility: 3, stress: 7, sleep: 4, reason: '' },
        at: '2027-02-28T10:00:00.000Z',
      }),
    ).toBe('recorded');
    const first = await t.store.recordCheckIn({
      clientId: 'c-1',
      sessionId: 's-1-1',
      answers: { pain: 7, mobility: 4, stress: 6, sleep: 5, notes: '<b>tight</b>', wantsToRebook: false },
      at: '2027-03-02T10:00:00.000Z',
    });
    const second = await t.store.recordCheckIn({
      clientId: 'c-1',
      sessionId: 's-1-2',
      answers: { pain: 5, mobility: 5, stress: 5, sleep: 6, notes: '', wantsToRebook: true },
      at: '2027-03-09T10:00:00.000Z',
    });
    expect(first).toMatchObject({ baseline: false, baselineScores: { pain: 8, mobility: 3, stress: 7, sleep: 4 } });
    expect(first?.previous).toBeUndefined();
    expect(second).toMatchObject({ baseline: false, previous: { pain: 7, mobility: 4, stress: 6, sleep: 5 }, baselineScores: { pain: 8 } });
    const bundle = await t.store.getClientBundle('c-1');
    expect(bundle?.plans[0]?.baseline).toEqual({ pain: 8, mobility: 3, stress: 7, sleep: 4, at: '2027-02-28T10:00:00.000Z' });
    expect(bundle?.sessions.find((s) => s.id === 's-1-1')?.checkInAnsweredAt).toBe('2027-03-02T10:00:00.000Z');
    const activity = await t.store.therapistActivity('t-amy', '2027-03-01T00:00:00.000Z', '2027-03-31T00:00:00.000Z');
    expect(activity.checkIns.map((c) => c.sessionId)).toEqual(['s-1-1', 's-1-2']);
  });

  it('keeps one record when the same check-in is submitted twice at once', async () => {
    const answers = { pain: 3, mobility: 6, stress: 3, sleep: 7, notes: '', wantsToRebook: false };
    const results = await Promise.all(
      [1, 2, 3].map(() => t.store.recordCheckIn({ clientId: 'c-1', sessionId: 's-1-3', answers, at: '2027-03-16T10:00:00.000Z' })),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const bundle = await t.store.getClientBundle('c-1');
    expect(bundle?.checkIns.filter((c) => c.sessionId === 's-1-3')).toHaveLength(1);
  });

  it('reads what dispatch needs in one request, whatever the client history', async () => {
    resetMeter(t.meter);
    const context = await t.store.getMessageContext({ clientId: 'c-1', planId: 'p-1', sessionId: 's-1-4', therapistId: 't-amy', dayCapDate: '2027-03-21' });
    expect(t.meter.requests).toBe(1);
    expect(context.client?.id).toBe('c-1');
    expect(context.plan?.id).toBe('p-1');
    expect(context.session?.id).toBe('s-1-4');
    expect(context.therapist?.id).toBe('t-amy');
    expect(context.dayCapHolder).toBeUndefined();
    expect(t.meter.readUnits).toBeGreaterThan(0);
    expect(t.meter.readUnits).toBeLessThanOrEqual(2.5);
  });

  it('finds plans with a maintenance action due, and only those', async () => {
    await t.store.setMaintenanceMark('c-2', 'p-2', undefined, '2027-05-20T09:00:00.000Z');
    await t.store.setMaintenanceMark('c-3', 'p-3', undefined, '2027-06-20T09:00:00.000Z');
    resetMeter(t.meter);
    const due = await t.store.plansNeedingMaintenanceAction('2027-06-01T00:00:00.000Z');
    expect(due.map((p) => p.id)).toEqual(['p-2']);
    expect(t.meter.itemsRead).toBe(1);
    await t.store.setMaintenanceMark(
      'c-2',
      'p-2',
      { state: 'lapsed', dueAt: '2027-05-20T09:00:00.000Z', lapsedAt: '2027-06-03T09:00:00.000Z', markedAt: '2027-06-03T09:00:00.000Z' },
      undefined,
    );
    expect(await t.store.plansNeedingMaintenanceAction('2027-06-01T00:00:00.000Z')).toEqual([]);
    expect((await t.store.therapistPlans('t-amy')).find((p) => p.id === 'p-2')?.maintenanceMark?.state).toBe('lapsed');
  });

  it('claims a message identity once; a second claim sees the first', async () => {
    const request = { name: 'rm.s-1-4.P2D.v1', kind: 'reminder' as const, clientId: 'c-1', sessionId: 's-1-4', now: '2027-03-20T10:00:00.000Z' };
    const results = await Promise.all([t.store.claim(request), t.store.claim(request)]);
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    const loser = results.find((r) => !r.claimed);
    expect(loser && !loser.claimed && loser.existing.status).toBe('claimed');
    await t.store.markSent(request.name, 'ses-123', '2027-03-20T10:00:01.000Z');
    const again = await t.store.claim(request);
    expect(again.claimed).toBe(false);
    expect(!again.claimed && again.existing).toMatchObject({ status: 'sent', sesMessageId: 'ses-123' });
  });

  it('lets a released claim be taken again, and never overwrites a sent message with a skip', async () => {
    const request = { name: 'ci.s-1-4.after.v1', kind: 'check-in' as const, clientId: 'c-1', now: '2027-03-23T10:00:00.000Z' };
    expect((await t.store.claim(request)).claimed).toBe(true);
    await t.store.release(request.name);
    expect((await t.store.claim(request)).claimed).toBe(true);
    await t.store.markSent(request.name, 'ses-9', request.now);
    await t.store.markSkipped(request, 'late');
    expect((await t.store.get(request.name))?.status).toBe('sent');
  });

  it('lists the outbox of a period by day', async () => {
    await t.store.markSkipped({ name: 'rm.s-9.P2D.v1', kind: 'reminder', clientId: 'c-1', now: '2027-03-24T08:00:00.000Z' }, 'session cancelled');
    const entries = await t.store.listSince('2027-03-24T00:00:00.000Z', '2027-03-25T00:00:00.000Z');
    expect(entries).toEqual([expect.objectContaining({ name: 'rm.s-9.P2D.v1', status: 'skipped', reason: 'session cancelled' })]);
  });

  it('lists an entry once it settles: the claim writes one unit, the record two (the entry and its outbox index)', async () => {
    const request = { name: 'rm.s-1-3.PT2H.v1', kind: 'reminder' as const, clientId: 'c-1', sessionId: 's-1-3', now: '2027-03-26T08:00:00.000Z' };
    const day = ['2027-03-26T00:00:00.000Z', '2027-03-27T00:00:00.000Z'] as const;

    resetMeter(t.meter);
    await t.store.claim(request);
    const claimUnits = t.meter.writeUnits;
    const whileClaimed = await t.store.listSince(...day);
    resetMeter(t.meter);
    await t.store.markSent(request.name, 'ses-77', '2027-03-26T08:00:01.000Z');
    const recordUnits = t.meter.writeUnits;
    const settled = await t.store.listSince(...day);

    expect(claimUnits).toBe(1);
    expect(whileClaimed).toEqual([]);
    expect(recordUnits).toBe(2);
    expect(settled).toEqual([expect.objectContaining({ name: request.name, status: 'sent', sesMessageId: 'ses-77', updatedAt: '2027-03-26T08:00:01.000Z' })]);
  });

  it('lists a released claim, pending its retry, and drops it from the outbox while it is claimed again', async () => {
    const at = '2027-03-27T09:00:00.000Z';
    const clocked = await createTestTable({ now: () => new Date(at) });
    const request = { name: 'ci.s-1-3.after.v1', kind: 'check-in' as const, clientId: 'c-1', now: at };
    const day = ['2027-03-27T00:00:00.000Z', '2027-03-28T00:00:00.000Z'] as const;

    await clocked.store.claim(request);
    await clocked.store.release(request.name);
    const released = await clocked.store.listSince(...day);
    await clocked.store.claim(request);
    const claimedAgain = await clocked.store.listSince(...day);

    expect(released).toEqual([expect.objectContaining({ name: request.name, status: 'released' })]);
    expect(claimedAgain).toEqual([]);
  });

  it('holds the daily non-urgent slot for one message only', async () => {
    expect(await t.store.holdDayCap('c-1', '2027-03-24', 'ci.a.after.v1', '2027-03-26T00:00:00.000Z')).toBe(true);
    expect(await t.store.holdDayCap('c-1', '2027-03-24', 'ci.a.after.v1', '2027-03-26T00:00:00.000Z')).toBe(true);
    expect(await t.store.holdDayCap('c-1', '2027-03-24', 'mn.p.20270324.v1', '2027-03-26T00:00:00.000Z')).toBe(false);
    const context = await t.store.getMessageContext({ clientId: 'c-1', dayCapDate: '2027-03-24' });
    expect(context.dayCapHolder).toBe('ci.a.after.v1');
  });

  it('consumes a single-use token once', async () => {
    expect(await t.store.consume('tok-abc123', '2027-03-30T00:00:00.000Z')).toBe(true);
    expect(await t.store.consume('tok-abc123', '2027-03-30T00:00:00.000Z')).toBe(false);
  });

  it('tells a consumed token from a fresh one, reading consistently', async () => {
    expect(await t.store.isConsumed('tok-read01')).toBe(false);
    await t.store.consume('tok-read01', '2027-03-30T00:00:00.000Z');
    expect(await t.store.isConsumed('tok-read01')).toBe(true);
  });

  it('suppresses a client by email address', async () => {
    const suppressed = await t.store.suppressByEmail('C-5@EXAMPLE.com', 'bounce', '2027-03-01T00:00:00.000Z', 'mailbox does not exist');
    expect(suppressed?.id).toBe('c-5');
    expect((await t.store.getClient('c-5'))?.suppressed).toMatchObject({ reason: 'bounce' });
    expect(await t.store.suppressByEmail('nobody@example.com', 'bounce', '2027-03-01T00:00:00.000Z')).toBeUndefined();
  });

  it('books, moves and cancels a session through the use cases, raising the version', async () => {
    const booked = await bookSession(t.store, { id: 's-1-5', planId: 'p-1', start: '2027-04-19T10:00:00Z', durationMinutes: 45, location: 'Room 3' });
    expect(booked).toMatchObject({ version: 1, status: 'booked', clientId: 'c-1', therapistId: 't-amy', number: 5 });
    const moved = await rescheduleSession(t.store, 's-1-5', '2027-04-20T11:00:00+01:00');
    expect(moved).toMatchObject({ version: 2, start: '2027-04-20T10:00:00.000Z' });
    const cancelled = await cancelSession(t.store, 's-1-5');
    expect(cancelled.status).toBe('cancelled');
    expect((await t.store.findSession('s-1-5'))?.status).toBe('cancelled');
  });

  it('refuses a booking on a missing plan and writes nothing', async () => {
    await expect(
      bookSession(t.store, { id: 's-x', planId: 'p-missing', start: '2027-04-19T10:00:00Z', durationMinutes: 45, location: 'Room 3' }),
    ).rejects.toThrow(ValidationError);
    expect(await t.store.findSession('s-x')).toBeUndefined();
  });

  it('imports nothing when any record is bad', async () => {
    const fresh = await createTestTable();
    const data = { therapists: [therapist], clients: [client('c-a'), { ...client('c-b'), email: 'broken' }], plans: [plan('p-a', 'c-a')], sessions: [] };
    await expect(importDataset(fresh.store, data)).rejects.toThrow(/clients\[1\]\.email/);
    expect(await fresh.store.getClient('c-a')).toBeUndefined();
  });
});

describe('the ledger’s state machine on DynamoDB Local: the first terminal state stands', () => {
  let t: TestTable;
  const at = '2027-03-20T10:00:00.000Z';
  const request = (name: string) => ({ name, kind: 'check-in' as const, clientId: 'c-1', now: at });

  beforeAll(async () => {
    t = await createTestTable();
  });

  it('never lets a skip erase a live claim', async () => {
    await t.store.claim(request('ci.a.after.v1'));

    const standing = await t.store.markSkipped(request('ci.a.after.v1'), 'session cancelled');

    expect(standing).toMatchObject({ status: 'claimed' });
    expect(await t.store.get('ci.a.after.v1')).toMatchObject({ status: 'claimed' });
  });

  it('records a sent or failed outcome only over the claim, refusing with LedgerConflictError otherwise', async () => {
    await t.store.claim(request('ci.b.after.v1'));
    await t.store.markSent('ci.b.after.v1', 'ses-b', at);

    await expect(t.store.markFailed('ci.b.after.v1', 'outcome unknown', at)).rejects.toBeInstanceOf(LedgerConflictError);
    await expect(t.store.markSent('ci.never-claimed.after.v1', 'ses-x', at)).rejects.toBeInstanceOf(LedgerConflictError);
    expect(await t.store.get('ci.b.after.v1')).toMatchObject({ status: 'sent', sesMessageId: 'ses-b' });
    expect(await t.store.get('ci.never-claimed.after.v1')).toBeUndefined();
  });

  it('lets a failure settle a released claim, and nothing settle a failure', async () => {
    await t.store.claim(request('ci.c.after.v1'));
    await t.store.release('ci.c.after.v1');

    await t.store.markFailed('ci.c.after.v1', 'gave up after 3 retries: SES is throttling', at);

    await expect(t.store.markSent('ci.c.after.v1', 'ses-c', at)).rejects.toBeInstanceOf(LedgerConflictError);
    expect(await t.store.get('ci.c.after.v1')).toMatchObject({ status: 'failed', reason: 'gave up after 3 retries: SES is throttling' });
  });

  it('lets a plain skip be claimed again, but never a deferral, nor overwrite it with a skip', async () => {
    await t.store.markSkipped(request('ci.d.after.v1'), 'plan paused');
    const reclaimed = await t.store.claim(request('ci.d.after.v1'));
    await t.store.settleSkipped('ci.d.after.v1', 'deferred to 2027-03-21T08:00:00.000Z: one non-urgent email per day', at, '2027-03-21T08:00:00.000Z');

    const duplicate = await t.store.claim(request('ci.d.after.v1'));
    await t.store.markSkipped(request('ci.d.after.v1'), 'session cancelled');

    expect(reclaimed.claimed).toBe(true);
    expect(duplicate).toMatchObject({ claimed: false, existing: { status: 'skipped', deferredTo: '2027-03-21T08:00:00.000Z' } });
    expect(await t.store.get('ci.d.after.v1')).toMatchObject({
      status: 'skipped',
      deferredTo: '2027-03-21T08:00:00.000Z',
      reason: expect.stringMatching(/^deferred to /),
    });
  });

  it('gives each of two racing settles one winner', async () => {
    await t.store.claim(request('ci.e.after.v1'));

    const results = await Promise.allSettled([t.store.markSent('ci.e.after.v1', 'ses-e', at), t.store.markFailed('ci.e.after.v1', 'outcome unknown', at)]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected');
    expect(loser?.status === 'rejected' && loser.reason).toBeInstanceOf(LedgerConflictError);
  });
});

describe('two intake answers on one plan at the same time', () => {
  it('keeps the first whole: one is recorded, the other is told it was answered', async () => {
    const t = await createTestTable();
    await t.store.putTherapist(therapist);
    await t.store.putClient(client('c-9'));
    await t.store.putPlan(plan('p-9', 'c-9'));
    const answers = (pain: number) => ({ pain, mobility: pain, stress: pain, sleep: pain, reason: `reason ${pain}` });

    const results = await Promise.all(
      [6, 3].map((pain) => t.store.recordBaseline({ clientId: 'c-9', planId: 'p-9', answers: answers(pain), at: '2027-03-09T09:00:00.000Z' })),
    );

    expect([...results].sort()).toEqual(['already-answered', 'recorded']);
    const baseline = (await t.store.getClientBundle('c-9', true))!.plans[0]!.baseline!;
    const winner = results[0] === 'recorded' ? 6 : 3;
    expect(baseline).toEqual({ ...answers(winner), at: '2027-03-09T09:00:00.000Z' });
  });

  it('reports a second submit of the same session as already answered', async () => {
    const t = await createTestTable();
    await t.store.putTherapist(therapist);
    await t.store.putClient(client('c-8'));
    await t.store.putPlan(plan('p-8', 'c-8'));
    await t.store.saveSession(session('s-8-1', 'p-8', '2027-03-01T10:00:00Z'));
    const input = {
      clientId: 'c-8',
      sessionId: 's-8-1',
      answers: { pain: 4, mobility: 5, stress: 5, sleep: 5, notes: '', wantsToRebook: false },
      at: '2027-03-02T09:00:00.000Z',
    };

    const results = await Promise.all([t.store.recordCheckIn(input), t.store.recordCheckIn(input)]);

    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect((await t.store.getClientBundle('c-8', true))!.checkIns).toHaveLength(1);
  });
});

describe('the DynamoDB store reading an item no writer of its laid out', () => {
  it('refuses it with the item’s key and the bad fields, not a half-read object', async () => {
    const t = await createTestTable();
    await t.store.putClient(client('c-m'));
    await t.documentClient.send(
      new PutCommand({
        TableName: t.tableName,
        Item: { pk: 'CLIENT#c-m', sk: 'SESSION#s-m', type: 'session', id: 's-m', planId: 'p-m', clientId: 'c-m', start: 1_800_000_000, status: 'booked' },
      }),
    );

    const read = t.store.getClientBundle('c-m');

    await expect(read).rejects.toBeInstanceOf(ValidationError);
    await expect(read).rejects.toThrow(/^stored session item CLIENT#c-m \/ SESSION#s-m is invalid: start: .*; durationMinutes: /);
  });
});
