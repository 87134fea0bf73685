import { describe, expect, it } from 'vitest';
import { clientSchema, planSchema, sessionSchema, therapistSchema, type Therapist } from '../../shared/domain/model.js';
import { latestDuePeriod } from '../../shared/domain/summary-period.js';
import { renderDocument } from '../../shared/email/render.js';
import {
  checkInsCsv,
  composeSummary,
  csvCell,
  CSV_COLUMNS,
  emptySummaryLine,
  encodedSize,
  summaryDocument,
  summarySubject,
  toCsv,
} from '../../shared/email/summary.js';
import { checkInDueAt } from '../../shared/domain/schedule-rules.js';
import { buildSummary } from '../../shared/use-cases/send-summaries/build-summary.js';
import { MemoryStore } from '../support/memory-store.js';
import { instant } from '../support/instant.js';

const clinic = { quietHours: { start: '21:00', end: '08:00' } };
const brand = { clinicName: 'Harbour Clinic' };
const amy = therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: 'amy@harbour.example', timezone: 'Europe/London' });
// Daily at 07:00 London; on 10 Feb 2027 (GMT) the period is 9 Feb 07:00Z – 10 Feb 07:00Z.
const NOW = instant('2027-02-10T07:00:00.000Z');
const period = latestDuePeriod(amy.summary, amy.timezone, NOW);

interface Visit {
  readonly start: string;
  readonly status?: 'booked' | 'completed' | 'cancelled' | 'no-show';
  readonly answers?: { pain: number; mobility: number; stress: number; sleep: number; notes?: string; wantsToRebook?: boolean };
  readonly answeredAt?: string;
}

/** `intake`: the intake questionnaire's answers, the plan's baseline, given before the first visit. */
interface Intake {
  readonly answers: { pain: number; mobility: number; stress: number; sleep: number };
  readonly answeredAt: string;
}

async function seedClient(store: MemoryStore, id: string, name: string, visits: readonly Visit[], therapist: Therapist = amy, intake?: Intake): Promise<void> {
  await store.putClient(clientSchema.parse({ id, name, email: `${id}@example.com`, timezone: 'Europe/London' }));
  await store.putPlan(
    planSchema.parse({
      id: `p-${id}`,
      clientId: id,
      therapistId: therapist.id,
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    }),
  );
  if (intake) await store.recordBaseline({ clientId: id, planId: `p-${id}`, answers: { ...intake.answers, reason: '' }, at: instant(intake.answeredAt) });
  for (const [i, visit] of visits.entries()) {
    const sessionId = `s-${id}-${i + 1}`;
    await store.saveSession(
      sessionSchema.parse({
        id: sessionId,
        planId: `p-${id}`,
        start: visit.start,
        durationMinutes: 60,
        location: 'Room 1',
        status: visit.status ?? 'completed',
      }),
    );
    if (visit.answers)
      await store.recordCheckIn({ clientId: id, sessionId, answers: { notes: '', wantsToRebook: false, ...visit.answers }, at: instant(visit.answeredAt!) });
  }
}

async function storeWithAmy(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.putTherapist(amy);
  return store;
}

