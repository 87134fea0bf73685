/**
 * Booking emails end to end on the in-memory ports: the writers' use cases, sync-schedules fed
 * each session's images as the stream would, the in-memory Scheduler, and dispatch rendering the
 * email that fires. The same rules run on the twin in test/integration/booking-emails.test.ts.
 */
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { BOOKING_SKIP_REASONS, bookingTransition, confirmationDue, earlierBookingsOf } from '../../shared/domain/booking-emails.js';
import { isUrgent, categoryOf } from '../../shared/domain/message.js';
import { bookingEmailsSchema, clientSchema, clinicSchema, planSchema, therapistSchema, type Clinic } from '../../shared/domain/model.js';
import { bookSession, cancelSession, rescheduleSession, suppressAddress, unsubscribe } from '../../shared/use-cases/manage-plans.js';
import { sendMessage, type DispatchRequest } from '../../shared/use-cases/send-message.js';
import { syncSchedules, type SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { testSigner } from '../support/memory-clinic.js';
import type { StoredSession } from '../../shared/ports/store.js';

// London is on GMT in February, so local and UTC times read the same.
const NOW = '2027-02-01T10:00:00.000Z';
const START = '2027-02-10T10:00:00.000Z';

function clinicWith(bookingEmails: Record<string, unknown> = {}): Clinic {
  return clinicSchema.parse({
    name: 'Harbour Clinic',
    senderEmail: 'hello@harbour.example',
    timezone: 'Europe/London',
    baseUrl: 'https://harbour.example',
    bookingUrl: 'https://harbour.example/book',
    bookingEmails,
  });
}

async function harbour(bookingEmails: Record<string, unknown> = {}) {
  let now = NOW;
  const clock = { now: () => new Date(now) };
  const store = new MemoryStore({ now: clock.now });
  const scheduler = new InMemoryMessageScheduler();
  const mailer = new MemoryMailer();
  const clinic = clinicWith(bookingEmails);
  const deps: SchedulingDeps = { store, ledger: store, scheduler, clinic, clock };
  await store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' }));
  await store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam Patel', email: 'sam@example.com', timezone: 'Europe/London' }));
  await store.putPlan(
    planSchema.parse({ id: 'p-sam', clientId: 'c-sam', therapistId: 't-amy', goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 28 }] }),
  );

  /** Runs a writer and hands sync-schedules the session's images before and after, as the stream would. */
  const change = async (write: () => Promise<unknown>) => {
    const before = await store.findSession('s-1');
    await write();
    const after = await store.findSession('s-1');
    return syncSchedules(deps, { type: 'session', ...(before ? { before } : {}), ...(after ? { after } : {}) });
  };
  const book = (start = START) => change(() => bookSession(store, { id: 's-1', planId: 'p-sam', start, durationMinutes: 60, location: 'Room 1' }));
  const move = (start: string) => change(() => rescheduleSession(store, 's-1', start));
  const cancel = () => change(() => cancelSession(store, 's-1'));
  /** The booking-email schedules: name → due time. */
  const booking = () => Object.fromEntries([...scheduler.schedules.values()].filter((s) => /^b[cmx]\./.test(s.name)).map((s) => [s.name, s.at]));
  /** Fires a schedule the way the Scheduler does (the schedule is gone afterwards) into dispatch. */
  const fire = async (name: string) => {
    const schedule = scheduler.schedules.get(name);
    if (!schedule) throw new Error(`no schedule ${name}`);
    // biome-ignore lint/complexity/useMathMinMax: instants are strings, compared as such
    now = schedule.at > now ? schedule.at : now;
    await scheduler.remove(name);
    const payload = { ...schedule.payload, scheduledTime: schedule.at } as DispatchRequest;
    return sendMessage({ store, ledger: store, mailer, scheduler, tokens: testSigner(), clinic, clock }, payload);
  };
  const setNow = (at: string) => {
    now = at;
  };
  return { store, scheduler, mailer, clinic, book, move, cancel, booking, fire, setNow };
}

function event(ics: string) {
  const calendar = new ICAL.Component(ICAL.parse(ics));
  return { method: calendar.getFirstPropertyValue('method'), vevent: calendar.getFirstSubcomponent('vevent')! };
}

function invite(email: MemoryMailer['sent'][number]) {
  const attachment = email.attachments?.find((a) => a.filename.endsWith('.ics'));
  if (!attachment) throw new Error(`no invitation on "${email.subject}"`);
  return event(String(attachment.content));
}

