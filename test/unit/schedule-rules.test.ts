import { describe, expect, it } from 'vitest';
import { clientSchema, planSchema, sessionSchema, type Client, type Plan, type Session } from '../../shared/domain/model.js';
import {
  CHECK_IN_LATE_WINDOW_HOURS,
  DEFAULT_LAPSE_GRACE_DAYS,
  MIN_REMINDER_LEAD_MINUTES,
  NUDGE_LOCAL_TIME,
  SKIP_REASONS,
  maintenanceStatus,
  nudgeIdentity,
  numberSessions,
  planSessionMessages,
  type MessageDecision,
} from '../../shared/domain/schedule-rules.js';
import { messageName } from '../../shared/domain/message.js';
import { instant } from '../support/instant.js';

const LONDON = 'Europe/London';
const clinic = { quietHours: { start: '21:00', end: '08:00' } };

function client(overrides: Partial<Client> = {}): Client {
  return clientSchema.parse({ id: 'c-sam', name: 'Sam', email: 'sam@example.com', timezone: LONDON, ...overrides });
}

function plan(overrides: Record<string, unknown> = {}): Plan {
  return planSchema.parse({
    id: 'p-sam',
    clientId: 'c-sam',
    therapistId: 't-ana',
    goal: 'back-pain',
    phases: [
      { name: 'initial', sessions: 6, everyDays: 7 },
      { name: 'maintenance', everyDays: 28 },
    ],
    ...overrides,
  });
}

function session(overrides: Record<string, unknown> = {}): Session {
  return sessionSchema.parse({
    id: 's-1',
    planId: 'p-sam',
    start: '2027-02-10T10:00:00.000Z',
    durationMinutes: 60,
    location: 'Room 1',
    ...overrides,
  });
}

/** name → what happened to it, for compact assertions. */
function outcome(decisions: MessageDecision[]): Record<string, string> {
  return Object.fromEntries(decisions.map((d) => (d.action === 'schedule' ? [d.message.name, `at ${d.message.dueAt}`] : [d.name, `skip: ${d.reason}`])));
}

