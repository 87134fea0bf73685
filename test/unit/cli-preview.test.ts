import { describe, expect, it } from 'vitest';
import { clientSchema, planSchema, sessionSchema } from '../../shared/domain/model.js';
import type { ClientBundle, StoredSession } from '../../shared/ports/store.js';
import { formatPreview, localTime } from '../../local/cli/preview.js';
import { previewMessages } from '../../shared/use-cases/preview-messages.js';

const clinic = { quietHours: { start: '21:00', end: '08:00' }, maintenanceGraceDays: 14 };

function bundle(
  options: {
    preferences?: Record<string, boolean>;
    suppressed?: boolean;
    sessions?: Array<Record<string, unknown>>;
    phases?: unknown[];
    intakeAnswered?: boolean;
  } = {},
): ClientBundle {
  const client = clientSchema.parse({
    id: 'c-kai',
    name: 'Kai Moreno',
    email: 'kai@example.net',
    timezone: 'America/Chicago',
    ...(options.preferences ? { preferences: options.preferences } : {}),
    ...(options.suppressed ? { suppressed: { reason: 'bounce', at: '2027-01-01T00:00:00Z' } } : {}),
  });
  const plan = planSchema.parse({
    id: 'p-kai',
    clientId: 'c-kai',
    therapistId: 't-amy',
    goal: 'sports-injury',
    phases: options.phases ?? [{ name: 'maintenance', everyDays: 21 }],
    reminders: ['P2D', 'PT2H'],
    checkInAfter: 'PT24H',
  });
  const sessions = (options.sessions ?? [{ id: 's-kai-1', start: '2027-02-10T12:00:00-06:00' }]).map(
    (s) =>
      ({
        ...sessionSchema.parse({ planId: 'p-kai', durationMinutes: 60, location: 'Room 1', ...s }),
        clientId: 'c-kai',
        therapistId: 't-amy',
      }) as StoredSession,
  );
  // Kai has answered his intake questionnaire unless a test says not: the other tests are about the session messages.
  const baseline = { pain: 5, mobility: 5, stress: 5, sleep: 5, at: '2027-01-01T00:00:00.000Z' };
  return { client, plans: [options.intakeAnswered === false ? plan : { ...plan, baseline }], sessions, checkIns: [], requests: [] };
}

describe('previewMessages', () => {
  it("lists a booked session's reminders and check-in, in time order", () => {
    const items = previewMessages({ bundle: bundle(), clinic, now: '2027-02-01T00:00:00Z', weeks: 2 });

    expect(items.map((i) => [i.kind, i.name, i.at, i.held])).toEqual([
      ['reminder', 'rm.s-kai-1.P2D.v1', '2027-02-08T18:00:00.000Z', undefined],
      ['reminder', 'rm.s-kai-1.PT2H.v1', '2027-02-10T16:00:00.000Z', undefined],
      ['check-in', 'ci.s-kai-1.after.v1', '2027-02-11T19:00:00.000Z', undefined],
    ]);
  });

  it('lists the intake questionnaire at once while the plan has no baseline and its first session is ahead', () => {
    const items = previewMessages({ bundle: bundle({ intakeAnswered: false }), clinic, now: '2027-02-01T00:00:00Z', weeks: 2 });

    expect(items.map((i) => [i.kind, i.name, i.at])).toEqual([
      ['intake-questionnaire', 'iq.p-kai.intake.v1', '2027-02-01T00:00:00.000Z'],
      ['reminder', 'rm.s-kai-1.P2D.v1', '2027-02-08T18:00:00.000Z'],
      ['reminder', 'rm.s-kai-1.PT2H.v1', '2027-02-10T16:00:00.000Z'],
      ['check-in', 'ci.s-kai-1.after.v1', '2027-02-11T19:00:00.000Z'],
    ]);
  });

  it('names the maintenance nudge that falls due once the last session is behind', () => {
    const items = previewMessages({
      bundle: bundle({ sessions: [{ id: 's-kai-1', start: '2027-01-20T12:00:00-06:00', status: 'completed' }] }),
      clinic,
      now: '2027-02-01T00:00:00Z',
      weeks: 2,
    });

    expect(items.map((i) => [i.kind, i.name, localTime(i.at, 'America/Chicago')])).toEqual([
      ['maintenance-nudge', 'mn.p-kai.20270210.v1', 'Wed 10 Feb 2027 10:00 CST'],
    ]);
  });

  it('leaves out what lies beyond the horizon and what the ledger already settled', () => {
    const items = previewMessages({ bundle: bundle(), clinic, now: '2027-02-01T00:00:00Z', weeks: 1, done: new Set(['rm.s-kai-1.P2D.v1']) });

    expect(items).toEqual([]);
  });

  it('marks messages dispatch would hold back for an unsubscribed category or a suppressed address', () => {
    const unsubscribed = previewMessages({
      bundle: bundle({ preferences: { reminders: false, 'check-ins': true, maintenance: true } }),
      clinic,
      now: '2027-02-01T00:00:00Z',
      weeks: 2,
    });
    const suppressed = previewMessages({ bundle: bundle({ suppressed: true }), clinic, now: '2027-02-01T00:00:00Z', weeks: 2 });

    expect(unsubscribed.map((i) => i.held)).toEqual(['unsubscribed from reminders', 'unsubscribed from reminders', undefined]);
    expect(suppressed.map((i) => i.held)).toEqual(['address suppressed (bounce)', 'address suppressed (bounce)', 'address suppressed (bounce)']);
  });
});

describe('formatPreview', () => {
  it("prints each message in the client's zone, with the session it is about", () => {
    const items = previewMessages({ bundle: bundle(), clinic, now: '2027-02-01T00:00:00Z', weeks: 2 });

    const lines = formatPreview(items, 'Kai Moreno (c-kai)', 'America/Chicago', 2);

    expect(lines[0]).toBe('Kai Moreno (c-kai): 3 messages in the next 2 weeks (times in America/Chicago)');
    expect(lines[1]).toMatch(/^ {2}Mon 8 Feb 2027 12:00 CST +reminder +session s-kai-1 on Wed 10 Feb 2027 12:00 CST$/);
  });
});