describe('the booking-email rules', () => {
  const session: StoredSession = {
    id: 's-1',
    planId: 'p-1',
    clientId: 'c-1',
    therapistId: 't-1',
    start: START,
    durationMinutes: 60,
    location: 'Room 1',
    status: 'booked',
    version: 1,
  };

  it('reads a change as booked, moved or cancelled, and a session in the past as history', () => {
    expect(bookingTransition(undefined, session, NOW)).toBe('booked');
    expect(bookingTransition(session, { ...session, start: '2027-02-11T10:00:00.000Z', version: 2 }, NOW)).toBe('moved');
    expect(bookingTransition(session, { ...session, status: 'cancelled' }, NOW)).toBe('cancelled');
    expect(bookingTransition({ ...session, status: 'cancelled' }, { ...session, version: 2 }, NOW)).toBe('booked');
    expect(bookingTransition(session, { ...session, status: 'completed' }, NOW)).toBeUndefined();
    expect(bookingTransition(undefined, { ...session, start: '2027-01-20T10:00:00.000Z' }, NOW)).toBeUndefined();
  });

  it('holds a confirmation for the undo window, and out of quiet hours unless the session comes first', () => {
    const clinic = clinicWith({ undoMinutes: 10 });
    const zone = { timezone: 'Europe/London' };

    expect(confirmationDue(NOW, session, zone, clinic)).toBe('2027-02-01T10:10:00.000Z');
    expect(confirmationDue('2027-02-01T22:00:00.000Z', session, zone, clinic)).toBe('2027-02-02T08:00:00.000Z');
    expect(confirmationDue('2027-02-01T22:00:00.000Z', { start: '2027-02-02T07:30:00.000Z' }, zone, clinic)).toBe('2027-02-01T22:10:00.000Z');
  });

  it('keeps the earlier versions of a booking, newest first and at most five, through other writes', () => {
    const v1 = { version: 1, start: START, durationMinutes: 60, location: 'Room 1' };
    const moved = { ...session, start: '2027-02-11T10:00:00.000Z', location: 'Room 2', version: 2 };

    expect(earlierBookingsOf(session, moved)).toEqual([v1]);
    expect(earlierBookingsOf({ ...moved, earlier: [v1] }, { version: 2 })).toEqual([v1]);
    expect(earlierBookingsOf({ ...moved, earlier: [v1] }, { version: 3 })).toEqual([
      { ...v1, version: 2, start: '2027-02-11T10:00:00.000Z', location: 'Room 2' },
      v1,
    ]);
    const many = [6, 5, 4, 3, 2, 1].map((version) => ({ ...v1, version }));
    expect(earlierBookingsOf({ ...session, version: 7, earlier: many }, { version: 8 })?.map((b) => b.version)).toEqual([7, 6, 5, 4, 3]);
    expect(earlierBookingsOf(undefined, session)).toBeUndefined();
  });

  it('treats booking emails as urgent and transactional: no unsubscribe category', () => {
    for (const kind of ['booking-confirmation', 'booking-change', 'booking-cancellation'] as const) {
      expect(isUrgent(kind)).toBe(true);
      expect(categoryOf(kind)).toBeUndefined();
    }
  });

  it('refuses a bad switch or undo window, naming the field', () => {
    const result = bookingEmailsSchema.safeParse({ undoMinutes: -1, confirmaton: false });

    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['undoMinutes', 'must be 0 or more'],
      ['', 'Unrecognized key: "confirmaton"'],
    ]);
  });
});

