/**
 * The client pages over real HTTP (local/http-server.ts → the `web` handler) on DynamoDB Local and
 * SES v2 local: every page and its headers, the bad inputs, double submits, and the RFC 8058
 * one-click unsubscribe — with the stored items and the sent emails read back from the services.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { createHandler, type WebHandler } from '../../functions/web/handler.js';
import { createHandler as createDispatch } from '../../functions/dispatch/handler.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { startWebServer, type WebServer } from '../../local/http-server.js';
import { keys } from '../../shared/adapters/dynamodb/keys.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { TokenSigner, type TokenPurpose } from '../../shared/security/tokens.js';
import { CONTENT_SECURITY_POLICY } from '../../shared/web/http.js';
import { createTestTable, resetMeter, sesClient, sesEmails, type TestTable } from '../support/local-aws.js';
import { linkPath, NOW, seedPractice, testClinic, tokenOf, TEST_TOKEN_KEY, type Practice } from '../e2e/fixtures.js';

describe('the client pages over HTTP', () => {
  let t: TestTable;
  let server: WebServer;
  const signer = new TokenSigner(TEST_TOKEN_KEY);
  /** The pages' clock: NOW, but for a test that needs one answer after another. */
  let webNow = NOW;

  beforeAll(async () => {
    t = await createTestTable({ now: () => NOW });
    let handler: WebHandler | undefined;
    server = await startWebServer({ handler: (event) => handler!(event) });
    handler = createHandler({
      store: t.store,
      ledger: t.store,
      tokens: t.store,
      mailer: new SesMailer({ client: sesClient() }),
      clinic: testClinic(server.url),
      signer,
      clock: { now: () => webNow },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  const get = (path: string) => fetch(`${server.url}${path}`, { redirect: 'manual' });
  const post = (path: string, fields: Record<string, string>, withToken = true) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      body: new URLSearchParams({ ...(withToken ? { token: tokenOf(path) } : {}), ...fields }),
      redirect: 'manual',
    });
  const answers = (extra: Record<string, string> = {}) => ({ pain: '3', mobility: '6', stress: '4', sleep: '7', notes: '', ...extra });
  const tableItems = async () => ((await t.documentClient.send(new ScanCommand({ TableName: t.tableName, ConsistentRead: true }))).Items ?? []).length;
  /** Whether the link's single-use token has been spent (its TOKEN# item exists). */
  const consumed = async (path: string) => {
    const purpose = path.split('/')[1] as TokenPurpose;
    const { tokenId } = signer.verify(tokenOf(path), purpose, NOW);
    return (await t.documentClient.send(new GetCommand({ TableName: t.tableName, Key: keys.token(tokenId), ConsistentRead: true }))).Item !== undefined;
  };

  describe('every page', () => {
    let practice: Practice;
    beforeAll(async () => {
      practice = await seedPractice(t.store);
    });

    it.each([
      ['check-in', 'How are you feeling?'],
      ['confirm', 'Confirm your session'],
      ['reschedule', 'Request a new time'],
      ['unsubscribe', 'Unsubscribe'],
    ] as const)('serves the %s page with the security headers, uncached, changing nothing', async (purpose, heading) => {
      const subject = purpose === 'check-in' ? practice.past.id : purpose === 'unsubscribe' ? 'reminders' : practice.upcoming.id;
      const path = linkPath(signer, purpose, practice.client.id, subject);
      const before = await tableItems();
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain(`<h1>${heading}</h1>`);
      expect(Object.fromEntries(response.headers)).toMatchObject({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      expect(response.headers.get('set-cookie')).toBeNull();
      expect(await tableItems()).toBe(before);
      expect(await consumed(path)).toBe(false);
    });

    it('serves its stylesheet from the same origin', async () => {
      const page = await (await get(linkPath(signer, 'check-in', practice.client.id, practice.past.id))).text();
      const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page)?.[1];
      const css = await get(href!);
      expect(css.status).toBe(200);
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    });

    it("reads what a page shows in two requests after a consistent look at its token, whatever the client's history", async () => {
      const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
      resetMeter(t.meter);
      await get(path);
      expect(t.meter.byOperation).toEqual({ BatchGetItem: 1, GetItem: 2 });
    });
  });

  describe('a check-in', () => {
    it('stores the answers, spends the link and alerts the therapist through SES for a red flag', async () => {
      const practice = await seedPractice(t.store);
      const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
      const response = await post(path, answers({ pain: '9', notes: '<img src=x onerror=alert(1)> sore', wantsToRebook: 'yes' }));
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('Your answers are with Amy Chen');

      const bundle = await t.store.getClientBundle(practice.client.id);
      // A check-in is never a baseline: the intake questionnaire's answers are.
      expect(bundle?.checkIns).toMatchObject([{ pain: 9, notes: '<img src=x onerror=alert(1)> sore', wantsToRebook: true, baseline: false }]);
      expect(await consumed(path)).toBe(true);

      const [alert, ...more] = await sesEmails(practice.therapist.email);
      expect(more).toEqual([]);
      expect(alert?.subject).toContain('Check-in needs attention');
      expect(alert?.body.text).toContain('Pain is 9/10');
      expect(alert?.body.html).not.toContain('<img src=x');
      const ledger = await t.store.get(`ta.${practice.past.id}.checkin.v1`);
      expect(ledger).toMatchObject({ status: 'sent', sesMessageId: alert?.messageId });
      expect(await sesEmails(practice.client.email)).toEqual([]);
    });

    it('keeps one record and sends one alert when the form is sent twice at once', async () => {
      const practice = await seedPractice(t.store);
      const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
      const responses = await Promise.all([post(path, answers({ sleep: '1' })), post(path, answers({ sleep: '1' }))]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
      expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toHaveLength(1);
      expect(await sesEmails(practice.therapist.email)).toHaveLength(1);
    });

    it.each([
      ['pain 11', { pain: '11' }, 'pain'],
      ['pain -1', { pain: '-1' }, 'pain'],
      ['pain "abc"', { pain: 'abc' }, 'pain'],
      ['no mobility', { mobility: '' }, 'mobility'],
    ])('answers %s with 400 and the form again, storing nothing and leaving the link usable', async (_, bad, field) => {
      const practice = await seedPractice(t.store);
      const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
      const response = await post(path, answers({ ...bad, notes: 'kept <b>as typed</b>' }));
      expect(response.status).toBe(400);
      const page = await response.text();
      expect(page).toContain(`id="${field}-error"`);
      expect(page).toContain('>kept &lt;b&gt;as typed&lt;/b&gt;</textarea>');
      expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toEqual([]);
      expect(await consumed(path)).toBe(false);
    });

    it('refuses a body over 32 KB with 413, storing nothing', async () => {
      const practice = await seedPractice(t.store);
      const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
      const response = await post(path, answers({ notes: 'x'.repeat(40_000) }));
      expect(response.status).toBe(413);
      expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toEqual([]);
    });

    it("refuses a post without its token in the body (403), and a tampered, expired or other client's link (404)", async () => {
      const practice = await seedPractice(t.store);
      const other = await seedPractice(t.store);
      const path = linkPath(signer, 'check-in', practice.client.id, practice.past.id);
      expect((await post(path, answers(), false)).status).toBe(403);
      const unusable = [
        `${path.slice(0, -3)}abc`,
        linkPath(signer, 'check-in', practice.client.id, practice.past.id, new Date(NOW.getTime() - 7 * 86_400_000)),
        linkPath(signer, 'check-in', practice.client.id, other.past.id),
      ];
      for (const link of unusable) {
        expect((await get(link)).status).toBe(404);
        expect((await post(link, answers())).status).toBe(404);
      }
      expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toEqual([]);
      expect((await t.store.getClientBundle(other.client.id))?.checkIns).toEqual([]);
    });
  });

  it('records a confirmation once and spends the link', async () => {
    const practice = await seedPractice(t.store);
    const path = linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id);
    expect((await post(path, {})).status).toBe(200);
    expect((await post(path, {})).status).toBe(409);
    expect((await t.store.findSession(practice.upcoming.id))?.confirmedAt).toBe(NOW.toISOString());
    expect(await consumed(path)).toBe(true);
  });

  it('stores a reschedule request and alerts the therapist through SES, once', async () => {
    const practice = await seedPractice(t.store);
    const path = linkPath(signer, 'reschedule', practice.client.id, practice.upcoming.id);
    expect((await post(path, { message: 'Could we do Monday instead?' })).status).toBe(200);
    expect((await post(path, { message: 'Or Tuesday?' })).status).toBe(409);
    expect((await t.store.getClientBundle(practice.client.id))?.requests).toMatchObject([{ message: 'Could we do Monday instead?' }]);
    const emails = await sesEmails(practice.therapist.email);
    expect(emails).toHaveLength(1);
    expect(emails[0]?.subject).toContain('Reschedule request');
    expect(emails[0]?.body.text).toContain('Could we do Monday instead?');
  });

  describe('a confirmation and a reschedule request on the same session', () => {
    const aMinuteLater = new Date(NOW.getTime() + 60_000);
    afterEach(() => {
      webNow = NOW;
    });
    const sendReminder = async (practice: Practice, due: string) => {
      const clock = { now: () => new Date(due) };
      const dispatch = createDispatch({
        store: t.store,
        ledger: t.store,
        mailer: new SesMailer({ client: sesClient() }),
        scheduler: new InMemoryMessageScheduler(),
        tokens: signer,
        clinic: testClinic(server.url),
        clock,
        log: { info: () => {}, warn: () => {}, error: () => {} },
      });
      const message = { kind: 'reminder', subjectId: practice.upcoming.id, offset: 'PT2H', version: 1 } as const;
      return dispatch({
        message,
        clientId: practice.client.id,
        planId: practice.planId,
        sessionId: practice.upcoming.id,
        therapistId: practice.therapist.id,
        scheduledTime: due,
        executionId: randomUUID(),
        attempt: 1,
      });
    };

    it('confirmed, then asked to move: the request is recorded, the alert mentions the confirmation, the next reminder says a new time was asked for', async () => {
      const practice = await seedPractice(t.store);
      expect((await post(linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id), {})).status).toBe(200);
      webNow = aMinuteLater;
      expect((await post(linkPath(signer, 'reschedule', practice.client.id, practice.upcoming.id), { message: 'Something came up' })).status).toBe(200);

      expect((await t.store.getClientBundle(practice.client.id))?.requests).toMatchObject([{ message: 'Something came up' }]);
      const [alert, ...more] = await sesEmails(practice.therapist.email);
      expect(more).toEqual([]);
      expect(alert?.subject).toContain('Reschedule request');
      expect(alert?.body.text).toMatch(/had confirmed this session on .+; this request comes after that confirmation/);

      expect(await sendReminder(practice, '2027-03-13T12:30:00.000Z')).toMatchObject({ status: 'sent' });
      const [reminder] = await sesEmails(practice.client.email);
      expect(reminder?.body.text).toContain('You asked for a new time on');
      expect(reminder?.body.text).toContain('Keep this time after all');
      expect(reminder?.body.text).not.toContain('You have confirmed');
    });

    it('asked to move, then confirmed: the confirmation is recorded and the therapist told once that the client keeps the time', async () => {
      const practice = await seedPractice(t.store);
      expect((await post(linkPath(signer, 'reschedule', practice.client.id, practice.upcoming.id), { message: '' })).status).toBe(200);
      const confirmPath = linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id);
      expect(await (await get(confirmPath)).text()).toContain('You asked us for a new time for this session.');
      webNow = aMinuteLater;
      const confirmed = await post(confirmPath, {});
      expect(confirmed.status).toBe(200);
      expect(await confirmed.text()).toContain('your earlier request for a new one will not be acted on');

      expect((await t.store.findSession(practice.upcoming.id))?.confirmedAt).toBe(aMinuteLater.toISOString());
      const subjects = (await sesEmails(practice.therapist.email)).map((e) => e.subject);
      expect(subjects).toHaveLength(2);
      expect(subjects.filter((s) => s.startsWith('Confirmed after a reschedule request'))).toHaveLength(1);

      expect(await sendReminder(practice, '2027-03-13T12:30:00.000Z')).toMatchObject({ status: 'sent' });
      const [reminder] = await sesEmails(practice.client.email);
      expect(reminder?.body.text).toContain('You have confirmed you will be there.');
    });
  });

  describe('unsubscribe', () => {
    it('takes an RFC 8058 one-click POST as a mail provider sends it: multipart, no token field, no cookie', async () => {
      const practice = await seedPractice(t.store);
      const path = linkPath(signer, 'unsubscribe', practice.client.id, 'check-ins');
      const body = new FormData();
      body.append('List-Unsubscribe', 'One-Click');
      const response = await fetch(`${server.url}${path}`, { method: 'POST', body });
      expect(response.status).toBe(200);
      expect((await t.store.getClient(practice.client.id))?.preferences).toEqual({ reminders: true, 'check-ins': false, maintenance: true });
      // Idempotent: the same link works again, and is never spent.
      expect((await fetch(`${server.url}${path}`, { method: 'POST', body })).status).toBe(200);
      expect(await consumed(path)).toBe(false);
    });

    it('unsubscribes from everything from the page', async () => {
      const practice = await seedPractice(t.store);
      const path = linkPath(signer, 'unsubscribe', practice.client.id, 'reminders');
      const response = await post(path, { scope: 'all' });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("You won't get all emails");
      expect((await t.store.getClient(practice.client.id))?.preferences).toEqual({ reminders: false, 'check-ins': false, maintenance: false });
    });
  });
});
