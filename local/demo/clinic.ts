/**
 * The demo clinic `npm start` plays: one therapist and a handful of clients on plans with different
 * goals and phases, laid out around a start instant so that within the first three and a half days
 * a newcomer sees every kind of email:
 *
 *   day 0  07:00 the therapist's daily summary (and every day after)
 *          09:00 Sam's 2-hour reminder          10:00 Priya's maintenance nudge (due, not booked)
 *          15:30 Mia's 2-hour reminder
 *   day 1  09:00 Leo's 24-hour reminder         12:00 Sam's check-in (answered automatically)
 *          13:00 Kai's 2-hour reminder          18:30 Mia's check-in (answered, wants to rebook)
 *   day 2  07:00 Leo's 2-hour reminder          16:00 Kai's check-in (left open: fill it in the browser)
 *   day 3  10:00 Leo's check-in (answered: pain well above baseline, so the therapist gets an alert)
 *
 * Times are the clinic's local time (Europe/London). Sam, Priya and Leo answered their intake
 * questionnaires before their first sessions (their baselines), and their past check-ins give the
 * summaries trends to show. Kai's and Mia's plans start with the demo: each gets the intake
 * questionnaire at once, left unanswered, so Mia's check-in shows as having no baseline yet. Everything is a function of the start instant, so the
 * accelerated demo and `--realtime` use the same data.
 */
import { DateTime } from 'luxon';
import type { CheckInAnswers, IntakeAnswers } from '../../shared/domain/model.js';

export const DEMO_ZONE = 'Europe/London';

export interface DemoCheckIn {
  readonly clientId: string;
  readonly sessionId: string;
  readonly answers: Omit<CheckInAnswers, 'notes' | 'wantsToRebook'> & Partial<Pick<CheckInAnswers, 'notes' | 'wantsToRebook'>>;
}

export interface Demo {
  /** The clinic without its baseUrl, which is wherever the twin serves the pages. */
  readonly clinic: {
    name: string;
    senderEmail: string;
    timezone: string;
    quietHours: { start: string; end: string };
    signature: string;
    phone: string;
    emergencyNumber: string;
  };
  readonly dataset: { therapists: unknown[]; clients: unknown[]; plans: unknown[]; sessions: unknown[] };
  /** Intake questionnaires answered before the demo starts (the plans' baselines, recorded when it is seeded). */
  readonly intakes: ReadonlyArray<{ readonly clientId: string; readonly planId: string; readonly answeredAt: string; readonly answers: IntakeAnswers }>;
  /** Check-ins answered before the demo starts (recorded when it is seeded). */
  readonly history: ReadonlyArray<DemoCheckIn & { readonly answeredAt: string }>;
  /** Check-ins answered automatically as soon as their email arrives. */
  readonly autoAnswers: readonly DemoCheckIn[];
  /** The check-in left for the newcomer to fill in the browser. */
  readonly openCheckIn: { readonly clientId: string; readonly sessionId: string; readonly clientName: string };
}

/**
 * The local start of the demo day: 06:00 in the clinic's zone on the day of `now`, so the story
 * reads the same whatever the hour it is run at.
 */
export function demoStart(now: Date): Date {
  return DateTime.fromJSDate(now, { zone: DEMO_ZONE }).set({ hour: 6, minute: 0, second: 0, millisecond: 0 }).toJSDate();
}