describe('booking emails planned from each change', () => {
  it('schedules the confirmation the undo window after a booking, and sends it with the invitation', async () => {
    const { book, booking, fire, mailer, store } = await harbour();

    await book();

    expect(booking()).toEqual({ 'bc.s-1.booked.v1': '2027-02-01T10:05:00.000Z' });
    expect(await fire('bc.s-1.booked.v1')).toMatchObject({ status: 'sent', name: 'bc.s-1.booked.v1' });
    const [email] = mailer.sent;
    expect(email!.subject).toBe('Booked: your session on Wed 10 Feb, 10:00 am');
    expect(email!.tags).toEqual({ message: 'bc.s-1.booked.v1', kind: 'booking-confirmation' });
    expect(email!.headers?.['List-Unsubscribe']).toBeUndefined();
    const { method, vevent } = invite(email!);
    expect([method, vevent.getFirstPropertyValue('uid'), vevent.getFirstPropertyValue('sequence')]).toEqual(['REQUEST', 's-1@keepwell', 0]);
    expect(await store.get('bc.s-1.booked.v1')).toMatchObject({ status: 'sent', kind: 'booking-confirmation' });
  });

  it('folds a move within the undo window into one confirmation of the new time', async () => {
    const { book, move, booking, setNow, fire, mailer, store } = await harbour();
    await book();
    setNow('2027-02-01T10:02:00.000Z');

    await move('2027-02-12T15:00:00.000Z');

    expect(booking()).toEqual({ 'bc.s-1.booked.v2': '2027-02-01T10:07:00.000Z' });
    expect(await store.get('bc.s-1.booked.v1')).toMatchObject({ status: 'skipped', reason: BOOKING_SKIP_REASONS.movedInWindow });
    await fire('bc.s-1.booked.v2');
    expect(mailer.sent.map((e) => e.subject)).toEqual(['Booked: your session on Fri 12 Feb, 3:00 pm']);
  });

  it('sends nothing for a booking cancelled within the undo window, and says why', async () => {
    const { book, cancel, booking, setNow, store } = await harbour();
    await book();
    setNow('2027-02-01T10:03:00.000Z');

    const outcome = await cancel();

    expect(booking()).toEqual({});
    expect(await store.get('bc.s-1.booked.v1')).toMatchObject({
      status: 'skipped',
      reason: 'cancelled within the undo window: the client was never told of the booking',
    });
    expect(await store.get('bx.s-1.cancelled.v1')).toBeUndefined();
    expect(outcome.skipsRecorded).toBeGreaterThanOrEqual(1);
  });

  it('decides the same when the stream delivers the cancellation again', async () => {
    const { store, book, booking, setNow, scheduler } = await harbour();
    await book();
    setNow('2027-02-01T10:03:00.000Z');
    const before = await store.findSession('s-1');
    await cancelSession(store, 's-1');
    const after = await store.findSession('s-1');
    const deps: SchedulingDeps = { store, ledger: store, scheduler, clinic: clinicWith(), clock: { now: () => new Date('2027-02-01T10:03:00.000Z') } };

    await syncSchedules(deps, { type: 'session', before: before!, after: after! });
    await syncSchedules(deps, { type: 'session', before: before!, after: after! });

    expect(booking()).toEqual({});
    expect(await store.get('bx.s-1.cancelled.v1')).toBeUndefined();
  });

  it('sends a change notice at once for a move after the confirmation: old and new time, same UID, SEQUENCE + 1', async () => {
    const { book, move, booking, setNow, fire, mailer } = await harbour();
    await book();
    await fire('bc.s-1.booked.v1');
    setNow('2027-02-02T09:00:00.000Z');

    await move('2027-02-12T15:00:00.000Z');

    expect(booking()).toEqual({ 'bm.s-1.moved.v2': '2027-02-02T09:00:00.000Z' });
    expect(await fire('bm.s-1.moved.v2')).toMatchObject({ status: 'sent' });
    const [confirmation, notice] = mailer.sent;
    expect(notice!.subject).toBe('Moved: your session is now on Fri 12 Feb, 3:00 pm');
    expect(notice!.text).toContain('has moved from Wednesday 10 February 2027 at 10:00 am (GMT) to Friday 12 February 2027 at 3:00 pm (GMT)');
    const before = invite(confirmation!).vevent;
    const after = invite(notice!).vevent;
    expect(after.getFirstPropertyValue('uid')).toBe(before.getFirstPropertyValue('uid'));
    expect(after.getFirstPropertyValue('sequence')).toBe(Number(before.getFirstPropertyValue('sequence')) + 1);
    expect(String(after.getFirstPropertyValue('dtstart'))).toBe('2027-02-12T15:00:00Z');
  });

  it('names the time the client knows when a second move overtakes the first notice', async () => {
    const { book, move, setNow, fire, mailer, store } = await harbour();
    await book();
    await fire('bc.s-1.booked.v1');
    setNow('2027-02-02T09:00:00.000Z');

    await move('2027-02-12T15:00:00.000Z');
    await move('2027-02-13T16:00:00.000Z');

    expect(await store.get('bm.s-1.moved.v2')).toMatchObject({ status: 'skipped', reason: 'version moved on' });
    await fire('bm.s-1.moved.v3');
    expect(mailer.sent.map((e) => e.subject)).toEqual(['Booked: your session on Wed 10 Feb, 10:00 am', 'Moved: your session is now on Sat 13 Feb, 4:00 pm']);
    expect(mailer.sent[1]!.text).toContain('has moved from Wednesday 10 February 2027 at 10:00 am (GMT) to Saturday 13 February 2027 at 4:00 pm (GMT)');
  });

  it('names the time the client knows when a cancellation overtakes a change notice', async () => {
    const { book, move, cancel, setNow, fire, mailer } = await harbour();
    await book();
    await fire('bc.s-1.booked.v1');
    setNow('2027-02-02T09:00:00.000Z');

    await move('2027-02-12T15:00:00.000Z');
    await cancel();
    await fire('bx.s-1.cancelled.v2');

    expect(mailer.sent.map((e) => e.subject)).toEqual(['Booked: your session on Wed 10 Feb, 10:00 am', 'Cancelled: your session on Wed 10 Feb, 10:00 am']);
    expect(invite(mailer.sent[1]!).vevent.getFirstPropertyValue('sequence')).toBe(2);
  });

  it('sends a cancellation notice at once for a session the client was told of: METHOD:CANCEL and the booking link', async () => {
    const { book, cancel, booking, setNow, fire, mailer, store } = await harbour();
    await book();
    await fire('bc.s-1.booked.v1');
    setNow('2027-02-03T09:00:00.000Z');

    await cancel();

    expect(booking()).toEqual({ 'bx.s-1.cancelled.v1': '2027-02-03T09:00:00.000Z' });
    expect(await fire('bx.s-1.cancelled.v1')).toMatchObject({ status: 'sent' });
    const notice = mailer.sent[1]!;
    expect(notice.subject).toBe('Cancelled: your session on Wed 10 Feb, 10:00 am');
    expect(notice.html).toContain('href="https://harbour.example/book"');
    const { method, vevent } = invite(notice);
    expect(method).toBe('CANCEL');
    expect(vevent.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(vevent.getFirstPropertyValue('uid')).toBe('s-1@keepwell');
    expect(vevent.getFirstPropertyValue('sequence')).toBe(1);
    expect(await store.get('bx.s-1.cancelled.v1')).toMatchObject({ status: 'sent', kind: 'booking-cancellation' });
  });

  it('skips a confirmation that fires after the session was cancelled under it, with the reason', async () => {
    const { book, store, fire } = await harbour();
    await book();
    await cancelSession(store, 's-1'); // the stream has not caught up when the schedule fires

    expect(await fire('bc.s-1.booked.v1')).toEqual({ status: 'skipped', name: 'bc.s-1.booked.v1', reason: BOOKING_SKIP_REASONS.cancelledInWindow });
  });

  it('schedules none of a kind the clinic turned off, and dispatch skips one turned off since', async () => {
    const off = await harbour({ confirmation: false, cancellation: false });
    await off.book();
    expect(off.booking()).toEqual({});
    await off.setNow('2027-02-02T09:00:00.000Z');
    await off.move('2027-02-12T15:00:00.000Z');
    expect(off.booking()).toEqual({ 'bm.s-1.moved.v2': '2027-02-02T09:00:00.000Z' });
    await off.cancel();
    expect(off.booking()).toEqual({});

    const on = await harbour();
    await on.book();
    const later = await harbour({ confirmation: false });
    const schedule = on.scheduler.schedules.get('bc.s-1.booked.v1')!;
    await later.book();
    const outcome = await sendMessage(
      {
        store: later.store,
        ledger: later.store,
        mailer: later.mailer,
        scheduler: later.scheduler,
        tokens: testSigner(),
        clinic: later.clinic,
        clock: { now: () => new Date(schedule.at) },
      },
      { ...schedule.payload, scheduledTime: schedule.at } as DispatchRequest,
    );
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'confirmation emails are turned off in the stage config (clinic.bookingEmails.confirmation)' });
  });

  it('goes to a client unsubscribed from everything, never to a suppressed address', async () => {
    const unsubscribed = await harbour();
    await unsubscribe(unsubscribed.store, 'c-sam', 'all');
    await unsubscribed.book();
    expect(await unsubscribed.fire('bc.s-1.booked.v1')).toMatchObject({ status: 'sent' });

    const suppressed = await harbour();
    await suppressAddress(suppressed.store, 'sam@example.com', 'bounce', NOW);
    await suppressed.book();
    expect(suppressed.booking()).toEqual({});
  });

  it('gives a session booked again after a cancellation a fresh confirmation', async () => {
    const { book, cancel, move, booking, fire, setNow } = await harbour();
    await book();
    await fire('bc.s-1.booked.v1');
    setNow('2027-02-02T09:00:00.000Z');
    await cancel();
    await fire('bx.s-1.cancelled.v1');

    await move('2027-02-15T10:00:00.000Z');

    expect(booking()).toEqual({ 'bc.s-1.booked.v2': '2027-02-02T09:05:00.000Z' });
  });
});