describe('building the summary', () => {
  it('puts red flags first, even when their answers came in later', async () => {
    const store = await storeWithAmy();
    // Each baseline is the intake questionnaire's, answered before the first session.
    await seedClient(
      store,
      'c-bob',
      'Bob Ng',
      [
        { start: '2027-02-01T10:00:00Z' },
        { start: '2027-02-08T10:00:00Z', answers: { pain: 3, mobility: 7, stress: 4, sleep: 7 }, answeredAt: '2027-02-09T09:00:00Z' },
      ],
      amy,
      {
        answers: { pain: 6, mobility: 5, stress: 5, sleep: 6 },
        answeredAt: '2027-01-31T09:00:00Z',
      },
    );
    await seedClient(
      store,
      'c-ann',
      'Ann Lee',
      [
        { start: '2027-02-01T11:00:00Z' },
        { start: '2027-02-08T11:00:00Z', answers: { pain: 9, mobility: 5, stress: 6, sleep: 5 }, answeredAt: '2027-02-09T12:00:00Z' },
      ],
      amy,
      {
        answers: { pain: 6, mobility: 5, stress: 6, sleep: 5 },
        answeredAt: '2027-01-31T12:00:00Z',
      },
    );

    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const doc = summaryDocument(data);
    const headings = doc.blocks.filter((b) => b.type === 'heading').map((b) => (b.type === 'heading' ? b.text : ''));

    expect(data.checkIns.map((c) => c.client.name)).toEqual(['Ann Lee', 'Bob Ng']);
    expect(data.checkIns[0]?.flags).toEqual(['Pain is 9/10', 'Pain is up 3 against baseline (6 → 9)']);
    expect(headings.indexOf('Red flags')).toBeLessThan(headings.indexOf('Other check-ins'));
    expect(headings.indexOf('Red flags')).toBe(1);
  });

  it('compares each check-in with the baseline and the last one', async () => {
    const store = await storeWithAmy();
    // The baseline is the intake questionnaire's, answered before the first session.
    await seedClient(
      store,
      'c-bob',
      'Bob Ng',
      [
        { start: '2027-02-05T10:00:00Z', answers: { pain: 5, mobility: 5, stress: 6, sleep: 6 }, answeredAt: '2027-02-06T09:00:00Z' },
        { start: '2027-02-08T10:00:00Z', answers: { pain: 6, mobility: 6, stress: 3, sleep: 6 }, answeredAt: '2027-02-09T09:00:00Z' },
      ],
      amy,
      { answers: { pain: 7, mobility: 4, stress: 6, sleep: 5 }, answeredAt: '2027-02-04T09:00:00Z' },
    );

    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const { text } = renderDocument(summaryDocument(data), brand);

    // Baseline 7/4/6/5, last 5/5/6/6, now 6/6/3/6.
    expect(text).toContain(
      'pain 6 (▼1 vs baseline, ▲1 vs last); mobility 6 (▲2 vs baseline, ▲1 vs last); stress 3 (▼3 vs baseline, ▼3 vs last); sleep 6 (▲1 vs baseline, ±0 vs last)',
    );
    expect(text).toContain('pain ▆▅▅ 7→6 (better)');
  });

  it('lists check-ins that fell due in the period and were not answered', async () => {
    const store = await storeWithAmy();
    // Ended 8 Feb 11:00Z: its check-in was due 9 Feb 11:00Z, inside the period, and never answered.
    await seedClient(store, 'c-cat', 'Cat Roy', [{ start: '2027-02-08T10:00:00Z' }]);
    // Ended 9 Feb 17:00Z: due 10 Feb 17:00Z, after the period; not yet a missed check-in.
    await seedClient(store, 'c-dan', 'Dan Fox', [{ start: '2027-02-09T16:00:00Z' }]);
    // Ended 7 Feb 11:00Z: due 8 Feb, reported in the period before.
    await seedClient(store, 'c-eve', 'Eve Kay', [{ start: '2027-02-07T10:00:00Z' }]);
    // A no-show gets no check-in.
    await seedClient(store, 'c-fay', 'Fay Orr', [{ start: '2027-02-08T12:00:00Z', status: 'no-show' }]);

    const data = await buildSummary({ store, therapist: amy, period, clinic });

    expect(data.unanswered.map((u) => [u.client.name, u.dueAt])).toEqual([['Cat Roy', '2027-02-09T11:00:00.000Z']]);
    expect(data.counts.unanswered).toBe(1);
  });

  it('times a check-in as the scheduler does: after the session, out of quiet hours', () => {
    // Ends 20:00Z; 24 h later is 20:00 — before quiet hours start at 21:00, so unchanged.
    expect(
      checkInDueAt({ start: instant('2027-02-08T19:00:00.000Z'), durationMinutes: 60 }, { checkInAfter: 'PT24H' }, 'Europe/London', clinic.quietHours),
    ).toBe('2027-02-09T20:00:00.000Z');
    // Ends 21:30Z; 24 h later is in quiet hours, so it waits for 08:00.
    expect(
      checkInDueAt({ start: instant('2027-02-08T20:30:00.000Z'), durationMinutes: 60 }, { checkInAfter: 'PT24H' }, 'Europe/London', clinic.quietHours),
    ).toBe('2027-02-10T08:00:00.000Z');
  });

  it('shows maintenance due or lapsed with the days since it fell due', async () => {
    const store = await storeWithAmy();
    await seedClient(store, 'c-gus', 'Gus Hale', [{ start: '2027-01-01T10:00:00Z' }]);
    await seedClient(store, 'c-hal', 'Hal Ito', [{ start: '2026-12-01T10:00:00Z' }]);
    await store.setMaintenanceMark(
      'c-gus',
      'p-c-gus',
      {
        state: 'due',
        dueAt: instant('2027-02-05T10:00:00.000Z'),
        lapsedAt: instant('2027-02-19T10:00:00.000Z'),
        markedAt: instant('2027-02-05T10:00:00.000Z'),
      },
      instant('2027-02-19T10:00:00.000Z'),
    );
    await store.setMaintenanceMark(
      'c-hal',
      'p-c-hal',
      {
        state: 'lapsed',
        dueAt: instant('2027-01-10T10:00:00.000Z'),
        lapsedAt: instant('2027-01-24T10:00:00.000Z'),
        markedAt: instant('2027-01-24T10:00:00.000Z'),
      },
      undefined,
    );

    const data = await buildSummary({ store, therapist: amy, period, clinic });

    // Due dates 10 Jan and 5 Feb; the period ends on 10 Feb: 31 and 5 days.
    expect(data.maintenance.map((m) => [m.client.name, m.state, m.daysSinceDue])).toEqual([
      ['Hal Ito', 'lapsed', 31],
      ['Gus Hale', 'due', 5],
    ]);
    expect(data.counts).toMatchObject({ maintenanceDue: 1, maintenanceLapsed: 1 });
    // Neither changed in the period: nothing new.
    expect(data.isEmpty).toBe(true);
    // Still, the subject and the one line say who is waiting on the therapist.
    expect(summarySubject(data)).toBe('Daily summary · Wed 10 Feb · No check-ins, 2 clients due for maintenance');
    expect(emptySummaryLine(data)).toBe(
      'No check-ins Tue 9 Feb 07:00 – Wed 10 Feb 07:00 (Europe/London): no missed check-ins or reschedule requests. 2 clients due for maintenance.',
    );
  });

  it('lists the booked sessions until the next summary, and requests with their message', async () => {
    const store = await storeWithAmy();
    await seedClient(store, 'c-ida', 'Ida Moss', [
      { start: '2027-02-10T09:00:00Z', status: 'booked' },
      { start: '2027-02-11T09:00:00Z', status: 'booked' },
    ]);
    await seedClient(store, 'c-jon', 'Jon Park', [{ start: '2027-02-10T15:00:00Z', status: 'cancelled' }]);
    await store.recordRescheduleRequest({
      sessionId: 's-c-ida-1',
      clientId: 'c-ida',
      planId: 'p-c-ida',
      therapistId: 't-amy',
      message: 'Could we do Thursday?',
      at: instant('2027-02-09T18:00:00.000Z'),
    });

    const data = await buildSummary({ store, therapist: amy, period, clinic });

    expect(data.coming.map((s) => [s.client.name, s.start])).toEqual([['Ida Moss', '2027-02-10T09:00:00.000Z']]);
    expect(data.requests.map((r) => [r.client.name, r.sessionStart, r.message])).toEqual([['Ida Moss', '2027-02-10T09:00:00.000Z', 'Could we do Thursday?']]);
  });

  it('copes with a check-in whose session is gone and a plan without a baseline', async () => {
    const store = await storeWithAmy();
    await seedClient(store, 'c-kim', 'Kim Wu', [
      { start: '2027-02-08T10:00:00Z', answers: { pain: 4, mobility: 6, stress: 5, sleep: 6 }, answeredAt: '2027-02-09T10:00:00Z' },
    ]);
    const bundle = await store.getClientBundle('c-kim');
    const checkIn = bundle!.checkIns[0]!;
    // Data written outside the store's writer: no baseline captured, and no session on record.
    const { baselineScores: _dropped, ...withoutBaseline } = checkIn;
    const fakeStore = Object.assign(Object.create(store) as MemoryStore, {
      therapistActivity: async () => ({ sessions: [], checkIns: [{ ...withoutBaseline, baseline: false }], requests: [], planChanges: [] }),
      getClientBundle: async () => ({
        ...bundle!,
        sessions: [],
        checkIns: [{ ...withoutBaseline, baseline: false }],
        plans: bundle!.plans.map(({ baseline: _b, ...p }) => p),
      }),
      therapistPlans: async () => bundle!.plans.map(({ baseline: _b, ...p }) => p),
    });

    const data = await buildSummary({ store: fakeStore, therapist: amy, period, clinic });
    const { text } = renderDocument(summaryDocument(data), brand);

    expect(text).toContain('Kim Wu · answered Tue 9 Feb 10:00 · session no longer on record');
    // Said once, before the scores: the intake questionnaire is not answered.
    expect(text).toContain('no baseline yet: pain 4; mobility 6; stress 5; sleep 6');
    expect(data.checkIns[0]?.flags).toEqual([]);
  });
});

