/**
 * The clinic's monthly report on DynamoDB Local and SES v2 local: a month of a small clinic is
 * written through the store and the ledger (check-in emails sent, answers recorded through the
 * real use case, so a red flag's alert goes out through SES local), the summary sweep runs at the
 * report's hour on the 1st, and the email to the owner is read back from SES local — figures,
 * CSV, one decodable chart per goal, no client named — and sent once however often the sweep runs.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/summary/handler.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { checkInAnswersSchema, clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema, type Plan } from '../../shared/domain/model.js';
import { messageName } from '../../shared/domain/message.js';
import { recordCheckIn } from '../../shared/use-cases/record-check-in.js';
import { createTestTable, sesClient, sesEmails, type StoredEmail, type TestTable } from '../support/local-aws.js';
import { decodePng } from '../support/png.js';

const run = randomUUID().slice(0, 8);
const owner = `owner-${run}@harbour.example`;
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
  monthlyReport: { to: owner, hour: 8 },
});
// March 2027 in London; its report is due on Thu 1 April at 08:00 BST (07:00Z).
const REPORT_AT = '2027-04-01T07:00:00.000Z';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const CLIENT_NAMES = ['Ann Lee', 'Ben Ortiz', 'Cara Diaz', 'Dev Shah'];

describe('the monthly clinic report', () => {
  let t: TestTable;
  let clock = new Date('2027-02-01T00:00:00Z');
  let report: StoredEmail;
  const mailer = new SesMailer({ client: sesClient() });
  const at = (iso: string) => {
    clock = new Date(iso);
    return iso;
  };

  async function plan(clientIndex: number, goal: string, phases: Plan['phases'], status: Plan['status'] = 'active'): Promise<string> {
    const id = `c-${run}-${clientIndex}`;
    await t.store.putClient(clientSchema.parse({ id, name: CLIENT_NAMES[clientIndex], email: `${id}@example.com`, timezone: 'Europe/London' }));
    await t.store.putPlan(planSchema.parse({ id: `p-${id}`, clientId: id, therapistId: `t-${run}`, goal, phases, status }));
    return id;
  }

  async function session(
    clientId: string,
    n: number,
    start: string,
    status: 'completed' | 'no-show' | 'cancelled' | 'booked',
    checkIn?: { sent?: boolean; answers?: [number, number, number, number] },
  ): Promise<void> {
    const sessionId = `s-${clientId}-${n}`;
    await t.store.saveSession(sessionSchema.parse({ id: sessionId, planId: `p-${clientId}`, start, durationMinutes: 60, location: 'Room 1', status }));
    const dayAfter = new Date(Date.parse(start) + 24 * 3_600_000).toISOString();
    if (checkIn?.sent) {
      const name = messageName({ kind: 'check-in', subjectId: sessionId, offset: 'after', version: 1 });
      await t.store.claim({ name, kind: 'check-in', clientId, sessionId, therapistId: `t-${run}`, dueAt: dayAfter, now: at(dayAfter) });
      await t.store.markSent(name, `ses-${sessionId}`, dayAfter);
    }
    if (checkIn?.answers) {
      const [pain, mobility, stress, sleep] = checkIn.answers;
      const answeredAt = at(new Date(Date.parse(dayAfter) + 3 * 3_600_000).toISOString());
      await recordCheckIn(
        { store: t.store, ledger: t.store, mailer, clinic },
        { clientId, sessionId, answers: checkInAnswersSchema.parse({ pain, mobility, stress, sleep, notes: 'my back is better' }), now: new Date(answeredAt) },
      );
    }
  }

  const sweep = () => {
    clock = new Date(REPORT_AT);
    return createHandler({ store: t.store, ledger: t.store, mailer, clinic, clock: { now: () => clock }, logger: silent })({});
  };

  beforeAll(async () => {
    t = await createTestTable({ now: () => clock });
    await t.store.putTherapist(therapistSchema.parse({ id: `t-${run}`, name: 'Amy Chen', email: `amy-${run}@harbour.example`, timezone: 'Europe/London' }));
    const twoThenFortnightly = [
      { name: 'initial', sessions: 2, everyDays: 7 },
      { name: 'maintenance', everyDays: 14 },
    ];

    // Ann (back pain): intake (her baseline) and first check-in in February, better in March, one maintenance session attended, one missed.
    const ann = await plan(0, 'back-pain', twoThenFortnightly);
    await t.store.recordBaseline({
      clientId: ann,
      planId: `p-${ann}`,
      answers: { pain: 6, mobility: 4, stress: 6, sleep: 4, reason: '' },
      at: '2027-02-20T10:00:00.000Z',
    });
    await session(ann, 1, '2027-02-22T10:00:00Z', 'completed', { sent: true, answers: [6, 4, 6, 4] });
    await session(ann, 2, '2027-03-01T10:00:00Z', 'completed', { sent: true, answers: [4, 5, 5, 5] });
    await session(ann, 3, '2027-03-15T10:00:00Z', 'completed', { sent: true, answers: [3, 6, 4, 6] });
    await session(ann, 4, '2027-03-29T09:00:00Z', 'no-show');
    // Ben (sports injury): starts in March; his intake is unanswered, so his check-in has no baseline, and its pain 9 raises a red flag; one session cancelled.
    const ben = await plan(1, 'sports-injury', twoThenFortnightly);
    await session(ben, 1, '2027-03-03T10:00:00Z', 'completed', { sent: true });
    await session(ben, 2, '2027-03-10T10:00:00Z', 'completed', { sent: true, answers: [9, 3, 6, 5] });
    await session(ben, 3, '2027-03-17T10:00:00Z', 'cancelled');
    // Cara (general wellness): her course ended in March, her last check-in unanswered.
    const cara = await plan(2, 'general-wellness', [{ name: 'course', sessions: 2, everyDays: 14 }], 'completed');
    await session(cara, 1, '2027-02-19T10:00:00Z', 'completed');
    await session(cara, 2, '2027-03-05T10:00:00Z', 'completed', { sent: true });
    // Dev: lapsed on maintenance in March.
    const dev = await plan(3, 'back-pain', twoThenFortnightly);
    await session(dev, 1, '2027-01-04T10:00:00Z', 'completed');
    await session(dev, 2, '2027-01-11T10:00:00Z', 'completed');
    await t.store.setMaintenanceMark(
      dev,
      `p-${dev}`,
      { state: 'lapsed', dueAt: '2027-01-25T10:00:00.000Z', lapsedAt: '2027-03-08T10:00:00.000Z', markedAt: '2027-03-08T10:00:00.000Z' },
      undefined,
    );

    const result = await sweep();
    expect(result.clinicReport).toMatchObject({ message: 'cr.clinic.2027-03.v1', outcome: 'sent' });
    const emails = await sesEmails(owner);
    expect(emails).toHaveLength(1);
    report = emails[0]!;
  });

  it('is addressed to the owner and says the month, the active plans and the red flags in its subject', () => {
    expect(report.destination.to).toEqual([owner]);
    expect(report.subject).toBe('Clinic report for March 2027: 3 active plans, 1 red flag');
  });

  it('gives the month’s figures as the store and the ledger hold them', () => {
    // The details block aligns its values: label, colon, spaces, value.
    const text = report.body.text ?? '';
    expect(text).toMatch(/Active plans:\s+3\n/);
    expect(text).toMatch(/Plans started:\s+1\n/);
    expect(text).toMatch(/Plans completed:\s+1\n/);
    expect(text).toMatch(/Plans lapsed:\s+1\n/);
    // Check-in emails sent in March: Ann 2 and 3, Ben 1 and 2, Cara 2; answered: Ann 2 and 3, Ben 2.
    expect(text).toMatch(/Check-ins answered:\s+3 of 5 \(60%\)\n/);
    // Maintenance sessions in March: Ann 3 (attended) and Ann 4 (missed); Ben's cancelled one is not planned.
    expect(text).toMatch(/Maintenance attended:\s+1 of 2 \(50%\), 1 missed\n/);
    // Ben's alert went out as his answers were stored.
    expect(text).toMatch(/Red flags:\s+1 raised, 1 alerted; alert sent after 0 minutes \(median\), 0 minutes at most\n/);
  });

  it('averages the change since baseline per goal, over the check-ins that had one', () => {
    const text = report.body.text ?? '';
    // Ann against her February baseline 6/4/6/4: (4,5,5,5) and (3,6,4,6). Ben's check-in has no baseline (no intake answered).
    expect(text).toContain('Back pain (2 check-ins): pain −2.5 (better), mobility +1.5 (better), stress −1.5 (better), sleep +1.5 (better).');
    expect(text).not.toContain('Sports injury');
  });

  it('attaches the same figures as CSV and one decodable chart per goal', () => {
    const csv = report.attachments.find((a) => a.filename === 'clinic-report-2027-03.csv');
    expect(csv).toBeDefined();
    const rows = Buffer.from(csv!.content, 'base64').toString('utf8').trim().split(/\r?\n/);
    expect(rows[0]).toBe('section,measure,value');
    expect(rows).toEqual(
      expect.arrayContaining([
        'plans,active,3',
        'check-ins,sent,5',
        'check-ins,answered,3',
        'check-ins,response rate,0.6',
        'maintenance,attended,1',
        'red flags,raised,1',
        'change since baseline: back-pain,pain,-2.5',
      ]),
    );

    const charts = report.attachments.filter((a) => a.contentType === 'image/png') as Array<StoredEmail['attachments'][number] & { contentId?: string }>;
    expect(charts).toHaveLength(1);
    expect(charts[0]!.contentId).toBe('change-1@keepwell');
    expect(report.body.html).toContain(
      'alt="Back pain, mean change since baseline: pain −2.5 (better), mobility +1.5 (better), stress −1.5 (better), sleep +1.5 (better)."',
    );
    expect(decodePng(Buffer.from(charts[0]!.content, 'base64'))).toEqual({ width: 640, height: 160, pixelBytes: 160 * (1 + 640 * 4) });
  });

  it('names no client and quotes no answer', () => {
    const all = [
      report.subject,
      report.body.text ?? '',
      report.body.html ?? '',
      ...report.attachments.filter((a) => a.contentType.startsWith('text/')).map((a) => Buffer.from(a.content, 'base64').toString('utf8')),
    ].join('\n');
    for (const name of CLIENT_NAMES) {
      expect(all).not.toContain(name);
      expect(all).not.toContain(name.split(' ')[0]);
    }
    expect(all).not.toContain('my back is better');
    expect(all).not.toContain(`c-${run}`);
  });

  it('is sent once, however often the sweep runs', async () => {
    expect((await sweep()).clinicReport).toMatchObject({ message: 'cr.clinic.2027-03.v1', outcome: 'done', nextDueAt: '2027-05-01T07:00:00.000Z' });
    expect(await sesEmails(owner)).toHaveLength(1);
    expect(await t.store.get('cr.clinic.2027-03.v1')).toMatchObject({ kind: 'clinic-report', status: 'sent' });
  });
});
