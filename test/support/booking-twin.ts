/** A twin for the booking-email tests: a clinic with its switches, a client per test, and the invitation read back with ical.js. */
import ICAL from 'ical.js';
import { inject } from 'vitest';
import { bookSession } from '../../shared/use-cases/manage-plans.js';
import { startTwin, type Twin } from '../../local/twin.js';
import type { StoredEmail } from './local-aws.js';

export const T0 = '2027-02-01T09:00:00.000Z';
export const CLINIC = {
  name: 'Harbour Clinical Massage',
  senderEmail: 'care@harbour-massage.example',
  timezone: 'Europe/London',
  baseUrl: 'http://localhost:3000',
  bookingUrl: 'https://book.harbour-massage.example',
};
/** A twin whose clinic has these booking-email switches (the handlers read their config once per process: one per file). */
export async function twinWith(bookingEmails?: Record<string, unknown>): Promise<Twin> {
  const started = await startTwin({
    clinic: { ...CLINIC, ...(bookingEmails ? { bookingEmails } : {}) },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
    web: false,
  });
  await started.store.putTherapist({
    id: 't-amy',
    name: 'Amy Chen',
    email: 'amy@harbour-massage.example',
    timezone: 'Europe/London',
    summary: { cadence: 'daily', hour: 7, weekday: 1, whenEmpty: 'one-line' },
  });
  return started;
}

let clients = 0;
/** A client of their own with a plan, and the session `s-<n>` booked on it at `start`. */
export async function bookFor(on: Twin, start: string): Promise<{ sessionId: string; email: string }> {
  const n = ++clients;
  const email = `booking-${n}-${Date.now()}@example.com`;
  await on.store.putClient({
    id: `c-${n}`,
    name: 'Robin Hale',
    email,
    timezone: 'Europe/London',
    preferences: { reminders: true, 'check-ins': true, maintenance: true },
  });
  await on.store.putPlan({
    id: `p-${n}`,
    clientId: `c-${n}`,
    therapistId: 't-amy',
    goal: 'back-pain',
    phases: [{ name: 'maintenance', everyDays: 28 }],
    reminders: ['P2D', 'PT2H'],
    checkInAfter: 'PT24H',
    status: 'active',
  });
  await bookSession(on.store, { id: `s-${n}`, planId: `p-${n}`, start, durationMinutes: 60, location: 'Treatment room 1' });
  await on.settle();
  return { sessionId: `s-${n}`, email };
}

export const later = (on: Twin, minutes: number) => on.advanceTo(new Date(on.clock.now().getTime() + minutes * 60_000));
export const schedulesOf = (on: Twin, sessionId: string) =>
  on.scheduler
    .list()
    .map((s) => s.name)
    .filter((n) => n.includes(`.${sessionId}.`))
    .sort();

export function invite(email: StoredEmail | undefined) {
  const attachment = email?.attachments.find((a) => a.filename === 'session.ics');
  if (!attachment) throw new Error(`no invitation on ${email?.subject}`);
  const calendar = new ICAL.Component(ICAL.parse(Buffer.from(attachment.content, 'base64').toString('utf8')));
  const event = calendar.getFirstSubcomponent('vevent')!;
  return {
    method: calendar.getFirstPropertyValue('method'),
    uid: event.getFirstPropertyValue('uid'),
    sequence: event.getFirstPropertyValue('sequence'),
    status: event.getFirstPropertyValue('status'),
  };
}
