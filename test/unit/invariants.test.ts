/**
 * The delivery checker judges a run by the ledger and SES's store: it must find a loss, a
 * duplicate, a claim left open and a reason missing, and pass a run where each message settled once.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { deferredIdentity, messageName } from '../../shared/domain/message.js';
import type { LedgerEntry } from '../../shared/ports/store.js';
import { checkInvariants, invariantLine, invariantsHold } from '../../local/simulation/invariants.js';
import type { SesStoredEmail } from '../../local/simulation/outbox.js';
import { checkInIdentity, clinicFixture, reminderIdentity, seedClinic, type SeededClinic } from '../support/memory-clinic.js';
import { MemoryStore } from '../support/memory-store.js';
import { instant } from '../support/instant.js';

const FROM = instant('2027-01-20T00:00:00.000Z');
const UNTIL = '2027-01-28T00:00:00.000Z';

let store: MemoryStore;
let seeded: SeededClinic;

beforeEach(async () => {
  store = new MemoryStore();
  // One session on 25 January 14:00 London: reminders 23 Jan 14:00 and 25 Jan 12:00, check-in 26 Jan 15:00.
  seeded = await seedClinic(store, { starts: ['2027-01-25T14:00:00.000Z'] });
});

const session = () => seeded.sessions[0]!;
const names = () => [
  messageName(reminderIdentity(session(), 'P2D')),
  messageName(reminderIdentity(session(), 'PT2H')),
  messageName(checkInIdentity(session())),
];

function entry(name: string, fields: Partial<LedgerEntry>): LedgerEntry {
  return { name, kind: 'reminder', status: 'sent', attempts: 1, updatedAt: instant('2027-01-23T14:00:01.000Z'), ...fields };
}

function email(messageId: string): SesStoredEmail {
  return { messageId, from: 'care@calm.test', destination: { to: [seeded.client.email] }, subject: 'Reminder', body: { text: 'x' }, at: 0 };
}

function check(entries: LedgerEntry[], emails: SesStoredEmail[]) {
  return checkInvariants({
    store,
    clinic: clinicFixture(),
    sessionIds: [session().id],
    entries,
    emails,
    recipients: new Set([seeded.client.email.toLowerCase()]),
    from: FROM,
    until: UNTIL,
  });
}

describe('checking a run’s delivery promise', () => {
  it('holds when every planned message was sent once or skipped with a reason', async () => {
    const [p2d, pt2h, checkIn] = names() as [string, string, string];
    const report = await check(
      [
        entry(p2d, { sesMessageId: 'm-1' }),
        entry(pt2h, { status: 'skipped', reason: 'session cancelled' }),
        entry(checkIn, { kind: 'check-in', sesMessageId: 'm-2' }),
      ],
      [email('m-1'), email('m-2')],
    );

    expect(report).toMatchObject({ planned: 3, sent: 2, skipped: 1, failed: 0, pending: 0, lost: [], duplicated: [] });
    expect(invariantsHold(report)).toBe(true);
    expect(invariantLine(report)).toBe('planned 3: 2 sent, 1 skipped, 0 failed, 0 pending; 0 lost, 0 duplicated');
  });

  it('finds a message with no entry, or one left claimed, as lost', async () => {
    const [p2d, pt2h] = names() as [string, string, string];

    const report = await check([entry(p2d, { sesMessageId: 'm-1' }), entry(pt2h, { status: 'claimed' })], [email('m-1')]);

    expect(report.lost).toEqual([pt2h, messageName(checkInIdentity(session()))]);
    expect(invariantsHold(report)).toBe(false);
  });

  it('owes a client who unsubscribed from check-ins no check-in the ledger never saw, and judges one it did', async () => {
    const [p2d, pt2h, checkIn] = names() as [string, string, string];
    await store.putClient({ ...seeded.client, preferences: { ...seeded.client.preferences, 'check-ins': false } });
    const reminders = [entry(p2d, { sesMessageId: 'm-1' }), entry(pt2h, { sesMessageId: 'm-2' })];

    const unplanned = await check(reminders, [email('m-1'), email('m-2')]);
    const leftClaimed = await check([...reminders, entry(checkIn, { kind: 'check-in', status: 'claimed' })], [email('m-1'), email('m-2')]);

    expect(unplanned).toMatchObject({ planned: 2, sent: 2, lost: [] });
    expect(invariantsHold(unplanned)).toBe(true);
    expect(leftClaimed).toMatchObject({ planned: 3, lost: [checkIn] });
  });

  it('finds an unrecorded copy of a recorded email, and one message id recorded twice, as duplicates, but not another run’s email', async () => {
    const [p2d, pt2h, checkIn] = names() as [string, string, string];

    const report = await check(
      [entry(p2d, { sesMessageId: 'm-1' }), entry(pt2h, { sesMessageId: 'm-1' }), entry(checkIn, { kind: 'check-in', sesMessageId: 'm-2' })],
      [email('m-1'), email('m-2'), email('m-3'), { ...email('m-4'), subject: 'Another run’s reminder' }],
    );

    expect(report.duplicated).toEqual(['unrecorded copy m-3', `m-1 recorded for ${p2d}, ${pt2h}`]);
  });

  it('leaves unrecorded copies unjudged when SES local is shared with other runs, which may send the same email', async () => {
    const [p2d, pt2h, checkIn] = names() as [string, string, string];
    const entries = [entry(p2d, { sesMessageId: 'm-1' }), entry(pt2h, { sesMessageId: 'm-2' }), entry(checkIn, { kind: 'check-in', sesMessageId: 'm-5' })];
    const emails = [email('m-1'), email('m-2'), email('m-5'), email('m-3')];

    const shared = await checkInvariants({
      store,
      clinic: clinicFixture(),
      sessionIds: [session().id],
      entries,
      emails,
      recipients: new Set([seeded.client.email.toLowerCase()]),
      sesShared: true,
      from: FROM,
      until: UNTIL,
    });

    expect(shared.duplicated).toEqual([]);
  });

  it('follows a deferred check-in to the copy that sent it, and counts one deferred past the window as pending', async () => {
    const [p2d, pt2h, checkIn] = names() as [string, string, string];
    const d1 = messageName(deferredIdentity(checkInIdentity(session())));
    const base = [entry(p2d, { sesMessageId: 'm-1' }), entry(pt2h, { sesMessageId: 'm-2' })];

    const sentLater = await check(
      [
        ...base,
        entry(checkIn, { kind: 'check-in', status: 'skipped', reason: 'deferred', deferredTo: instant('2027-01-27T08:00:00.000Z') }),
        entry(d1, { kind: 'check-in', sesMessageId: 'm-3' }),
      ],
      [email('m-1'), email('m-2'), email('m-3')],
    );
    const afterWindow = await check(
      [...base, entry(checkIn, { kind: 'check-in', status: 'skipped', reason: 'deferred', deferredTo: instant('2027-01-29T08:00:00.000Z') })],
      [email('m-1'), email('m-2')],
    );
    const neverSent = await check(
      [...base, entry(checkIn, { kind: 'check-in', status: 'skipped', reason: 'deferred', deferredTo: instant('2027-01-27T08:00:00.000Z') })],
      [email('m-1'), email('m-2')],
    );

    expect(sentLater).toMatchObject({ sent: 3, lost: [] });
    expect(afterWindow).toMatchObject({ pending: 1, lost: [] });
    expect(neverSent.lost).toEqual([checkIn]);
  });

  it('requires a reason on every skip and failure, and settles entries outside the planned set too', async () => {
    const [p2d, pt2h, checkIn] = names() as [string, string, string];

    const report = await check(
      [
        entry(p2d, { status: 'failed', reason: ' ' }),
        entry(pt2h, { status: 'skipped', reason: 'x' }),
        entry(checkIn, { kind: 'check-in', status: 'skipped', reason: 'x' }),
        entry('su.t-jo.20270125.v1', { kind: 'summary', status: 'released' }),
      ],
      [],
    );

    expect(report.unexplained).toEqual([p2d]);
    expect(report.unsettled).toEqual(['su.t-jo.20270125.v1']);
    expect(invariantsHold(report)).toBe(false);
  });

  describe('booking emails', () => {
    const booked = (entries: LedgerEntry[], overrides: Partial<Parameters<typeof checkInvariants>[0]> = {}) =>
      checkInvariants({
        store,
        clinic: clinicFixture(),
        sessionIds: [],
        bookedSessionIds: [session().id],
        entries,
        emails: [],
        recipients: new Set([seeded.client.email.toLowerCase()]),
        from: FROM,
        until: UNTIL,
        ...overrides,
      });
    const bc = () => `bc.${session().id}.booked.v1`;

    it('counts them and adds them to the delivery line', async () => {
      const report = await booked([entry(bc(), { kind: 'booking-confirmation', sesMessageId: 'm-9' })]);

      expect(report.bookingEmails).toEqual({ planned: 1, sent: 1, skipped: 0, failed: 0 });
      expect(invariantsHold(report)).toBe(true);
      expect(invariantLine(report)).toBe(
        'planned 0: 0 sent, 0 skipped, 0 failed, 0 pending; 0 lost, 0 duplicated; booking emails: 1 sent, 0 skipped, 0 failed',
      );
    });

    it('finds a booked session without its confirmation, or one left claimed, as lost', async () => {
      expect((await booked([])).lost).toEqual([bc()]);
      expect((await booked([entry(bc(), { kind: 'booking-confirmation', status: 'claimed' })])).lost).toEqual([bc()]);
      expect(invariantsHold(await booked([]))).toBe(false);
    });

    it('expects nothing of a kind the clinic turned off, or of a suppressed client', async () => {
      const off = clinicFixture({ bookingEmails: { undoMinutes: 5, confirmation: false, change: true, cancellation: true } });
      expect((await booked([], { clinic: off })).lost).toEqual([]);

      await store.suppressByEmail(seeded.client.email, 'bounce', FROM);
      expect((await booked([])).lost).toEqual([]);
    });

    it('accepts a cancellation told by its notice or by the confirmation skipped in the undo window', async () => {
      await store.saveSession({ ...session(), status: 'cancelled' });

      expect((await booked([entry(bc(), { kind: 'booking-confirmation', status: 'skipped', reason: 'cancelled within the undo window' })])).lost).toEqual([]);
      expect((await booked([entry(`bx.${session().id}.cancelled.v1`, { kind: 'booking-cancellation', sesMessageId: 'm-3' })])).lost).toEqual([]);
      expect((await booked([])).lost).toEqual([`${bc()} or bx.${session().id}.cancelled.v1`]);
    });
  });
});