export function buildDemo(start: Date): Demo {
  const day0 = DateTime.fromJSDate(start, { zone: DEMO_ZONE }).startOf('day');
  const at = (day: number, time: string): string => {
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    return day0.plus({ days: day }).set({ hour, minute }).toUTC().toISO({ suppressMilliseconds: true }) as string;
  };
  const later = (instant: string, hours: number) => DateTime.fromISO(instant).plus({ hours }).toUTC().toISO({ suppressMilliseconds: true }) as string;
  const room = (n: number) => `Treatment room ${n}, 14 Harbour Street`;
  const session = (id: string, planId: string, start: string, status: 'booked' | 'completed' = 'booked', durationMinutes = 60, location = room(1)) => ({
    id,
    planId,
    start,
    durationMinutes,
    location,
    status,
  });
  const client = (id: string, name: string, email: string) => ({ id, name, email, timezone: DEMO_ZONE });

  const sessions = [
    // Sam: back pain, initial course; session 2 today, session 3 next week.
    session('s-sam-1', 'p-sam', at(-7, '11:00'), 'completed'),
    session('s-sam-2', 'p-sam', at(0, '11:00')),
    session('s-sam-3', 'p-sam', at(7, '11:00')),
    // Kai: sports injury, one session booked tomorrow afternoon.
    session('s-kai-1', 'p-kai', at(1, '15:00'), 'booked', 45, room(2)),
    // Priya: general wellness on maintenance every 21 days; last seen three weeks ago, nothing booked.
    session('s-priya-1', 'p-priya', at(-42, '09:30'), 'completed'),
    session('s-priya-2', 'p-priya', at(-21, '09:30'), 'completed'),
    // Leo: back pain, two sessions behind him, the third the day after tomorrow.
    session('s-leo-1', 'p-leo', at(-14, '09:00'), 'completed'),
    session('s-leo-2', 'p-leo', at(-7, '09:00'), 'completed'),
    session('s-leo-3', 'p-leo', at(2, '09:00')),
    // Mia: neck and shoulders, first session this evening.
    session('s-mia-1', 'p-mia', at(0, '17:30'), 'booked', 60, room(2)),
  ];

  return {
    clinic: {
      name: 'Harbour Clinical Massage',
      senderEmail: 'care@harbour-massage.example',
      timezone: DEMO_ZONE,
      quietHours: { start: '21:00', end: '08:00' },
      signature: 'Amy and the Harbour team',
      phone: '020 7946 0000',
      emergencyNumber: '999',
    },
    dataset: {
      therapists: [
        {
          id: 't-amy',
          name: 'Amy Chen',
          email: 'amy@harbour-massage.example',
          timezone: DEMO_ZONE,
          summary: { cadence: 'daily', hour: 7, whenEmpty: 'one-line' },
        },
      ],
      clients: [
        client('c-sam', 'Sam Patel', 'sam.patel@example.com'),
        client('c-kai', 'Kai Moreno', 'kai.moreno@example.net'),
        client('c-priya', 'Priya Shah', 'priya.shah@example.org'),
        client('c-leo', 'Leo Novak', 'leo.novak@example.com'),
        client('c-mia', 'Mia Johansson', 'mia.johansson@example.net'),
      ],
      plans: [
        {
          id: 'p-sam',
          clientId: 'c-sam',
          therapistId: 't-amy',
          goal: 'back-pain',
          phases: [
            { name: 'initial', sessions: 6, everyDays: 7 },
            { name: 'maintenance', everyDays: 28 },
          ],
          reminders: ['P1D', 'PT2H'],
          checkInAfter: 'PT24H',
        },
        {
          id: 'p-kai',
          clientId: 'c-kai',
          therapistId: 't-amy',
          goal: 'sports-injury',
          phases: [
            { name: 'rehab', sessions: 4, everyDays: 10 },
            { name: 'maintenance', everyDays: 21 },
          ],
          reminders: ['P2D', 'PT2H'],
          checkInAfter: 'PT24H',
        },
        {
          id: 'p-priya',
          clientId: 'c-priya',
          therapistId: 't-amy',
          goal: 'general-wellness',
          phases: [{ name: 'maintenance', everyDays: 21 }],
          reminders: ['P2D'],
          checkInAfter: 'PT24H',
        },
        {
          id: 'p-leo',
          clientId: 'c-leo',
          therapistId: 't-amy',
          goal: 'back-pain',
          phases: [
            { name: 'initial', sessions: 6, everyDays: 7 },
            { name: 'maintenance', everyDays: 28 },
          ],
          reminders: ['PT24H', 'PT2H'],
          checkInAfter: 'P1D',
        },
        {
          id: 'p-mia',
          clientId: 'c-mia',
          therapistId: 't-amy',
          goal: 'neck-and-shoulders',
          phases: [
            { name: 'initial', sessions: 4, everyDays: 14 },
            { name: 'maintenance', everyDays: 42 },
          ],
          reminders: ['P1D', 'PT2H'],
          checkInAfter: 'PT24H',
        },
      ],
      sessions,
    },
    intakes: [
      {
        clientId: 'c-sam',
        planId: 'p-sam',
        answeredAt: at(-8, '18:00'),
        answers: { pain: 7, mobility: 4, stress: 6, sleep: 5, reason: 'Lower back pain since a house move.' },
      },
      { clientId: 'c-priya', planId: 'p-priya', answeredAt: at(-43, '18:00'), answers: { pain: 3, mobility: 7, stress: 6, sleep: 6, reason: '' } },
      {
        clientId: 'c-leo',
        planId: 'p-leo',
        answeredAt: at(-15, '18:00'),
        answers: { pain: 3, mobility: 7, stress: 4, sleep: 6, reason: 'Stiff back after long drives.' },
      },
    ],
    history: [
      { clientId: 'c-sam', sessionId: 's-sam-1', answeredAt: later(at(-6, '12:00'), 2), answers: { pain: 7, mobility: 4, stress: 6, sleep: 5, notes: '' } },
      { clientId: 'c-priya', sessionId: 's-priya-2', answeredAt: later(at(-20, '10:30'), 3), answers: { pain: 2, mobility: 8, stress: 4, sleep: 7 } },
      { clientId: 'c-leo', sessionId: 's-leo-1', answeredAt: later(at(-13, '10:00'), 1), answers: { pain: 3, mobility: 7, stress: 4, sleep: 6 } },
      { clientId: 'c-leo', sessionId: 's-leo-2', answeredAt: later(at(-6, '10:00'), 1), answers: { pain: 4, mobility: 6, stress: 5, sleep: 6 } },
    ],
    autoAnswers: [
      {
        clientId: 'c-sam',
        sessionId: 's-sam-2',
        answers: { pain: 5, mobility: 6, stress: 4, sleep: 6, notes: 'Much easier getting out of bed this morning.' },
      },
      { clientId: 'c-mia', sessionId: 's-mia-1', answers: { pain: 4, mobility: 6, stress: 5, sleep: 5, wantsToRebook: true } },
      {
        clientId: 'c-leo',
        sessionId: 's-leo-3',
        answers: { pain: 8, mobility: 4, stress: 7, sleep: 3, notes: 'Sharp pain after lifting boxes at the weekend.' },
      },
    ],
    openCheckIn: { clientId: 'c-kai', sessionId: 's-kai-1', clientName: 'Kai Moreno' },
  };
}

