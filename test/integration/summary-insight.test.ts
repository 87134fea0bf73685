/**
 * The summary's trend charts and plan-adjustment suggestions on DynamoDB Local and SES v2 local:
 * three clients of one therapist over a course of care and into maintenance — one worsening, one
 * improving, one who stopped answering — the sweep run at her summary hour, the email read back
 * from SES local, and each inline PNG decoded.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/summary/handler.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { checkInAnswersSchema, clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import { createTestTable, sesClient, sesEmails, type StoredEmail, type TestTable } from '../support/local-aws.js';
import { decodePng } from '../support/png.js';

const run = randomUUID().slice(0, 8);
const amyEmail = `amy-insight-${run}@harbour.example`;
const clinic = clinicSchema.parse({
  name: 'Harbour Clinic',
  senderEmail: 'care@harbour.example',
  timezone: 'Europe/London',
  baseUrl: 'https://harbour.example',
});
// Daily at 07:00 London; on Wed 14 Apr 2027 (BST) the period is Tue 13 Apr 06:00Z – Wed 14 Apr 06:00Z.
const SUMMARY_AT = '2027-04-14T06:00:00.000Z';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

type Scores = [pain: number, mobility: number, stress: number, sleep: number];

/** Two weekly initial sessions, then maintenance every 14 days: session i starts on `starts[i]`. */
/** Each client answered the intake questionnaire (the baseline) the day before the first session, as at the first check-in. */
async function seedClient(t: TestTable, id: string, name: string, starts: readonly string[], answers: ReadonlyArray<Scores | undefined>): Promise<void> {
  await t.store.putClient(clientSchema.parse({ id, name, email: `${id}-${run}@example.com`, timezone: 'Europe/London' }));
  await t.store.putPlan(
    planSchema.parse({
      id: `p-${id}`,
      clientId: id,
      therapistId: 't-amy',
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 2, everyDays: 7 },
        { name: 'maintenance', everyDays: 14 },
      ],
    }),
  );
  const [pain, mobility, stress, sleep] = answers[0]!;
  const intakeAt = new Date(Date.parse(starts[0]!) - 86_400_000).toISOString();
  await t.store.recordBaseline({ clientId: id, planId: `p-${id}`, answers: { pain, mobility, stress, sleep, reason: '' }, at: intakeAt });
  for (const [i, start] of starts.entries()) {
    const sessionId = `s-${id}-${i + 1}`;
    await t.store.saveSession(sessionSchema.parse({ id: sessionId, planId: `p-${id}`, start, durationMinutes: 60, location: 'Room 1', status: 'completed' }));
    const scores = answers[i];
    if (scores) {
      const [pain, mobility, stress, sleep] = scores;
      // Answered the evening after the session.
      const at = new Date(Date.parse(start) + 8 * 3_600_000).toISOString();
      await t.store.recordCheckIn({ clientId: id, sessionId, answers: checkInAnswersSchema.parse({ pain, mobility, stress, sleep, notes: '' }), at });
    }
  }
}

const STARTS = ['2027-02-23T10:00:00Z', '2027-03-02T10:00:00Z', '2027-03-16T10:00:00Z', '2027-03-30T10:00:00Z', '2027-04-13T10:00:00Z'];

