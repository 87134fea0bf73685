/**
 * The intake questionnaire on the twin (DynamoDB Local and its stream, the local Scheduler, SES v2
 * local, the pages over HTTP): a plan created with its first session ahead gets the questionnaire
 * at once; the client answers it through the page (once: a second POST is "Already answered");
 * the answers are the plan's baseline; the check-in after the first session is compared with
 * them, a flare-up alerts the therapist, and the next summary shows the change against baseline.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTwin, type Twin } from '../../local/twin.js';
import { clientSchema, planSchema, therapistSchema } from '../../shared/domain/model.js';
import { bookSession } from '../../shared/use-cases/manage-plans.js';
import { sesEmails, type StoredEmail } from '../support/local-aws.js';

const run = randomUUID().slice(0, 8);
const amyEmail = `amy-${run}@harbour.example`;
const samEmail = `sam-${run}@client.example`;
const BASE_URL = 'http://localhost:3000';
// Monday 1 March 2027, 09:00 London (GMT): the plan starts; its first session is on Wednesday.
const T0 = '2027-03-01T09:00:00.000Z';
const FIRST_SESSION = '2027-03-03T10:00:00.000Z';
// The check-in goes 24 hours after the session ends; the summary at Amy's 07:00 the day after.
const CHECK_IN_DUE = '2027-03-04T11:00:00.000Z';
const SUMMARY_AT = '2027-03-05T07:00:00.000Z';

let twin: Twin;

const tokenOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const get = (path: string) => fetch(`${twin.webUrl}${path}`);
const post = (path: string, fields: Record<string, string>) =>
  fetch(`${twin.webUrl}${path}`, { method: 'POST', body: new URLSearchParams({ token: tokenOf(path), ...fields }) });
const h1 = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

/** The page link in an email, as a path on the twin's pages (the email names the clinic's base URL). */
function linkIn(email: StoredEmail | undefined, page: string): string {
  const match = new RegExp(`href="${BASE_URL}(/${page}/[A-Za-z0-9_.-]+)"`).exec(email?.body.html ?? '');
  if (!match?.[1]) throw new Error(`no /${page}/ link in "${email?.subject}"`);
  return match[1];
}

const emailsTo = async (address: string, subject: string) => (await sesEmails(address)).filter((e) => e.subject.startsWith(subject));

beforeAll(async () => {
  twin = await startTwin({
    clinic: { name: 'Harbour Clinic', senderEmail: 'care@harbour.example', timezone: 'Europe/London', baseUrl: BASE_URL },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
  });
  await twin.store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: amyEmail, timezone: 'Europe/London' }));
  await twin.store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam Rivera', email: samEmail, timezone: 'Europe/London' }));
  await twin.store.putPlan(
    planSchema.parse({
      id: 'p-sam',
      clientId: 'c-sam',
      therapistId: 't-amy',
      goal: 'back-pain',
      phases: [
        { name: 'initial', sessions: 6, everyDays: 7 },
        { name: 'maintenance', everyDays: 28 },
      ],
    }),
  );
  await bookSession(twin.store, { id: 's-sam-1', planId: 'p-sam', start: FIRST_SESSION, durationMinutes: 60, location: 'Room 1' });
  await twin.settle();
  await twin.advanceTo(new Date(Date.parse(T0) + 60_000));
}, 120_000);

afterAll(async () => {
  await twin?.close();
});

describe('the intake questionnaire on the twin', () => {
  it('emails the client once when the plan starts, before the first session, with a single link that names nothing', async () => {
    const emails = await emailsTo(samEmail, 'Before your first session');

    expect(emails.map((e) => e.subject)).toEqual(['Before your first session with Amy Chen']);
    expect(emails[0]?.body.text).toContain('Hello Sam,');
    expect(linkIn(emails[0], 'intake-form')).toMatch(/^\/intake-form\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await twin.store.get('iq.p-sam.intake.v1')).toMatchObject({ status: 'sent', kind: 'intake-questionnaire', planId: 'p-sam' });
  });

  it('takes the answers once through the page, as the plan\'s baseline: a second POST is "Already answered"', async () => {
    const path = linkIn((await emailsTo(samEmail, 'Before your first session'))[0], 'intake-form');

    const form = await get(path);
    const answered = await post(path, { pain: '4', mobility: '6', stress: '4', sleep: '6', reason: 'Lower back, since a house move.' });
    const again = await post(path, {});

    expect([form.status, answered.status, again.status]).toEqual([200, 200, 409]);
    expect(h1(await form.text())).toBe('Before your first session');
    expect(h1(await answered.text())).toBe('Thank you');
    expect(h1(await again.text())).toBe('Already answered');
    expect((await twin.store.findPlan('p-sam'))?.baseline).toEqual({
      pain: 4,
      mobility: 6,
      stress: 4,
      sleep: 6,
      reason: 'Lower back, since a house move.',
      at: twin.clock.now().toISOString(),
    });
  });

  it('compares the check-in after the first session with it: a flare-up alerts the therapist, and the summary shows the change', async () => {
    await twin.advanceTo(new Date(Date.parse(CHECK_IN_DUE) + 60_000));
    const checkIn = (await emailsTo(samEmail, 'How are you feeling'))[0];
    const answered = await post(linkIn(checkIn, 'check-in'), { pain: '7', mobility: '6', stress: '4', sleep: '6', notes: '' });

    expect(answered.status).toBe(200);
    expect(await twin.store.getClientBundle('c-sam')).toMatchObject({
      checkIns: [{ sessionId: 's-sam-1', baseline: false, baselineScores: { pain: 4, mobility: 6, stress: 4, sleep: 6 } }],
    });
    const alerts = (await sesEmails(amyEmail)).filter((e) => (e.body.text ?? '').includes('against baseline'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.body.text).toContain('Pain is up 3 against baseline (4 → 7)');

    await twin.advanceTo(SUMMARY_AT);
    await twin.invoke('summary', {});
    const summary = (await sesEmails(amyEmail)).find((e) => /summary/i.test(e.subject));
    expect(summary?.body.text).toContain('Sam Rivera: Pain is up 3 against baseline (4 → 7)');
    expect(summary?.body.text).toMatch(/Pain: +7 \(▲3 vs baseline\)/);
    // The chart and the trend start from the intake's answers.
    expect(summary?.body.text).toContain('pain ▄▆ 4→7 (worse)');
    expect(summary?.body.text).not.toContain('no baseline yet');
    // The free text of the intake never reaches an id, a tag or a schedule.
    expect(JSON.stringify(twin.scheduler.list())).not.toContain('house move');
  });
});