/**
 * The demo as a scenario for `npm run simulate` (examples/demo-clinic.json is this at a fixed
 * start): the same data, the past intakes and check-ins answered at the start, and the automatic answers given
 * two hours after each check-in falls due.
 */
export function demoScenario(start: Date, baseUrl = 'http://localhost:3000'): Record<string, unknown> {
  const demo = buildDemo(start);
  const from = start.toISOString().replace('.000Z', 'Z');
  const sessionEnd = (id: string) => {
    const s = demo.dataset.sessions.find((x) => (x as { id: string }).id === id) as { start: string; durationMinutes: number };
    return Date.parse(s.start) + s.durationMinutes * 60_000;
  };
  const answerAt = (sessionId: string) => new Date(sessionEnd(sessionId) + 26 * 3_600_000).toISOString().replace('.000Z', 'Z');
  return {
    clinic: { ...demo.clinic, baseUrl },
    ...demo.dataset,
    events: [
      ...demo.intakes.map((i) => ({ at: from, type: 'intake-response', planId: i.planId, answers: i.answers })),
      ...demo.history.map((h) => ({ at: from, type: 'check-in-response', sessionId: h.sessionId, answers: h.answers })),
      ...demo.autoAnswers.map((a) => ({ at: answerAt(a.sessionId), type: 'check-in-response', sessionId: a.sessionId, answers: a.answers })),
    ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
    simulate: { from, until: new Date(start.getTime() + 4 * 86_400_000).toISOString().replace('.000Z', 'Z') },
  };
}
