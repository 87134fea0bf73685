/**
 * The follow-up summary on DynamoDB Local and SES v2 local: a month of one therapist's practice
 * seeded through the store's writers, the sweep run once at her summary hour, and the email read
 * back from SES local. Every number checked below is worked out by hand from the seed.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/summary/handler.js';
import { keys } from '../../shared/adapters/dynamodb/keys.js';
import { SesMailer, type SesSendClient } from '../../shared/adapters/ses/mailer.js';
import { checkInAnswersSchema, clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import type { SweepReport } from '../../shared/use-cases/send-summaries.js';
import { createTestTable, resetMeter, sesClient, sesEmails, type StoredEmail, type TestTable } from '../support/local-aws.js';

const run = randomUUID().slice(0, 8);
const amyEmail = `amy-${run}@harbour.example`;
const boEmail = `bo-${run}@harbour.example`;
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
});
// Amy: daily at 07:00 London. On Wed 10 Mar 2027 (GMT) the period is Tue 9 Mar 07:00Z – Wed 10 Mar 07:00Z.
const SUMMARY_AT = '2027-03-10T07:00:00.000Z';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

type Scores = [pain: number, mobility: number, stress: number, sleep: number];
interface Visit {
  readonly start: string;
  readonly status?: 'booked' | 'completed' | 'cancelled';
  readonly location?: string;
  readonly answered?: { at: string; scores: Scores; notes?: string; wantsToRebook?: boolean };
}

/** `intake`: the intake questionnaire's scores (the plan's baseline), answered the day before the first visit. */
async function seedClient(t: TestTable, therapistId: string, id: string, name: string, visits: readonly Visit[], intake?: Scores): Promise<void> {
  await t.store.putClient(clientSchema.parse({ id, name, email: `${id}-${run}@example.com`, timezone: 'Europe/London' }));
  await t.store.putPlan(
    planSchema.parse({
      id: `p-${id}`,
      clientId: id,
      therapistId,
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    }),
  );
  if (intake) {
    const [pain, mobility, stress, sleep] = intake;
    const at = new Date(Date.parse(visits[0]!.start) - 86_400_000).toISOString();
    await t.store.recordBaseline({ clientId: id, planId: `p-${id}`, answers: { pain, mobility, stress, sleep, reason: '' }, at });
  }
  for (const [i, v] of visits.entries()) {
    const sessionId = `s-${id}-${i + 1}`;
    await t.store.saveSession(
      sessionSchema.parse({
        id: sessionId,
        planId: `p-${id}`,
        start: v.start,
        durationMinutes: 60,
        location: v.location ?? 'Room 1',
        status: v.status ?? 'completed',
      }),
    );
    if (v.answered) {
      const [pain, mobility, stress, sleep] = v.answered.scores;
      const answers = checkInAnswersSchema.parse({
        pain,
        mobility,
        stress,
        sleep,
        notes: v.answered.notes ?? '',
        wantsToRebook: v.answered.wantsToRebook ?? false,
      });
      await t.store.recordCheckIn({ clientId: id, sessionId, answers, at: v.answered.at });
    }
  }
}

const answered = (at: string, scores: Scores, extra: { notes?: string; wantsToRebook?: boolean } = {}) => ({ at, scores, ...extra });