describe('planSessionMessages', () => {
  it('schedules each reminder and the check-in for a session booked well ahead', () => {
    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now: instant('2027-01-01T00:00:00.000Z') });

    expect(outcome(decisions)).toEqual({
      'rm.s-1.P2D.v1': 'at 2027-02-08T10:00:00.000Z',
      'rm.s-1.PT2H.v1': 'at 2027-02-10T08:00:00.000Z',
      'ci.s-1.after.v1': 'at 2027-02-11T11:00:00.000Z',
    });
  });

  it('names messages by the offset as written and the session version', () => {
    const [first] = planSessionMessages({
      session: session({ version: 3 }),
      plan: plan({ reminders: ['P1DT12H'] }),
      client: client(),
      clinic,
      now: instant('2027-01-01T00:00:00.000Z'),
    });

    expect(first).toEqual({
      action: 'schedule',
      message: {
        identity: { kind: 'reminder', subjectId: 's-1', offset: 'P1DT12H', version: 3 },
        name: 'rm.s-1.P1DT12H.v3',
        dueAt: '2027-02-08T22:00:00.000Z',
      },
    });
  });

  it('returns decisions in due order whatever the order of the plan reminders', () => {
    const decisions = planSessionMessages({
      session: session(),
      plan: plan({ reminders: ['PT2H', 'P7D', 'P2D'] }),
      client: client(),
      clinic,
      now: instant('2027-01-01T00:00:00.000Z'),
    });

    expect(decisions.map((d) => (d.action === 'schedule' ? d.message.identity.offset : d.identity.offset))).toEqual(['P7D', 'P2D', 'PT2H', 'after']);
  });

  it('sends reminders during quiet hours because they are time-critical', () => {
    const early = session({ start: '2027-02-10T07:00:00.000Z' });

    const decisions = planSessionMessages({ session: early, plan: plan(), client: client(), clinic, now: instant('2027-01-01T00:00:00.000Z') });

    expect(outcome(decisions)['rm.s-1.PT2H.v1']).toBe('at 2027-02-10T05:00:00.000Z');
  });

  it('moves a check-in that falls in quiet hours to the end of the window', () => {
    const evening = session({ start: '2027-02-10T20:30:00.000Z' }); // ends 21:30, check-in 21:30 next day

    const decisions = planSessionMessages({ session: evening, plan: plan(), client: client(), clinic, now: instant('2027-01-01T00:00:00.000Z') });

    expect(outcome(decisions)['ci.s-1.after.v1']).toBe('at 2027-02-12T08:00:00.000Z');
  });

  it("applies quiet hours and calendar offsets in the client's zone", () => {
    const newYorker = client({ timezone: 'America/New_York' });
    // Ends 22:00Z = 17:00 EST; a P1D check-in at 17:00 EST next day is not quiet there.
    const late = session({ start: '2027-02-10T21:00:00.000Z' });

    const decisions = planSessionMessages({
      session: late,
      plan: plan({ checkInAfter: 'P1D' }),
      client: newYorker,
      clinic,
      now: instant('2027-01-01T00:00:00.000Z'),
    });

    expect(outcome(decisions)['ci.s-1.after.v1']).toBe('at 2027-02-11T22:00:00.000Z');
  });

  it('plans nothing for a paused or completed plan', () => {
    for (const status of ['paused', 'completed']) {
      expect(planSessionMessages({ session: session(), plan: plan({ status }), client: client(), clinic, now: instant('2027-01-01T00:00:00.000Z') })).toEqual(
        [],
      );
    }
  });

  it('plans nothing for a cancelled or no-show session', () => {
    for (const status of ['cancelled', 'no-show']) {
      expect(planSessionMessages({ session: session({ status }), plan: plan(), client: client(), clinic, now: instant('2027-01-01T00:00:00.000Z') })).toEqual(
        [],
      );
    }
  });

  it('gives a completed session its check-in but no reminders', () => {
    const decisions = planSessionMessages({
      session: session({ status: 'completed' }),
      plan: plan(),
      client: client(),
      clinic,
      now: instant('2027-02-10T11:00:00.000Z'),
    });

    expect(Object.keys(outcome(decisions))).toEqual(['ci.s-1.after.v1']);
  });

  it('plans only the check-in when the plan has no reminders', () => {
    const decisions = planSessionMessages({
      session: session(),
      plan: plan({ reminders: [] }),
      client: client(),
      clinic,
      now: instant('2027-01-01T00:00:00.000Z'),
    });

    expect(Object.keys(outcome(decisions))).toEqual(['ci.s-1.after.v1']);
  });

  it('skips an overdue reminder as superseded when a later one is still to come', () => {
    const now = instant('2027-02-09T04:00:00.000Z'); // booked 30 hours ahead: P2D is past, PT2H is not

    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)).toMatchObject({
      'rm.s-1.P2D.v1': `skip: ${SKIP_REASONS.superseded}`,
      'rm.s-1.PT2H.v1': 'at 2027-02-10T08:00:00.000Z',
    });
  });

  it(`sends the latest overdue reminder now when the session is at least ${MIN_REMINDER_LEAD_MINUTES} minutes away`, () => {
    const now = instant('2027-02-10T08:30:00.000Z'); // 90 minutes before the session

    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)).toMatchObject({
      'rm.s-1.P2D.v1': `skip: ${SKIP_REASONS.superseded}`,
      'rm.s-1.PT2H.v1': `at ${now}`,
    });
  });

  it(`still sends the overdue reminder with exactly ${MIN_REMINDER_LEAD_MINUTES} minutes to go`, () => {
    const now = instant('2027-02-10T09:00:00.000Z');

    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)['rm.s-1.PT2H.v1']).toBe(`at ${now}`);
  });

  it(`skips every reminder when the session starts in under ${MIN_REMINDER_LEAD_MINUTES} minutes`, () => {
    const now = instant('2027-02-10T09:15:00.000Z');

    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)).toMatchObject({
      'rm.s-1.P2D.v1': 'skip: too late: the session starts in under 60 minutes',
      'rm.s-1.PT2H.v1': 'skip: too late: the session starts in under 60 minutes',
    });
  });

  it('skips reminders for a session that has started but still schedules its check-in', () => {
    const now = instant('2027-02-10T10:30:00.000Z');

    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)).toEqual({
      'rm.s-1.P2D.v1': 'skip: session already started',
      'rm.s-1.PT2H.v1': 'skip: session already started',
      'ci.s-1.after.v1': 'at 2027-02-11T11:00:00.000Z',
    });
  });

  it('reports a skipped message with the time it would have been due', () => {
    const decisions = planSessionMessages({ session: session(), plan: plan(), client: client(), clinic, now: instant('2027-02-10T10:30:00.000Z') });

    expect(decisions[0]).toEqual({
      action: 'skip',
      identity: { kind: 'reminder', subjectId: 's-1', offset: 'P2D', version: 1 },
      name: 'rm.s-1.P2D.v1',
      dueAt: '2027-02-08T10:00:00.000Z',
      reason: 'session already started',
    });
  });

  it(`sends an overdue check-in now within ${CHECK_IN_LATE_WINDOW_HOURS} hours of its due time`, () => {
    const now = instant('2027-02-13T10:00:00.000Z'); // due 11 Feb 11:00, 47 hours ago

    const decisions = planSessionMessages({ session: session({ status: 'completed' }), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)['ci.s-1.after.v1']).toBe(`at ${now}`);
  });

  it('sends an overdue check-in at the end of quiet hours when now is quiet', () => {
    const now = instant('2027-02-12T23:00:00.000Z');

    const decisions = planSessionMessages({ session: session({ status: 'completed' }), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)['ci.s-1.after.v1']).toBe('at 2027-02-13T08:00:00.000Z');
  });

  it(`skips a check-in more than ${CHECK_IN_LATE_WINDOW_HOURS} hours overdue`, () => {
    const now = instant('2027-02-14T11:00:00.001Z');

    const decisions = planSessionMessages({ session: session({ status: 'completed' }), plan: plan(), client: client(), clinic, now });

    expect(outcome(decisions)['ci.s-1.after.v1']).toBe('skip: check-in window passed');
  });

  it('refuses a session that does not belong to the plan', () => {
    expect(() =>
      planSessionMessages({ session: session({ planId: 'p-other' }), plan: plan(), client: client(), clinic, now: instant('2027-01-01T00:00:00.000Z') }),
    ).toThrow(RangeError);
  });
});

