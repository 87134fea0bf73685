import { describe, expect, it } from 'vitest';
import { checkInAnswersSchema, clientSchema, planSchema, sessionSchema, therapistSchema, clinicSchema } from '../../shared/domain/model.js';
import { parseDataset } from '../../shared/domain/dataset.js';
import { parseOrThrow, ValidationError } from '../../shared/domain/validation.js';
import { messageName, type MessageIdentity } from '../../shared/domain/message.js';

function issuesOf(run: () => unknown): Array<{ path: string; reason: string }> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return [...(error as ValidationError).issues];
  }
  throw new Error('expected a ValidationError');
}

const client = { id: 'c-sam', name: 'Sam Patel', email: 'sam@example.com', timezone: 'Europe/London' };
const plan = {
  id: 'p-sam',
  clientId: 'c-sam',
  therapistId: 't-amy',
  goal: 'back-pain',
  phases: [
    { name: 'initial', sessions: 6, everyDays: 7 },
    { name: 'maintenance', everyDays: 28 },
  ],
  reminders: ['P2D', 'PT2H'],
  checkInAfter: 'PT24H',
};
const session = { id: 's-1', planId: 'p-sam', start: '2027-02-01T14:00:00+01:00', durationMinutes: 60, location: 'Room 2' };

describe('the domain model', () => {
  it('fills in what a writer need not know: subscribed, active, booked, version 1', () => {
    expect(clientSchema.parse(client).preferences).toEqual({ reminders: true, 'check-ins': true, maintenance: true });
    expect(planSchema.parse(plan).status).toBe('active');
    const parsed = sessionSchema.parse(session);
    expect(parsed).toMatchObject({ status: 'booked', version: 1 });
  });

  it('stores a session start given with an offset as the UTC instant', () => {
    expect(sessionSchema.parse(session).start).toBe('2027-02-01T13:00:00.000Z');
  });

  it('names a bad email address by its field', () => {
    expect(issuesOf(() => parseOrThrow(clientSchema, { ...client, email: 'not-an-email' }, 'client'))).toEqual([
      { path: 'email', reason: 'must be a valid email address' },
    ]);
  });

  it('names an unknown time zone by its field', () => {
    const issues = issuesOf(() => parseOrThrow(clientSchema, { ...client, timezone: 'Europe/Atlantis' }, 'client'));
    expect(issues).toEqual([{ path: 'timezone', reason: '"Europe/Atlantis" is not a known IANA time zone' }]);
  });

  it('refuses zero and negative durations, naming each', () => {
    const issues = issuesOf(() => parseOrThrow(planSchema, { ...plan, reminders: ['PT0H', 'P2D'], checkInAfter: '-P1D' }, 'plan'));
    expect(issues.map((i) => i.path).sort()).toEqual(['checkInAfter', 'reminders.0']);
    expect(issuesOf(() => parseOrThrow(sessionSchema, { ...session, durationMinutes: 0 }, 'session'))[0]?.path).toBe('durationMinutes');
    expect(issuesOf(() => parseOrThrow(sessionSchema, { ...session, durationMinutes: -30 }, 'session'))[0]?.reason).toMatch(/more than 0/);
  });

  it('refuses pain 11, -1 and "abc" with the field named', () => {
    for (const pain of [11, -1, 'abc', 2.5]) {
      const issues = issuesOf(() => parseOrThrow(checkInAnswersSchema, { pain, mobility: 5, stress: 5, sleep: 5 }, 'answers'));
      expect(issues).toEqual([{ path: 'pain', reason: 'pain must be a whole number from 0 to 10' }]);
    }
  });

  it('limits notes to 2,000 characters', () => {
    const issues = issuesOf(() => parseOrThrow(checkInAnswersSchema, { pain: 1, mobility: 5, stress: 5, sleep: 5, notes: 'x'.repeat(2001) }, 'answers'));
    expect(issues[0]?.path).toBe('notes');
  });

  it('refuses a control character in a name, but keeps HTML as data', () => {
    expect(issuesOf(() => parseOrThrow(clientSchema, { ...client, name: 'Sam\r\nBcc: x@evil.example' }, 'client'))[0]?.path).toBe('name');
    expect(clientSchema.parse({ ...client, name: '<script>alert(1)</script>' }).name).toBe('<script>alert(1)</script>');
  });

  it('lists every bad field at once', () => {
    const issues = issuesOf(() =>
      parseOrThrow(therapistSchema, { id: 'bad id!', name: '', email: 'x', timezone: 'Nowhere', summary: { cadence: 'hourly', hour: 24 } }, 'therapist'),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['email', 'id', 'name', 'summary.cadence', 'summary.hour', 'timezone']);
  });

  it('requires a session count on every phase but the last', () => {
    const issues = issuesOf(() =>
      parseOrThrow(
        planSchema,
        {
          ...plan,
          phases: [
            { name: 'initial', everyDays: 7 },
            { name: 'maintenance', everyDays: 28 },
          ],
        },
        'plan',
      ),
    );
    expect(issues).toEqual([{ path: 'phases.0.sessions', reason: expect.stringMatching(/required/) }]);
  });

  it('accepts quiet hours as HH:MM only', () => {
    const clinic = {
      name: 'Harbour',
      senderEmail: 'care@harbour.example',
      timezone: 'Europe/London',
      baseUrl: 'https://x.example/',
      quietHours: { start: '21:00', end: '8am' },
    };
    expect(issuesOf(() => parseOrThrow(clinicSchema, clinic, 'clinic'))[0]?.path).toBe('quietHours.end');
    expect(clinicSchema.parse({ ...clinic, quietHours: { start: '21:00', end: '08:00' } }).baseUrl).toBe('https://x.example');
  });
});

describe('a dataset', () => {
  const therapist = { id: 't-amy', name: 'Amy', email: 'amy@example.com', timezone: 'Europe/London' };

  it('reports a plan that refers to a missing client, with its path', () => {
    const issues = issuesOf(() => parseDataset({ therapists: [therapist], clients: [], plans: [plan], sessions: [] }));
    expect(issues).toEqual([{ path: 'plans[0].clientId', reason: 'refers to a missing client "c-sam"' }]);
  });

  it('reports a session on a missing plan and a duplicate id together', () => {
    const issues = issuesOf(() =>
      parseDataset({ therapists: [therapist], clients: [client, client], plans: [plan], sessions: [{ ...session, planId: 'p-none' }] }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['clients[1].id', 'sessions[0].planId']);
  });

  it('accepts a consistent dataset', () => {
    const data = parseDataset({ therapists: [therapist], clients: [client], plans: [plan], sessions: [session] });
    expect(data.sessions).toHaveLength(1);
  });
});

describe('a message name', () => {
  const identity: MessageIdentity = { kind: 'reminder', subjectId: 's-sam-1', offset: 'P2D', version: 3 };

  it('is deterministic and readable', () => {
    expect(messageName(identity)).toBe('rm.s-sam-1.P2D.v3');
    expect(messageName({ ...identity })).toBe(messageName(identity));
  });

  it('always fits EventBridge Scheduler names, even for the longest ids and offsets', () => {
    const long = { kind: 'check-in' as const, subjectId: 'a'.repeat(40), offset: 'P'.padEnd(24, '9'), version: 123456 };
    const name = messageName(long);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^[0-9a-zA-Z\-_.]+$/);
    expect(messageName({ ...long, version: 123457 })).not.toBe(name);
    expect(name.startsWith(`ci.${'a'.repeat(40)}.`)).toBe(true);
    expect(name.endsWith('.v123456')).toBe(true);
  });
});
