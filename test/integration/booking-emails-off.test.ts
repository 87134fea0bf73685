/**
 * A clinic that turned booking emails off in its stage config (`clinic.bookingEmails`), on the twin:
 * its own file, since the handlers read the clinic's config once per process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelSession, rescheduleSession } from '../../shared/use-cases/manage-plans.js';
import type { Twin } from '../../local/twin.js';
import { sesEmails } from '../support/local-aws.js';
import { bookFor, invite, later, schedulesOf, twinWith } from '../support/booking-twin.js';

let twin: Twin;

beforeAll(async () => {
  twin = await twinWith({ confirmation: false, change: false });
});

afterAll(async () => {
  await twin?.close();
});

describe('a clinic with confirmations and change notices off', () => {
  it('schedules neither for a booking or a move, and still tells of a cancellation', async () => {
    const { sessionId, email } = await bookFor(twin, '2027-02-20T10:00:00Z');
    const booked = schedulesOf(twin, sessionId);
    await later(twin, 10);
    await rescheduleSession(twin.store, sessionId, '2027-02-21T10:00:00Z');
    await twin.settle();
    const moved = schedulesOf(twin, sessionId);

    await cancelSession(twin.store, sessionId);
    await twin.settle();
    await later(twin, 1);

    expect(booked).toEqual([`ci.${sessionId}.after.v1`, `rm.${sessionId}.P2D.v1`, `rm.${sessionId}.PT2H.v1`]);
    expect(moved).toEqual([`ci.${sessionId}.after.v2`, `rm.${sessionId}.P2D.v2`, `rm.${sessionId}.PT2H.v2`]);
    const emails = await sesEmails(email);
    // The new plan's intake questionnaire goes whatever the booking-email switches.
    expect(emails.map((e) => e.subject)).toEqual(['Before your first session with Amy Chen', 'Cancelled: your session on Sun 21 Feb, 10:00 am']);
    expect(invite(emails[1])).toMatchObject({ method: 'CANCEL', sequence: 2 });
  });
});