describe('numberSessions', () => {
  const at = (day: number) => `2027-03-${String(day).padStart(2, '0')}T10:00:00.000Z`;

  it('numbers non-cancelled sessions by start and moves into the open-ended maintenance phase', () => {
    const sessions = [
      session({ id: 's-3', start: at(3) }),
      session({ id: 's-1', start: at(1), status: 'completed' }),
      session({ id: 's-2', start: at(2), status: 'cancelled' }),
      session({ id: 's-4', start: at(4), status: 'no-show' }),
      ...[5, 6, 7, 8, 9].map((d) => session({ id: `s-${d}`, start: at(d) })),
    ];

    const numbers = numberSessions(plan(), sessions);

    expect(numbers.has('s-2')).toBe(false);
    expect(numbers.get('s-1')).toEqual({ number: 1, inPhase: 1, phase: 'initial', phaseIndex: 0, ofPhase: 6, maintenance: false });
    expect(numbers.get('s-4')).toMatchObject({ number: 3, inPhase: 3, ofPhase: 6 });
    expect(numbers.get('s-7')).toEqual({ number: 6, inPhase: 6, phase: 'initial', phaseIndex: 0, ofPhase: 6, maintenance: false });
    expect(numbers.get('s-8')).toEqual({ number: 7, inPhase: 1, phase: 'maintenance', phaseIndex: 1, maintenance: true });
    expect(numbers.get('s-9')).toMatchObject({ number: 8, inPhase: 2, phase: 'maintenance' });
  });

  it('advances through a middle phase by its session count', () => {
    const threePhases = plan({
      phases: [
        { name: 'initial', sessions: 2, everyDays: 7 },
        { name: 'rehab', sessions: 2, everyDays: 14 },
        { name: 'ongoing', everyDays: 28 },
      ],
    });
    const sessions = [1, 2, 3, 4, 5].map((d) => session({ id: `s-${d}`, start: at(d) }));

    const numbers = numberSessions(threePhases, sessions);

    expect([...numbers.values()].map((n) => `${n.number}:${n.phase} ${n.inPhase}/${n.ofPhase ?? '-'}${n.maintenance ? ' m' : ''}`)).toEqual([
      '1:initial 1/2',
      '2:initial 2/2',
      '3:rehab 1/2',
      '4:rehab 2/2',
      '5:ongoing 1/- m',
    ]);
  });

  it('keeps a single-phase plan in its only phase past its count, without calling it maintenance', () => {
    const course = plan({ phases: [{ name: 'course', sessions: 2, everyDays: 7 }] });
    const sessions = [1, 2, 3].map((d) => session({ id: `s-${d}`, start: at(d) }));

    const numbers = numberSessions(course, sessions);

    expect(numbers.get('s-2')).toMatchObject({ number: 2, ofPhase: 2, maintenance: false });
    expect(numbers.get('s-3')).toEqual({ number: 3, inPhase: 3, phase: 'course', phaseIndex: 0, maintenance: false });
  });

  it('calls a phase named maintenance maintenance wherever it is', () => {
    const maintenanceOnly = plan({ phases: [{ name: 'Maintenance', everyDays: 28 }] });

    const numbers = numberSessions(maintenanceOnly, [session()]);

    expect(numbers.get('s-1')?.maintenance).toBe(true);
  });

  it("ignores other plans' sessions and orders equal starts by id", () => {
    const sessions = [session({ id: 's-b' }), session({ id: 's-a' }), session({ id: 's-x', planId: 'p-other' })];

    const numbers = numberSessions(plan(), sessions);

    expect([...numbers.entries()].map(([id, n]) => `${id}=${n.number}`)).toEqual(['s-a=1', 's-b=2']);
  });
});