describe('the summary email', () => {
  it('escapes HTML in answers and names: the renderer never lets markup through', async () => {
    const store = await storeWithAmy();
    await seedClient(store, 'c-max', 'Max <b>Bold</b>', [
      {
        start: '2027-02-08T10:00:00Z',
        answers: { pain: 3, mobility: 6, stress: 4, sleep: 7, notes: '<script>alert(1)</script> & <img src=x onerror=alert(2)>' },
        answeredAt: '2027-02-09T10:00:00Z',
      },
    ]);

    const email = composeSummary(await buildSummary({ store, therapist: amy, period, clinic }), brand);

    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img src=x');
    expect(email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;');
    expect(email.html).toContain('Max &lt;b&gt;Bold&lt;/b&gt;');
  });

  it('leads with the counts and names no client in the subject', async () => {
    const store = await storeWithAmy();
    await seedClient(store, 'c-ann', 'Ann Lee', [
      { start: '2027-02-01T11:00:00Z', answers: { pain: 6, mobility: 5, stress: 6, sleep: 5 }, answeredAt: '2027-02-02T12:00:00Z' },
      { start: '2027-02-08T11:00:00Z', answers: { pain: 9, mobility: 5, stress: 6, sleep: 5, wantsToRebook: true }, answeredAt: '2027-02-09T12:00:00Z' },
    ]);

    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const doc = summaryDocument(data);

    expect(summarySubject(data)).toBe('Daily summary · Wed 10 Feb · 1 check-in, 1 red flag');
    expect(doc.blocks[2]).toEqual({
      type: 'details',
      rows: [
        ['Check-ins', '1 (1 with red flags)'],
        ['Not answered', '0'],
        ['Reschedule requests', '0'],
        ['Would like to book', '1'],
        ['Maintenance due', '0'],
        ['Maintenance lapsed', '0'],
        ['Coming up', '0 sessions'],
      ],
    });
  });

  it('is a single line for a period with nothing new, with no attachment', async () => {
    const store = await storeWithAmy();
    await seedClient(store, 'c-ida', 'Ida Moss', [{ start: '2027-02-10T09:00:00Z', status: 'booked' }]);

    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const email = composeSummary(data, brand);

    expect(data.isEmpty).toBe(true);
    expect(summaryDocument(data).blocks).toEqual([{ type: 'paragraph', text: emptySummaryLine(data) }]);
    expect(emptySummaryLine(data)).toBe(
      'No check-ins Tue 9 Feb 07:00 – Wed 10 Feb 07:00 (Europe/London): no missed check-ins or reschedule requests. 1 session coming up before your next summary.',
    );
    expect(email.subject).toBe('Daily summary · Wed 10 Feb · No check-ins');
    expect(email.attachments).toEqual([]);
  });
});

describe('the CSV', () => {
  it('quotes fields with commas, quotes and line breaks (RFC 4180) and ends lines with CRLF', () => {
    expect(toCsv([['plain', 'a,b', 'say "hi"', 'two\nlines']])).toBe('plain,"a,b","say ""hi""","two\nlines"\r\n');
  });

  it('neutralises text a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('keeps numbers as numbers, even negative ones', () => {
    expect(toCsv([[-2, 0, 3, true, undefined]])).toBe('-2,0,3,yes,\r\n');
  });

  it('has one row per check-in of the period, with the changes as signed numbers', async () => {
    const store = await storeWithAmy();
    // The intake questionnaire's answers (the baseline) equal the first check-in's, so both columns read the same.
    await seedClient(
      store,
      'c-bob',
      'Bob, "the builder"',
      [
        { start: '2027-02-01T10:00:00Z', answers: { pain: 7, mobility: 4, stress: 6, sleep: 5 }, answeredAt: '2027-02-02T09:00:00Z' },
        {
          start: '2027-02-08T10:00:00Z',
          answers: { pain: 5, mobility: 6, stress: 6, sleep: 4, notes: '=1+1 worse at night' },
          answeredAt: '2027-02-09T09:00:00Z',
        },
      ],
      amy,
      { answers: { pain: 7, mobility: 4, stress: 6, sleep: 5 }, answeredAt: '2027-01-31T09:00:00Z' },
    );

    const csv = checkInsCsv(await buildSummary({ store, therapist: amy, period, clinic }));
    const lines = csv.replace(/^\uFEFF/, '').split('\r\n');

    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(
      `2027-02-09 09:00,c-bob,"Bob, ""the builder""",p-c-bob,back-pain,s-c-bob-2,2027-02-08 10:00,no,5,6,6,4,-2,2,0,-1,-2,2,0,-1,no,,'=1+1 worse at night`,
    );
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
  });
});

