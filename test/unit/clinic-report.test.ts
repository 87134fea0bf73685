/**
 * The monthly clinic report's pure parts: which month is due when, the figures from a month's
 * plans, sessions, check-ins and ledger entries, and the email and CSV built from them.
 */
import { describe, expect, it } from 'vitest';
import { clinicReportIdentity, latestDueMonth } from '../../shared/domain/report-month.js';
import { messageName } from '../../shared/domain/message.js';
import { clinicSchema } from '../../shared/domain/model.js';
import { changeWords } from '../../shared/email/chart.js';
import { clinicReportCsv, composeClinicReport } from '../../shared/email/clinic-report.js';
import { clinicReportFigures, type ClinicReportInput } from '../../shared/use-cases/send-summaries/build-clinic-report.js';
import type { LedgerEntry, StoredCheckIn, StoredPlan, StoredSession } from '../../shared/ports/store.js';
import { instant } from '../support/instant.js';

describe('which month’s report is due', () => {
  it('is the previous month from the 1st at the report hour in the clinic’s zone', () => {
    // 1 April 2027 08:00 in London is 07:00Z (BST).
    expect(latestDueMonth('Europe/London', 8, instant('2027-04-01T07:00:00.000Z'))).toEqual({
      key: '2027-03',
      start: '2027-03-01T00:00:00.000Z',
      end: '2027-03-31T23:00:00.000Z',
      dueAt: '2027-04-01T07:00:00.000Z',
      nextDueAt: '2027-05-01T07:00:00.000Z',
      zone: 'Europe/London',
    });
  });

  it('is still the month before that a minute before the hour', () => {
    expect(latestDueMonth('Europe/London', 8, instant('2027-04-01T06:59:00.000Z')).key).toBe('2027-02');
  });

  it('crosses the year: January’s sweep reports on December', () => {
    expect(latestDueMonth('America/New_York', 9, instant('2027-01-15T12:00:00.000Z'))).toMatchObject({
      key: '2026-12',
      start: '2026-12-01T05:00:00.000Z',
      dueAt: '2027-01-01T14:00:00.000Z',
    });
  });

  it('names the report by month, with no client or therapist in the name', () => {
    expect(messageName(clinicReportIdentity({ key: '2027-03' }))).toBe('cr.clinic.2027-03.v1');
  });

  it('is configured with the owner’s address and a whole hour, or refused by field', () => {
    const base = { name: 'C', senderEmail: 'care@c.example', timezone: 'Europe/London', baseUrl: 'https://c.example' };
    expect(clinicSchema.parse({ ...base, monthlyReport: { to: 'owner@c.example' } }).monthlyReport).toEqual({ to: 'owner@c.example', hour: 8 });
    const bad = clinicSchema.safeParse({ ...base, monthlyReport: { to: 'owner@c.example', hour: 24 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['monthlyReport', 'hour'], message: 'must be 0–23' });
  });
});

const month = latestDueMonth('Europe/London', 8, instant('2027-04-01T07:00:00.000Z'));
const plan = (id: string, goal: string, extra: Partial<StoredPlan> = {}): StoredPlan =>
  ({
    id,
    clientId: `c-${id}`,
    therapistId: 't-1',
    goal,
    phases: [{ name: 'maintenance', everyDays: 28 }],
    reminders: [],
    checkInAfter: 'PT24H',
    status: 'active',
    ...extra,
  }) as StoredPlan;
const session = (id: string, planId: string, start: string, extra: Partial<StoredSession> = {}): StoredSession =>
  ({ id, planId, clientId: 'c', therapistId: 't-1', start, durationMinutes: 60, location: 'Room', status: 'completed', version: 1, ...extra }) as StoredSession;
const checkIn = (
  sessionId: string,
  planId: string,
  answeredAt: string,
  scores: [number, number, number, number],
  baselineScores?: [number, number, number, number],
): StoredCheckIn => {
  const [pain, mobility, stress, sleep] = scores;
  return {
    sessionId,
    planId,
    clientId: 'c',
    therapistId: 't-1',
    answeredAt: instant(answeredAt),
    pain,
    mobility,
    stress,
    sleep,
    notes: '',
    wantsToRebook: false,
    baseline: !baselineScores,
    ...(baselineScores
      ? { baselineScores: { pain: baselineScores[0], mobility: baselineScores[1], stress: baselineScores[2], sleep: baselineScores[3] } }
      : {}),
  };
};
const sentAlert = (sessionId: string, at: string): LedgerEntry => ({
  name: `ta.${sessionId}.checkin.v1`,
  kind: 'therapist-alert',
  status: 'sent',
  attempts: 1,
  updatedAt: instant(at),
  sessionId,
});

function input(over: Partial<ClinicReportInput> = {}): ClinicReportInput {
  return { month, plans: [], sessions: [], answered: [], checkInsSent: [], alerts: new Map(), ...over };
}

describe('the report’s figures', () => {
  it('says nothing was sent or planned rather than dividing by zero', () => {
    const f = clinicReportFigures(input({ plans: [plan('p1', 'back-pain', { status: 'paused' })] }));
    expect(f.plans).toEqual({ active: 0, paused: 1, started: 0, completed: 0, lapsed: 0 });
    expect(f.checkIns).toEqual({ sent: 0, answered: 0 });
    expect(f.maintenance).toEqual({ planned: 0, attended: 0, missed: 0 });
    expect(f.redFlags).toEqual({ raised: 0, alerted: 0 });
  });

  it('counts a check-in answered in April for a March email as a March answer, and none from another month', () => {
    const f = clinicReportFigures(
      input({
        checkInsSent: ['s1', 's2'],
        answered: [checkIn('s1', 'p1', '2027-04-01T01:00:00.000Z', [3, 6, 3, 6], [5, 5, 5, 5]), checkIn('s0', 'p1', '2027-03-02T10:00:00.000Z', [5, 5, 5, 5])],
      }),
    );
    expect(f.checkIns).toEqual({ sent: 2, answered: 1, rate: 0.5 });
  });

  it('averages per goal with one decimal and takes the median alert delay of an even count as the mean of the middle two', () => {
    const plans = [plan('p1', 'back-pain'), plan('p2', 'back-pain')];
    const answered = [
      checkIn('s1', 'p1', '2027-03-10T10:00:00.000Z', [9, 5, 5, 5], [6, 5, 5, 5]),
      checkIn('s2', 'p2', '2027-03-11T10:00:00.000Z', [9, 4, 5, 4], [5, 5, 5, 5]),
    ];
    const alerts = new Map([
      ['s1', sentAlert('s1', '2027-03-10T10:02:00.000Z')],
      ['s2', sentAlert('s2', '2027-03-11T10:05:00.000Z')],
    ]);
    const f = clinicReportFigures(input({ plans, answered, alerts }));
    expect(f.changeByGoal).toEqual([{ goal: 'back-pain', checkIns: 2, change: { pain: 3.5, mobility: -0.5, stress: 0, sleep: -0.5 } }]);
    expect(f.redFlags).toEqual({ raised: 2, alerted: 2, medianMinutes: 3.5, longestMinutes: 5 });
  });

  it('counts plans started, completed and lapsed in the month, and maintenance attended against planned', () => {
    const plans = [
      plan('p1', 'back-pain'),
      plan('p2', 'back-pain', { status: 'completed' }),
      plan('p3', 'back-pain', {
        maintenanceMark: {
          state: 'lapsed',
          dueAt: instant('2027-02-01T00:00:00.000Z'),
          lapsedAt: instant('2027-03-20T00:00:00.000Z'),
          markedAt: instant('2027-03-20T00:00:00.000Z'),
        },
      }),
      plan('p4', 'back-pain', {
        maintenanceMark: {
          state: 'lapsed',
          dueAt: instant('2027-01-01T00:00:00.000Z'),
          lapsedAt: instant('2027-02-20T00:00:00.000Z'),
          markedAt: instant('2027-02-20T00:00:00.000Z'),
        },
      }),
    ];
    const sessions = [
      session('a', 'p1', '2027-03-02T10:00:00.000Z', { number: 1 }),
      session('b', 'p2', '2027-03-03T10:00:00.000Z', { number: 4, maintenance: true }),
      session('c', 'p2', '2027-03-04T10:00:00.000Z', { number: 5, maintenance: true, status: 'no-show' }),
      session('d', 'p1', '2027-03-05T10:00:00.000Z', { maintenance: true, status: 'cancelled' }),
    ];
    const f = clinicReportFigures(input({ plans, sessions }));
    expect(f.plans).toEqual({ active: 3, paused: 0, started: 1, completed: 1, lapsed: 1 });
    expect(f.maintenance).toEqual({ planned: 2, attended: 1, missed: 1, rate: 0.5 });
  });
});

describe('the report email', () => {
  const figures = clinicReportFigures(
    input({
      plans: [plan('p1', 'sports-injury')],
      answered: [checkIn('s1', 'p1', '2027-03-10T10:00:00.000Z', [4, 6, 5, 5], [6, 5, 5, 6])],
      checkInsSent: ['s1'],
    }),
  );

  it('says the change in words, with the direction each score reads', () => {
    expect(changeWords({ pain: -2, mobility: 1, stress: 0, sleep: -1 })).toBe(
      'pain −2 (better), mobility +1 (better), stress ±0 (no change), sleep −1 (worse)',
    );
  });

  it('has a subject with the month and the active plans, and no red flags when there were none', () => {
    expect(composeClinicReport(figures, { clinicName: 'Harbour' }).subject).toBe('Clinic report for March 2027: 1 active plan');
  });

  it('attaches its CSV with a header and one row per figure and per goal score', () => {
    const csv = clinicReportCsv(figures).trim().split(/\r?\n/);
    expect(csv[0]).toBe('section,measure,value');
    expect(csv).toContain('check-ins,response rate,1');
    expect(csv).toContain('change since baseline: sports-injury,pain,-2');
    expect(csv).toContain('red flags,median alert minutes,');
  });

  it('reads well without charts: the table and the words are there, no image', () => {
    const email = composeClinicReport(figures, { clinicName: 'Harbour' });
    expect(email.inlineImages).toEqual([]);
    expect(email.text).toContain('Sports injury (1 check-in): pain −2 (better), mobility +1 (better), stress ±0 (no change), sleep −1 (worse).');
    expect(email.html).not.toContain('cid:');
  });
});