describe('maintenanceStatus', () => {
  const maintenancePlan = plan({ phases: [{ name: 'maintenance', everyDays: 28 }] });
  // Monday 1 February 2027, 18:00 in London.
  const lastVisit = session({ id: 's-1', start: '2027-02-01T18:00:00.000Z', status: 'completed' });

  it(`falls due ${NUDGE_LOCAL_TIME} local, cadence days after the last attended session's local date`, () => {
    const status = maintenanceStatus({ plan: maintenancePlan, sessions: [lastVisit], zone: LONDON, now: instant('2027-02-20T00:00:00.000Z') });

    expect(status).toEqual({
      attended: 1,
      phaseIndex: 0,
      cadenceDays: 28,
      lastAttendedStart: '2027-02-01T18:00:00.000Z',
      dueAt: '2027-03-01T10:00:00.000Z',
      lapsedAt: `2027-03-${String(1 + DEFAULT_LAPSE_GRACE_DAYS)}T10:00:00.000Z`,
      state: 'not-due',
    });
  });

  it('is due from the due time and lapsed from the end of the grace period', () => {
    const at = (now: string) => maintenanceStatus({ plan: maintenancePlan, sessions: [lastVisit], zone: LONDON, now: instant(now) }).state;

    expect(at('2027-03-01T09:59:59.999Z')).toBe('not-due');
    expect(at('2027-03-01T10:00:00.000Z')).toBe('due');
    expect(at('2027-03-15T09:59:59.999Z')).toBe('due');
    expect(at('2027-03-15T10:00:00.000Z')).toBe('lapsed');
  });

  it('takes a custom grace period in calendar days', () => {
    const status = maintenanceStatus({ plan: maintenancePlan, sessions: [lastVisit], zone: LONDON, now: instant('2027-03-04T10:00:00.000Z'), graceDays: 3 });

    expect(status).toMatchObject({ lapsedAt: '2027-03-04T10:00:00.000Z', state: 'lapsed' });
  });

  it("counts days on the client's calendar and keeps 10:00 local across a clock change", () => {
    // 23:30Z on 1 Feb is 10:30 on 2 Feb in Sydney; 2 Feb + 70 days = 13 April, after Sydney leaves DST.
    const sydneyVisit = session({ start: '2027-02-01T23:30:00.000Z', status: 'completed' });
    const everyTenWeeks = plan({ phases: [{ name: 'maintenance', everyDays: 70 }] });

    const status = maintenanceStatus({ plan: everyTenWeeks, sessions: [sydneyVisit], zone: 'Australia/Sydney', now: instant('2027-02-03T00:00:00.000Z') });

    expect(status.dueAt).toBe('2027-04-13T00:00:00.000Z'); // 10:00 AEST (UTC+10)
  });

  it('uses the cadence of the phase the next session falls in', () => {
    const twoPhases = plan({
      phases: [
        { name: 'initial', sessions: 2, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    });
    const first = session({ id: 's-1', start: '2027-02-01T10:00:00.000Z', status: 'completed' });
    const second = session({ id: 's-2', start: '2027-02-08T10:00:00.000Z', status: 'completed' });

    const afterOne = maintenanceStatus({ plan: twoPhases, sessions: [first], zone: LONDON, now: instant('2027-02-02T00:00:00.000Z') });
    const afterTwo = maintenanceStatus({ plan: twoPhases, sessions: [first, second], zone: LONDON, now: instant('2027-02-09T00:00:00.000Z') });

    expect(afterOne).toMatchObject({ attended: 1, phaseIndex: 0, cadenceDays: 7, dueAt: '2027-02-08T10:00:00.000Z' });
    expect(afterTwo).toMatchObject({ attended: 2, phaseIndex: 1, cadenceDays: 28, dueAt: '2027-03-08T10:00:00.000Z' });
  });

  it('counts a booked session once it has ended, and never a cancelled or no-show one', () => {
    const sessions = [
      lastVisit,
      session({ id: 's-2', start: '2027-03-01T12:00:00.000Z' }),
      session({ id: 's-3', start: '2027-03-08T12:00:00.000Z', status: 'cancelled' }),
      session({ id: 's-4', start: '2027-03-09T12:00:00.000Z', status: 'no-show' }),
    ];

    const status = maintenanceStatus({ plan: maintenancePlan, sessions, zone: LONDON, now: instant('2027-03-10T00:00:00.000Z') });

    expect(status).toMatchObject({ attended: 2, lastAttendedStart: '2027-03-01T12:00:00.000Z', dueAt: '2027-03-29T09:00:00.000Z' });
  });

  it('is booked, with nothing due, while a booked session is still to come', () => {
    const booked = session({ id: 's-2', start: '2027-04-01T12:00:00.000Z' });

    const status = maintenanceStatus({ plan: maintenancePlan, sessions: [lastVisit, booked], zone: LONDON, now: instant('2027-03-20T00:00:00.000Z') });

    expect(status).toEqual({
      attended: 1,
      phaseIndex: 0,
      cadenceDays: 28,
      lastAttendedStart: '2027-02-01T18:00:00.000Z',
      nextBookedStart: '2027-04-01T12:00:00.000Z',
      nextBookedEnd: '2027-04-01T13:00:00.000Z',
      state: 'booked',
    });
  });

  it('reports the earliest end among the booked sessions still to come, the one in progress included', () => {
    const longInProgress = session({ id: 's-2', start: '2027-03-20T12:00:00.000Z', durationMinutes: 120 });
    const nextWeek = session({ id: 's-3', start: '2027-03-27T12:00:00.000Z' });
    const earlierButCancelled = session({ id: 's-4', start: '2027-03-20T12:30:00.000Z', status: 'cancelled' });

    const status = maintenanceStatus({
      plan: maintenancePlan,
      sessions: [lastVisit, nextWeek, longInProgress, earlierButCancelled],
      zone: LONDON,
      now: instant('2027-03-20T12:30:00.000Z'),
    });

    expect(status).toMatchObject({ state: 'booked', nextBookedStart: '2027-03-20T12:00:00.000Z', nextBookedEnd: '2027-03-20T14:00:00.000Z' });
  });

  it('reports no booked end once the last booked session is over', () => {
    const endedJustNow = session({ id: 's-2', start: '2027-03-20T12:00:00.000Z' });

    const status = maintenanceStatus({ plan: maintenancePlan, sessions: [lastVisit, endedJustNow], zone: LONDON, now: instant('2027-03-20T13:00:00.000Z') });

    expect(status.state).toBe('not-due');
    expect(status.nextBookedEnd).toBeUndefined();
    expect(status.lastAttendedStart).toBe('2027-03-20T12:00:00.000Z');
  });

  it('is booked, not due, while the client is in the middle of a session', () => {
    const inProgress = session({ id: 's-2', start: '2027-03-20T12:00:00.000Z' });

    const status = maintenanceStatus({ plan: maintenancePlan, sessions: [lastVisit, inProgress], zone: LONDON, now: instant('2027-03-20T12:30:00.000Z') });

    expect(status.state).toBe('booked');
  });

  it('is not started when nothing has been attended', () => {
    const status = maintenanceStatus({
      plan: maintenancePlan,
      sessions: [session({ status: 'no-show' })],
      zone: LONDON,
      now: instant('2027-03-20T00:00:00.000Z'),
    });

    expect(status).toEqual({ attended: 0, phaseIndex: 0, cadenceDays: 28, state: 'not-started' });
  });

  it('is never due on a paused or completed plan', () => {
    for (const planStatus of ['paused', 'completed']) {
      const paused = plan({ status: planStatus, phases: [{ name: 'maintenance', everyDays: 28 }] });

      const status = maintenanceStatus({ plan: paused, sessions: [lastVisit], zone: LONDON, now: instant('2028-01-01T00:00:00.000Z') });

      expect(status.state).toBe('not-due');
      expect(status.dueAt).toBeUndefined();
    }
  });
});

describe('nudgeIdentity', () => {
  it("keys the nudge by its due date in the client's zone", () => {
    const identity = nudgeIdentity('p-sam', instant('2027-03-01T10:00:00.000Z'), LONDON);

    expect(identity).toEqual({ kind: 'maintenance-nudge', subjectId: 'p-sam', offset: '20270301', version: 1 });
    expect(messageName(identity)).toBe('mn.p-sam.20270301.v1');
  });

  it('uses the local date, not the UTC date', () => {
    // 10:00 on 2 March in Sydney is 23:00Z on 1 March.
    expect(nudgeIdentity('p-sam', instant('2027-03-01T23:00:00.000Z'), 'Australia/Sydney').offset).toBe('20270302');
  });
});