describe('the summary’s trend charts and suggestions', () => {
  let t: TestTable;
  let email: StoredEmail;
  let text: string;

  beforeAll(async () => {
    t = await createTestTable();
    await t.store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: amyEmail, timezone: 'Europe/London' }));
    // Ann's pain climbs on each of her last two maintenance check-ins.
    await seedClient(t, 'c-ann', 'Ann Lee', STARTS, [
      [6, 5, 5, 5],
      [4, 6, 4, 6],
      [3, 6, 4, 6],
      [4, 6, 4, 6],
      [6, 5, 5, 5],
    ]);
    // Ben has improved steadily and holds it through maintenance.
    await seedClient(t, 'c-ben', 'Ben Ortiz', STARTS, [
      [7, 4, 6, 5],
      [5, 5, 5, 6],
      [4, 6, 4, 6],
      [3, 7, 3, 7],
      [3, 7, 3, 7],
    ]);
    // Cara answered her first two check-ins, then none of the last three.
    await seedClient(
      t,
      'c-cara',
      'Cara Diaz',
      STARTS.slice(0, 4)
        .map((s) => s.replace('10:00', '09:00'))
        .concat('2027-04-12T09:00:00Z'),
      [
        [5, 5, 5, 5],
        [5, 6, 5, 5],
      ],
    );

    const handler = createHandler({
      store: t.store,
      ledger: t.store,
      mailer: new SesMailer({ client: sesClient() }),
      clinic,
      clock: { now: () => new Date(SUMMARY_AT) },
      logger: silent,
    });
    await handler({});
    const emails = await sesEmails(amyEmail);
    expect(emails).toHaveLength(1);
    email = emails[0]!;
    text = email.body.text ?? '';
  });

  it('suggests a shorter interval for Ann and a longer one for Ben, saying which answers, for the therapist’s judgement', () => {
    const section = text.slice(text.indexOf('Suggestions for your judgement\n'));

    expect(section).toContain('- Ann Lee: Consider a shorter maintenance interval — pain 3 → 4 → 6: worse on each of the last 2 maintenance check-ins');
    expect(section).toContain(
      '- Ben Ortiz: Could lengthen the maintenance interval — no score worse across the last 3 maintenance check-ins; better than baseline: pain 7 → 3, mobility 4 → 7, stress 6 → 3, sleep 5 → 7',
    );
  });

  it('suggests a phone call for Cara after three unanswered check-ins', () => {
    expect(text).toContain('- Cara Diaz: Check in by phone — the last 3 check-ins went unanswered');
  });

  it('attaches one inline PNG per charted client, each decodable and 640 × 240 pixels', () => {
    const inline = email.attachments.filter((a) => a.contentType === 'image/png');
    const html = email.body.html ?? '';

    // Ann and Ben have five check-ins each, Cara two.
    expect(inline).toHaveLength(3);
    for (const attachment of inline as Array<(typeof inline)[number] & { contentDisposition?: string; contentId?: string }>) {
      expect(attachment.contentDisposition).toBe('INLINE');
      expect(attachment.contentId).toMatch(/^trend-\d+@keepwell$/);
      expect(html).toContain(`src="cid:${attachment.contentId}"`);
      const png = decodePng(Buffer.from(attachment.content, 'base64'));
      expect(png).toEqual({ width: 640, height: 240, pixelBytes: 240 * (1 + 640 * 4) });
    }
  });

  it('says each trend in words, in the alt text and beside the chart, attention first', () => {
    const html = email.body.html ?? '';
    const trends = text.slice(text.indexOf('Trends since baseline\n'));

    expect(html).toContain(
      // The chart starts from the intake questionnaire's answers, drawn before the five check-ins.
      'alt="Pain 6 → 6 since baseline, no change; mobility 5 → 5 since baseline, no change; stress 5 → 5 since baseline, no change; sleep 5 → 5 since baseline, no change. The intake questionnaire and 5 check-ins shown, 1 change of phase."',
    );
    expect(trends).toContain(
      'Ben Ortiz · Back pain: pain 7 → 3 since baseline, better; mobility 4 → 7 since baseline, better; stress 6 → 3 since baseline, better; sleep 5 → 7 since baseline, better',
    );
    // Ann (a shorter interval) and Cara (a call) need a look before Ben, who is doing well.
    expect(trends.indexOf('Ann Lee')).toBeLessThan(trends.indexOf('Ben Ortiz'));
    expect(trends.indexOf('Cara Diaz')).toBeLessThan(trends.indexOf('Ben Ortiz'));
  });

  it('names no one in the inline images’ file names or content ids', () => {
    const inline = email.attachments.filter((a) => a.contentType === 'image/png') as Array<{ filename?: string; contentId?: string }>;

    for (const a of inline) expect(`${a.filename} ${a.contentId}`).not.toMatch(/ann|ben|cara|c-|p-/i);
  });
});
