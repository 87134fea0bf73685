/**
 * "Adjust plan" from the therapist's summary, on the twin (DynamoDB Local and its stream, SES v2
 * local, the local Scheduler, the pages over HTTP): the summary carries one link per plan, a GET
 * shows the plan, a POST without confirmation shows the confirmation step, the confirmed POST
 * changes the plan once and the schedules follow through the stream; a second use, an expired
 * link and another therapist's link are refused; the change is in the next summary, in
 * `keepwell plan history` and, for a pause, in `keepwell outbox`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../local/cli/program.js';
import { twinStateOf, writeTwinState } from '../../local/cli/state.js';
import { startTwin, type Twin } from '../../local/twin.js';
import { checkInAnswersSchema, clientSchema, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import { pagePaths, TokenSigner } from '../../shared/security/tokens.js';
import { sesEmails, type StoredEmail } from '../support/local-aws.js';
import { instant } from '../support/instant.js';

const run = randomUUID().slice(0, 8);
const amyEmail = `amy-${run}@harbour.example`;
const BASE_URL = 'http://localhost:3000';
// The twin signs with TOKEN_KEY when it is set: the test knows the key, to forge what an attacker would try.
const TOKEN_KEY = randomBytes(32).toString('hex');
const T0 = '2027-03-10T06:30:00.000Z';
/** Amy's daily summaries at 07:00 London (GMT until 28 March). */
const FIRST_SUMMARY = '2027-03-10T07:00:00.000Z';
const CHANGED_AT = '2027-03-10T08:00:00.000Z';
const NEXT_SUMMARY = '2027-03-11T07:00:00.000Z';
const stateDir = mkdtempSync(join(tmpdir(), 'kw-adjust-'));

let twin: Twin;
let firstSummary: StoredEmail;

const answers = (pain: number) => checkInAnswersSchema.parse({ pain, mobility: 6, stress: 4, sleep: 6 });

async function seedClient(
  id: string,
  name: string,
  therapistId: string,
  phases: unknown[],
  sessions: Array<{ start: string; status: 'completed' | 'booked'; answeredAt?: string }>,
): Promise<void> {
  await twin.store.putClient(clientSchema.parse({ id, name, email: `${id}-${run}@client.example`, timezone: 'Europe/London' }));
  await twin.store.putPlan(planSchema.parse({ id: `p-${id}`, clientId: id, therapistId, goal: 'back-pain', phases }));
  for (const [i, s] of sessions.entries()) {
    const sessionId = `s-${id}-${i + 1}`;
    await twin.store.saveSession(
      sessionSchema.parse({ id: sessionId, planId: `p-${id}`, start: s.start, durationMinutes: 60, location: 'Room 1', status: s.status }),
    );
    if (s.answeredAt) await twin.store.recordCheckIn({ clientId: id, sessionId, answers: answers(5), at: instant(s.answeredAt) });
  }
}

/** The summary's "Adjust plan" link for a plan, as a path on the twin's pages (the email names the clinic's base URL). */
function adjustPath(email: StoredEmail, clientName: string): string {
  const html = email.body.html ?? '';
  // The link sits in the same table row as the client's name.
  const row = html.split('<tr').find((r) => r.includes(clientName) && r.includes('/adjust/'));
  const match = /href="http:\/\/localhost:3000(\/adjust\/[A-Za-z0-9_.-]+)"/.exec(row ?? '');
  if (!match?.[1]) throw new Error(`no Adjust plan link for ${clientName}`);
  return match[1];
}

const tokenOf = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const get = (path: string) => fetch(`${twin.webUrl}${path}`);
const post = (path: string, fields: Record<string, string>) =>
  fetch(`${twin.webUrl}${path}`, { method: 'POST', body: new URLSearchParams({ token: tokenOf(path), ...fields }) });
const h1 = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

