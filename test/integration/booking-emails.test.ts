/**
 * Booking emails on the twin: the writers' use cases (what `keepwell session book|reschedule|cancel`
 * runs) on DynamoDB Local, the stream into sync-schedules, the local Scheduler on a virtual clock,
 * dispatch and SES local. Each test has its own client, so SES local's store tells them apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSession, rescheduleSession } from '../../shared/use-cases/manage-plans.js';
import type { Twin } from '../../local/twin.js';
import { sesEmails } from '../support/local-aws.js';
import { bookFor, invite, later, schedulesOf, twinWith } from '../support/booking-twin.js';

// Each test's plan is new, with its first session ahead: its intake questionnaire goes at once, before any booking email.
const INTAKE = 'Before your first session with Amy Chen';

let twin: Twin;

beforeAll(async () => {
  twin = await twinWith();
});

afterAll(async () => {
  await twin?.close();
});

describe('booking emails on the twin', () => {
  it('sends the confirmation once the undo window has passed, with the invitation, and records it', async () => {
    const { sessionId, email } = await bookFor(twin, '2027-02-20T10:00:00Z');
    expect(schedulesOf(twin, sessionId)).toContain(`bc.${sessionId}.booked.v1`);

    await later(twin, 4);
    expect((await sesEmails(email)).map((e) => e.subject)).toEqual([INTAKE]);
    await later(twin, 2);

    const emails = await sesEmails(email);
    expect(emails.map((e) => e.subject)).toEqual([INTAKE, 'Booked: your session on Sat 20 Feb, 10:00 am']);
    expect(invite(emails[1])).toEqual({ method: 'REQUEST', uid: `${sessionId}@keepwell`, sequence: 0, status: 'CONFIRMED' });
    expect(await twin.store.get(`bc.${sessionId}.booked.v1`)).toMatchObject({ status: 'sent', kind: 'booking-confirmation' });
  });

  it('tells of a move with a change notice: the old version’s messages gone, SEQUENCE + 1', async () => {
    const { sessionId, email } = await bookFor(twin, '2027-02-20T14:00:00Z');
    await later(twin, 10);

    await rescheduleSession(twin.store, sessionId, '2027-02-22T15:00:00Z');
    await twin.settle();
    await later(twin, 1);

    expect(schedulesOf(twin, sessionId)).toEqual([`ci.${sessionId}.after.v2`, `rm.${sessionId}.P2D.v2`, `rm.${sessionId}.PT2H.v2`]);
    const [intake, confirmation, notice] = await sesEmails(email);
    expect(intake?.subject).toBe(INTAKE);
    expect(notice?.subject).toBe('Moved: your session is now on Mon 22 Feb, 3:00 pm');
    expect(notice?.body.text).toContain('has moved from Saturday 20 February 2027 at 2:00 pm (GMT) to Monday 22 February 2027 at 3:00 pm (GMT)');
    const [before, after] = [invite(confirmation), invite(notice)];
    expect(after.uid).toBe(before.uid);
    expect(after.sequence).toBe(Number(before.sequence) + 1);
  });

  it('tells of a cancellation with a notice that withdraws the event, and sends no reminder', async () => {
    const { sessionId, email } = await bookFor(twin, '2027-02-21T10:00:00Z');
    await later(twin, 10);

    await cancelSession(twin.store, sessionId);
    await twin.settle();
    await twin.advanceTo('2027-02-22T00:00:00.000Z');

    const emails = await sesEmails(email);
    expect(emails.map((e) => e.subject)).toEqual([INTAKE, 'Booked: your session on Sun 21 Feb, 10:00 am', 'Cancelled: your session on Sun 21 Feb, 10:00 am']);
    expect(emails[2]!.body.html).toContain('https://book.harbour-massage.example');
    expect(invite(emails[2])).toMatchObject({ method: 'CANCEL', uid: `${sessionId}@keepwell`, sequence: 1, status: 'CANCELLED' });
    expect(await twin.store.get(`rm.${sessionId}.P2D.v1`)).toMatchObject({ status: 'skipped', reason: 'session cancelled' });
  });
});

describe('within the undo window', () => {
  it('sends nothing for a booking cancelled at once, and records the confirmation skipped with why', async () => {
    const { sessionId, email } = await bookFor(twin, '2027-03-10T10:00:00Z');
    await later(twin, 2);

    await cancelSession(twin.store, sessionId);
    await twin.settle();
    await later(twin, 30);

    // The clock stands at 00:32 in London, inside the clinic's quiet hours: the plan's intake
    // questionnaire waits for the morning, so nothing at all has gone out yet.
    expect((await sesEmails(email)).map((e) => e.subject)).toEqual([]);
    expect(schedulesOf(twin, sessionId)).toEqual([]);
    expect(await twin.store.get(`bc.${sessionId}.booked.v1`)).toMatchObject({
      status: 'skipped',
      reason: 'cancelled within the undo window: the client was never told of the booking',
    });
    expect(await twin.store.get(`bx.${sessionId}.cancelled.v1`)).toBeUndefined();
  });
});