// Seeding 500 clients into the in-memory store takes a few seconds on a busy machine.
describe('the size guard', { timeout: 30_000 }, () => {
  async function busyDay(clients: number, noteLength: number): Promise<MemoryStore> {
    const store = await storeWithAmy();
    for (let i = 0; i < clients; i++) {
      const id = `c-${String(i).padStart(3, '0')}`;
      await seedClient(store, id, `Client Number ${i}`, [
        { start: '2027-02-01T10:00:00Z', answers: { pain: 6, mobility: 5, stress: 5, sleep: 6 }, answeredAt: '2027-02-02T09:00:00Z' },
        {
          start: '2027-02-08T10:00:00Z',
          // Every tenth client is flagged (pain 8).
          answers: {
            pain: i % 10 === 0 ? 8 : 4,
            mobility: 6,
            stress: 4,
            sleep: 6,
            notes: `${'Stiff shoulder, better after stretches. '.repeat(Math.ceil(noteLength / 40)).slice(0, noteLength)}`,
          },
          answeredAt: `2027-02-09T${String(8 + (i % 12)).padStart(2, '0')}:00:00Z`,
        },
      ]);
    }
    return store;
  }

  it('fits 500 active clients into one email with flags first and every check-in in the CSV', async () => {
    const store = await busyDay(500, 400);
    const data = await buildSummary({ store, therapist: amy, period, clinic });

    const email = composeSummary(data, brand);
    const csvRows = String(email.attachments[0]?.content).trim().split('\r\n').length - 1;
    const html = email.html;

    expect(email.estimatedBytes).toBeLessThan(1_000_000);
    expect(csvRows).toBe(500);
    expect(html.indexOf('Red flags')).toBeLessThan(html.indexOf('Other check-ins'));
    expect(data.counts).toMatchObject({ checkIns: 500, flagged: 50 });
  });

  it('drops the least urgent rows, says so, and keeps the CSV whole when the email would be too big', async () => {
    const store = await busyDay(60, 400);
    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const full = composeSummary(data, brand);

    const email = composeSummary(data, brand, { maxBytes: Math.floor(full.estimatedBytes * 0.75) });

    expect(email.truncated).toBeDefined();
    expect(email.truncated!.shownRows).toBeLessThan(email.truncated!.totalRows);
    expect(email.estimatedBytes).toBeLessThanOrEqual(Math.floor(full.estimatedBytes * 0.75));
    expect(email.text).toMatch(
      /This email leaves out \d+ check-ins to stay within email size limits\. The attached check-ins\.csv has every check-in of the period\./,
    );
    // All six flagged rows survive; the cut falls on the unflagged ones.
    expect(email.text.match(/Pain is 8\/10/g)).toHaveLength(6);
    expect(email.attachments[0]?.content).toBe(full.attachments[0]?.content);
  });

  it('shortens the CSV notes only when even the bare email with the whole CSV is too big', async () => {
    const store = await busyDay(40, 2000);
    const data = await buildSummary({ store, therapist: amy, period, clinic });
    const bare = composeSummary(data, brand, { maxBytes: 120_000 });

    expect(bare.estimatedBytes).toBeLessThanOrEqual(120_000);
    expect(bare.truncated?.notesShortenedTo).toBeGreaterThan(0);
    expect(bare.truncated!.notesShortenedTo!).toBeLessThan(2000);
    expect(bare.text).toContain(`notes cut to ${bare.truncated!.notesShortenedTo} characters to fit`);
    expect(String(bare.attachments[0]?.content).trim().split('\r\n')).toHaveLength(41);
  });

  it('estimates encoded sizes on the safe side of base64 and quoted-printable', () => {
    const ascii = 'a'.repeat(7600);
    const arrows = '▼'.repeat(1000);

    expect(encodedSize(ascii)).toBeGreaterThanOrEqual(Math.ceil(7600 / 3) * 4);
    // Each ▼ is 3 UTF-8 bytes, 9 characters quoted-printable.
    expect(encodedSize(arrows)).toBeGreaterThanOrEqual(9000);
  });
});