describe('the therapist follow-up summary', () => {
  let t: TestTable;
  let report: SweepReport;
  let email: StoredEmail;
  let csv: string[];
  const sentTags: Array<Array<{ Name?: string; Value?: string }>> = [];

  beforeAll(async () => {
    t = await createTestTable();
    await t.store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: amyEmail, timezone: 'Europe/London' }));
    await t.store.putTherapist(therapistSchema.parse({ id: 't-bo', name: 'Bo Lind', email: boEmail, timezone: 'Europe/London' }));

    // Ann improves week on week; her last check-in comes in during the period. Ann, Ben and Cara
    // answered their intake questionnaires as they felt at their first check-ins.
    await seedClient(
      t,
      't-amy',
      'c-ann',
      'Ann Lee',
      [
        { start: '2027-02-09T10:00:00Z', answered: answered('2027-02-10T12:00:00Z', [8, 3, 7, 4]) },
        { start: '2027-02-16T10:00:00Z', answered: answered('2027-02-17T12:00:00Z', [7, 4, 6, 5]) },
        { start: '2027-02-23T10:00:00Z', answered: answered('2027-02-24T12:00:00Z', [6, 5, 6, 5]) },
        { start: '2027-03-02T10:00:00Z', answered: answered('2027-03-03T12:00:00Z', [5, 6, 5, 6]) },
        { start: '2027-03-09T10:00:00Z', answered: answered('2027-03-09T18:00:00Z', [4, 7, 4, 7]) },
      ],
      [8, 3, 7, 4],
    );
    // Ben gets worse: his late answer for 5 March comes in during the period, with HTML and a formula in the notes.
    await seedClient(
      t,
      't-amy',
      'c-ben',
      'Ben <b>Ortiz</b>',
      [
        { start: '2027-02-12T15:00:00Z', answered: answered('2027-02-13T12:00:00Z', [3, 7, 3, 8]) },
        { start: '2027-02-19T15:00:00Z', answered: answered('2027-02-20T12:00:00Z', [4, 6, 4, 7]) },
        { start: '2027-02-26T15:00:00Z', answered: answered('2027-02-27T12:00:00Z', [4, 6, 5, 7]) },
        {
          start: '2027-03-05T15:00:00Z',
          answered: answered('2027-03-09T08:30:00Z', [7, 4, 6, 2], {
            notes: `=HYPERLINK("http://evil.example","x") <script>alert('x')</script>`,
            wantsToRebook: true,
          }),
        },
        { start: '2027-03-10T16:00:00Z', status: 'booked', location: 'Room 2' },
      ],
      [3, 7, 3, 8],
    );
    // Cara did not answer the check-in for Monday's session, and asked to move next week's.
    await seedClient(
      t,
      't-amy',
      'c-cara',
      'Cara Diaz',
      [
        { start: '2027-02-22T10:00:00Z', answered: answered('2027-02-23T12:00:00Z', [5, 5, 5, 5]) },
        { start: '2027-03-01T10:00:00Z', answered: answered('2027-03-02T12:00:00Z', [5, 6, 5, 5]) },
        { start: '2027-03-08T10:00:00Z' },
        { start: '2027-03-15T10:00:00Z', status: 'booked' },
      ],
      [5, 5, 5, 5],
    );
    await t.store.recordRescheduleRequest({
      sessionId: 's-c-cara-4',
      clientId: 'c-cara',
      planId: 'p-c-cara',
      therapistId: 't-amy',
      message: 'Can we move to the afternoon?',
      at: '2027-03-09T20:00:00.000Z',
    });
    // Dev lapsed on maintenance long ago; Eve fell due a few days ago (marks as reconcile sets them).
    await seedClient(t, 't-amy', 'c-dev', 'Dev Patel', [{ start: '2027-01-04T10:00:00Z' }]);
    await t.store.setMaintenanceMark(
      'c-dev',
      'p-c-dev',
      { state: 'lapsed', dueAt: '2027-02-01T10:00:00.000Z', lapsedAt: '2027-02-15T10:00:00.000Z', markedAt: '2027-02-15T10:00:00.000Z' },
      undefined,
    );
    await seedClient(t, 't-amy', 'c-eve', 'Eve Stone', [{ start: '2027-02-06T10:00:00Z' }, { start: '2027-03-10T12:00:00Z', status: 'cancelled' }]);
    await t.store.setMaintenanceMark(
      'c-eve',
      'p-c-eve',
      { state: 'due', dueAt: '2027-03-06T10:00:00.000Z', lapsedAt: '2027-03-20T10:00:00.000Z', markedAt: '2027-03-06T10:00:00.000Z' },
      '2027-03-20T10:00:00.000Z',
    );
    // Fay's first check-in is in, but not her intake questionnaire (no baseline yet); the session has since been deleted.
    await seedClient(t, 't-amy', 'c-fay', 'Fay Khan', [{ start: '2027-03-08T09:00:00Z', answered: answered('2027-03-09T10:00:00Z', [5, 5, 5, 5]) }]);
    await t.documentClient.send(new DeleteCommand({ TableName: t.tableName, Key: keys.session('c-fay', 's-c-fay-1') }));
    // Bo's client answers in the same period: nothing of it belongs in Amy's summary.
    await seedClient(t, 't-bo', 'c-zed', 'Zed Quinn', [{ start: '2027-03-08T10:00:00Z', answered: answered('2027-03-09T09:00:00Z', [9, 1, 9, 1]) }]);

    resetMeter(t.meter);
    // The real SES client, with each request's tags noted on the way (SES v2 local does not keep them).
    const ses = sesClient();
    const recording: SesSendClient = {
      send: (command) => {
        sentTags.push(command.input.EmailTags ?? []);
        return ses.send(command);
      },
    };
    const handler = createHandler({
      store: t.store,
      ledger: t.store,
      mailer: new SesMailer({ client: recording }),
      clinic,
      clock: { now: () => new Date(SUMMARY_AT) },
      logger: silent,
    });
    report = await handler({});
    const emails = await sesEmails(amyEmail);
    expect(emails).toHaveLength(1);
    email = emails[0]!;
    const attachment = email.attachments.find((a) => a.filename === 'check-ins.csv');
    csv = Buffer.from(attachment?.content ?? '', 'base64')
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .split('\r\n');
  });

  it('sends one summary to each therapist, recorded as sent in the ledger', async () => {
    expect(report.counts).toMatchObject({ sent: 2, failed: 0 });
    expect(await sesEmails(boEmail)).toHaveLength(1);
    expect(await t.store.get('su.t-amy.20270309.v1')).toMatchObject({ status: 'sent', kind: 'summary', sesMessageId: email.messageId });
  });

  it('leads with the counts of the period', () => {
    const text = email.body.text ?? '';

    // Check-ins between 9 Mar 07:00Z and 10 Mar 07:00Z: Ann 18:00, Ben 08:30, Fay 10:00; Ben's is flagged.
    expect(text).toMatch(/Check-ins:\s+3 \(1 with red flags\)/);
    // Cara's 8 Mar session ended 11:00Z; her check-in was due 24 h later, inside the period.
    expect(text).toMatch(/Not answered:\s+1\n/);
    expect(text).toMatch(/Reschedule requests:\s+1\n/);
    expect(text).toMatch(/Would like to book:\s+1\n/);
    expect(text).toMatch(/Maintenance due:\s+1\n/);
    expect(text).toMatch(/Maintenance lapsed:\s+1\n/);
    // Until the next summary (11 Mar 07:00Z) only Ben's 10 Mar 16:00 is booked; Eve's is cancelled.
    expect(text).toMatch(/Coming up:\s+1 session\n/);
    expect(email.subject).toBe('Daily summary · Wed 10 Mar · 3 check-ins, 1 red flag, 1 reschedule request');
  });

  it("puts Ben's red flags first, with his changes against baseline and last", () => {
    const text = email.body.text ?? '';
    const flags = text.slice(text.indexOf('Red flags\n'), text.indexOf('Would like to book\n'));

    expect(flags).toContain(
      '!! Ben <b>Ortiz</b>: Pain is up 4 against baseline (3 → 7); Mobility is down 3 against baseline (7 → 4); Stress is up 3 against baseline (3 → 6); Sleep is 2/10; Sleep is down 6 against baseline (8 → 2)',
    );
    // Baseline 3/7/3/8, last 4/6/5/7, now 7/4/6/2; pain across the plan 3, 4, 4, 7.
    expect(flags).toMatch(/Answered:\s+Tue 9 Mar 08:30 · session Fri 5 Mar 15:00\n/);
    expect(flags).toMatch(/Pain:\s+7 \(▲4 vs baseline, ▲3 vs last\)\n/);
    expect(flags).toMatch(/Mobility:\s+4 \(▼3 vs baseline, ▼2 vs last\)\n/);
    expect(flags).toMatch(/Stress:\s+6 \(▲3 vs baseline, ▲1 vs last\)\n/);
    expect(flags).toMatch(/Sleep:\s+2 \(▼6 vs baseline, ▼5 vs last\)\n/);
    // The trend starts from the intake questionnaire's pain (3), then the four check-ins.
    expect(flags).toMatch(/Trend:\s+pain ▃▃▄▄▆ 3→7 \(worse\)\n/);
    expect(flags).toMatch(/Notes:\s+=HYPERLINK\("http:\/\/evil.example","x"\) <script>alert\('x'\)<\/script>/);
    expect(flags).not.toContain('Ann Lee');
    expect(text.indexOf('Red flags')).toBeLessThan(text.indexOf('Other check-ins'));
  });

  it("shows Ann's improvement and Fay's missing baseline among the other check-ins, one line each", () => {
    const text = email.body.text ?? '';

    // Baseline (the intake) 8/3/7/4, last 5/6/5/6, now 4/7/4/7; pain 8 (intake), 8, 7, 6, 5, 4.
    expect(text).toContain(
      '- Ann Lee · answered Tue 9 Mar 18:00 · session Tue 9 Mar 10:00 | pain 4 (▼4 vs baseline, ▼1 vs last); mobility 7 (▲4 vs baseline, ▲1 vs last); stress 4 (▼3 vs baseline, ▼1 vs last); sleep 7 (▲3 vs baseline, ▲1 vs last) · pain ▇▇▆▅▅▄ 8→4 (better)\n',
    );
    expect(text).toContain(
      '- Fay Khan · answered Tue 9 Mar 10:00 · session no longer on record | no baseline yet: pain 5; mobility 5; stress 5; sleep 5 · pain ▅ 5\n',
    );
  });

  it('lists who did not answer, who asked to move or to book, and who is slipping on maintenance', () => {
    const text = email.body.text ?? '';

    expect(text).toContain('- Cara Diaz | Mon 8 Mar 10:00 | Tue 9 Mar 11:00');
    expect(text).toContain('!! Cara Diaz | Mon 15 Mar 10:00 | Can we move to the afternoon?');
    expect(text).toContain('- Ben <b>Ortiz</b> (said so Tue 9 Mar 08:30)');
    // Due 1 Feb → 10 Mar is 28 + 9 = 37 days; due 6 Mar → 10 Mar is 4 days.
    expect(text).toContain('!! Dev Patel | Back pain | lapsed | Mon 1 Feb (37 days)');
    expect(text).toContain('- Eve Stone | Back pain | due | Sat 6 Mar (4 days)');
    expect(text).toContain('- Wed 10 Mar 16:00 (60 min) | Ben <b>Ortiz</b> | session 5 · initial (of 6) | Room 2');
  });

  it("keeps another therapist's clients out", () => {
    expect(email.body.text).not.toContain('Zed Quinn');
    expect(email.body.html).not.toContain('Zed Quinn');
  });

  it('escapes the HTML in names and answers', () => {
    const html = email.body.html ?? '';

    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>Ortiz</b>');
    expect(html).toContain('Ben &lt;b&gt;Ortiz&lt;/b&gt;');
    expect(html).toContain('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
  });

  it('attaches every check-in of the period as CSV, formulas neutralised', () => {
    expect(csv[0]).toMatch(/^answered_at,client_id,client_name,/);
    expect(csv.slice(1, -1)).toEqual([
      `2027-03-09 08:30,c-ben,Ben <b>Ortiz</b>,p-c-ben,back-pain,s-c-ben-4,2027-03-05 15:00,no,7,4,6,2,4,-3,3,-6,3,-2,1,-5,yes,Pain is up 4 against baseline (3 → 7); Mobility is down 3 against baseline (7 → 4); Stress is up 3 against baseline (3 → 6); Sleep is 2/10; Sleep is down 6 against baseline (8 → 2),"'=HYPERLINK(""http://evil.example"",""x"") <script>alert('x')</script>"`,
      // Fay's check-in is not a baseline, and has none to compare with.
      '2027-03-09 10:00,c-fay,Fay Khan,p-c-fay,back-pain,s-c-fay-1,,no,5,5,5,5,,,,,,,,,no,,',
      '2027-03-09 18:00,c-ann,Ann Lee,p-c-ann,back-pain,s-c-ann-5,2027-03-09 10:00,no,4,7,4,7,-4,4,-3,3,-1,1,-1,1,no,,',
    ]);
    expect(csv.at(-1)).toBe('');
  });

  it('tags the emails with opaque ids only, and names no client in the subject', () => {
    expect(sentTags.map((tags) => tags.find((tag) => tag.Name === 'message')?.Value).sort()).toEqual(['su.t-amy.20270309.v1', 'su.t-bo.20270309.v1']);
    expect(
      sentTags
        .flat()
        .map((tag) => tag.Name)
        .sort(),
    ).toEqual(['kind', 'kind', 'message', 'message']);
    expect(email.subject).not.toMatch(/Ann|Ben|Cara|Dev|Eve|Fay/);
  });

  it('reads with Queries and GetItems only, never a Scan', () => {
    expect(Object.keys(t.meter.byOperation).filter((op) => /Scan/.test(op))).toEqual([]);
  });
});