async function keepwell(...args: string[]): Promise<string> {
  writeTwinState(twinStateOf(twin, { mode: 'fixed', at: twin.clock.now().toISOString() }, T0), stateDir);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env: { ...process.env, KEEPWELL_STATE_DIR: stateDir } });
  if (code !== 0) throw new Error(err.join('\n'));
  return out.join('\n');
}

beforeAll(async () => {
  process.env.TOKEN_KEY = TOKEN_KEY;
  twin = await startTwin({
    clinic: { name: 'Harbour Clinic', senderEmail: 'care@harbour.example', timezone: 'Europe/London', baseUrl: BASE_URL },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
  });
  await twin.store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy Chen', email: amyEmail, timezone: 'Europe/London' }));
  await twin.store.putTherapist(therapistSchema.parse({ id: 't-bo', name: 'Bo Lind', email: `bo-${run}@harbour.example`, timezone: 'Europe/London' }));
  // Sam is on maintenance every 28 days, nothing booked: next due 28 days after 8 March.
  await seedClient(
    'c-sam',
    'Sam Rivera',
    't-amy',
    [{ name: 'maintenance', everyDays: 28 }],
    [{ start: '2027-03-08T10:00:00Z', status: 'completed', answeredAt: '2027-03-09T12:00:00Z' }],
  );
  // Kim has a session booked for 15 March, with its reminders and check-in scheduled.
  await seedClient(
    'c-kim',
    'Kim Ng',
    't-amy',
    [
      { name: 'initial', sessions: 6, everyDays: 7 },
      { name: 'maintenance', everyDays: 28 },
    ],
    [
      { start: '2027-03-08T14:00:00Z', status: 'completed', answeredAt: '2027-03-09T15:00:00Z' },
      { start: '2027-03-15T10:00:00Z', status: 'booked' },
    ],
  );
  await seedClient(
    'c-lee',
    'Lee Park',
    't-amy',
    [{ name: 'maintenance', everyDays: 28 }],
    [{ start: '2027-03-08T16:00:00Z', status: 'completed', answeredAt: '2027-03-09T17:00:00Z' }],
  );
  await seedClient('c-zed', 'Zed Quinn', 't-bo', [{ name: 'maintenance', everyDays: 28 }], [{ start: '2027-03-08T10:00:00Z', status: 'completed' }]);
  await twin.advanceTo(FIRST_SUMMARY);
  await twin.invoke('summary', {});
  const emails = await sesEmails(amyEmail);
  expect(emails).toHaveLength(1);
  firstSummary = emails[0]!;
}, 120_000);

afterAll(async () => {
  await twin?.close();
});

describe('adjusting a plan from the summary email', () => {
  it('gives each client row of the summary an Adjust plan link that names nothing in its URL', () => {
    const paths = ['Sam Rivera', 'Kim Ng', 'Lee Park'].map((name) => adjustPath(firstSummary, name));

    expect(new Set(paths).size).toBe(3);
    for (const path of paths) {
      // A token is `<key id>.<sealed claims>.<signature>`, none of which names anyone.
      expect(path).toMatch(/^\/adjust\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      // Ids and names as they would appear in plain text; a short word matched without case would
      // also match the token's random letters now and then (one run in forty).
      expect(path).not.toMatch(/c-sam|c-kim|c-lee|p-c-|t-amy|Rivera|Park|pain|%20/);
      // Nor in the bytes of any part of the token.
      for (const part of path.slice('/adjust/'.length).split('.')) {
        expect(Buffer.from(part, 'base64url').toString('latin1')).not.toMatch(/c-sam|c-kim|c-lee|p-c-|t-amy|Rivera|Park|pain/i);
      }
    }
    expect(firstSummary.body.text).toContain(`Adjust plan: ${BASE_URL}/adjust/`);
  });

  it('shows the plan on GET and the confirmation step on a POST without confirmation, changing nothing', async () => {
    const path = adjustPath(firstSummary, 'Sam Rivera');

    const shown = await (await get(path)).text();
    const review = await post(path, { action: 'interval', days: '21', note: 'Flare-ups in week 3' });
    const reviewPage = await review.text();

    expect(h1(shown)).toBe('Adjust Sam Rivera&#39;s plan');
    expect(shown).toContain('<dd>every 28 days</dd>');
    expect(review.status).toBe(200);
    expect(h1(reviewPage)).toBe('Confirm the change');
    expect(reviewPage).toContain('maintenance interval 28 → 21 days');
    expect((await twin.store.findPlan('p-c-sam'))?.phases[0]?.everyDays).toBe(28);
    expect(await twin.store.planHistory('c-sam', 'p-c-sam')).toEqual([]);
  });

  it('refuses a bad interval on the form itself, with the field and reason', async () => {
    const response = await post(adjustPath(firstSummary, 'Sam Rivera'), { action: 'interval', days: 'soon', confirm: 'yes' });
    const page = await response.text();

    expect(response.status).toBe(400);
    expect(page).toContain('<p class="error" id="days-error">Enter the new interval as a whole number of days</p>');
    expect(await twin.store.planHistory('c-sam', 'p-c-sam')).toEqual([]);
  });

  it('acts once on confirmation: the plan, its history and its maintenance schedule follow', async () => {
    const path = adjustPath(firstSummary, 'Sam Rivera');
    const dueBefore = (await twin.store.findPlan('p-c-sam'))?.maintenanceActionAt;
    await twin.advanceTo(CHANGED_AT);

    const done = await post(path, { action: 'interval', days: '21', note: 'Flare-ups in week 3', confirm: 'yes' });
    const donePage = await done.text();
    await twin.settle();

    expect(done.status).toBe(200);
    expect(h1(donePage)).toBe('Plan updated');
    expect((await twin.store.findPlan('p-c-sam'))?.phases[0]?.everyDays).toBe(21);
    expect(await twin.store.planHistory('c-sam', 'p-c-sam')).toEqual([
      expect.objectContaining({
        action: 'interval',
        before: { status: 'active', maintenanceEveryDays: 28 },
        after: { status: 'active', maintenanceEveryDays: 21 },
        by: 't-amy',
        via: 'email-link',
        note: 'Flare-ups in week 3',
        at: CHANGED_AT,
      }),
    ]);
    // 8 March + 28 days = 5 April, + 21 days = 29 March, at 10:00 London (BST, 09:00Z).
    expect(dueBefore).toBe('2027-04-05T09:00:00.000Z');
    expect((await twin.store.findPlan('p-c-sam'))?.maintenanceActionAt).toBe('2027-03-29T09:00:00.000Z');
  });

  it('refuses the link a second time with a page that only says it was used', async () => {
    const path = adjustPath(firstSummary, 'Sam Rivera');

    const again = await post(path, { action: 'interval', days: '14', confirm: 'yes' });
    const againPage = await again.text();
    const opened = await (await get(path)).text();

    expect(again.status).toBe(409);
    expect(h1(againPage)).toBe('This link has been used');
    expect(h1(opened)).toBe('This link has been used');
    expect(`${againPage}${opened}`).not.toMatch(/Sam|Rivera|Back pain|every 2\d days/);
    expect((await twin.store.findPlan('p-c-sam'))?.phases[0]?.everyDays).toBe(21);
    expect(await twin.store.planHistory('c-sam', 'p-c-sam')).toHaveLength(1);
  });

  it("pauses Kim's plan: the booked session's reminders and check-in leave the Scheduler, recorded as skipped", async () => {
    const kim = (): string[] =>
      twin.scheduler
        .list()
        .map((s) => s.name)
        .filter((n) => n.includes('s-c-kim-2'))
        .sort();
    const before = kim();

    const done = await post(adjustPath(firstSummary, 'Kim Ng'), { action: 'pause', note: 'Travelling for a month', confirm: 'yes' });
    await twin.settle();

    expect(done.status).toBe(200);
    expect(before).toEqual(['ci.s-c-kim-2.after.v1', 'rm.s-c-kim-2.P2D.v1', 'rm.s-c-kim-2.PT2H.v1']);
    expect(kim()).toEqual([]);
    expect((await twin.store.findPlan('p-c-kim'))?.status).toBe('paused');
    const outbox = await keepwell('outbox', '--since', '1h', '--status', 'skipped');
    for (const name of before)
      expect(outbox).toMatch(new RegExp(`skipped\\s+\\S+\\s+${name.replaceAll('.', '\\.')}\\s+client c-kim, session s-c-kim-2  — plan paused`));
  });

  it("refuses another therapist's link and a link to another therapist's plan, as the same expired page", async () => {
    const signer = new TokenSigner(TOKEN_KEY);
    const now = twin.clock.now();
    const bosLinkToAmysPlan = pagePaths.adjustPlan(signer.issue({ purpose: 'adjust-plan', clientId: 't-bo', subject: 'p-c-lee', now }));
    const amysLinkToBosPlan = pagePaths.adjustPlan(signer.issue({ purpose: 'adjust-plan', clientId: 't-amy', subject: 'p-c-zed', now }));

    for (const path of [bosLinkToAmysPlan, amysLinkToBosPlan]) {
      const shown = await get(path);
      const acted = await post(path, { action: 'pause', confirm: 'yes' });
      expect([shown.status, acted.status]).toEqual([404, 404]);
      expect(h1(await acted.text())).toBe('This link has expired');
    }
    expect((await twin.store.findPlan('p-c-lee'))?.status).toBe('active');
    expect((await twin.store.findPlan('p-c-zed'))?.status).toBe('active');
  });

  it('changes the plan once when the same confirmation is sent twice at once', async () => {
    // Another link to Lee's plan, as the summary would carry it.
    const path = pagePaths.adjustPlan(
      new TokenSigner(TOKEN_KEY).issue({ purpose: 'adjust-plan', clientId: 't-amy', subject: 'p-c-lee', now: twin.clock.now() }),
    );

    const responses = await Promise.all([0, 1].map(() => post(path, { action: 'interval', days: '35', confirm: 'yes' })));
    await twin.settle();

    expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await twin.store.planHistory('c-lee', 'p-c-lee')).map((c) => c.after.maintenanceEveryDays)).toEqual([35]);
    expect((await twin.store.findPlan('p-c-lee'))?.phases[0]?.everyDays).toBe(35);
  });

  it('shows the changes in the next summary, and in keepwell plan history', async () => {
    await twin.advanceTo(NEXT_SUMMARY);
    await twin.invoke('summary', {});
    const next = (await sesEmails(amyEmail)).find((e) => e.messageId !== firstSummary.messageId);
    const history = await keepwell('plan', 'history', 'p-c-sam');

    expect(next?.body.text).toContain('Plan changes');
    expect(next?.body.text).toContain(
      '- Sam Rivera · Back pain: maintenance interval 28 → 21 days — by you, from a summary link, Wed 10 Mar 08:00 — “Flare-ups in week 3”',
    );
    expect(next?.body.text).toContain('- Kim Ng · Back pain: paused — by you, from a summary link, Wed 10 Mar 08:00 — “Travelling for a month”');
    expect(history.split('\n')).toEqual([
      `history of plan p-c-sam (status active, local twin (table ${twin.tableName})): 1 change`,
      '2027-03-10 08:00Z  maintenance interval 28 → 21 days  — therapist t-amy, from the summary email  — “Flare-ups in week 3”',
    ]);
  });

  it('refuses a link once its 48 hours are over', async () => {
    const path = adjustPath(firstSummary, 'Lee Park');
    const working = (await get(path)).status;
    await twin.advanceTo('2027-03-12T07:00:00.000Z');

    const expired = await post(path, { action: 'pause', confirm: 'yes' });

    expect(working).toBe(200);
    expect(expired.status).toBe(404);
    expect(h1(await expired.text())).toBe('This link has expired');
    expect((await twin.store.findPlan('p-c-lee'))?.status).toBe('active');
  });
});
