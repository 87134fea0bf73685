/**
 * The `web` handler on in-memory fakes of its ports: every page, what a GET may not do, what a
 * POST does, the security headers, and each kind of bad input.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createHandler } from '../../functions/web/handler.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { CONTENT_SECURITY_POLICY } from '../../shared/web/http.js';
import { ACTIONS_PER_CLIENT_PER_HOUR } from '../../shared/web/app.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { linkPath, NOW, seedPractice, testClinic, tokenOf, TEST_TOKEN_KEY, type Practice } from '../e2e/fixtures.js';

interface Sent {
  method?: string;
  body?: string | Record<string, string>;
  headers?: Record<string, string>;
  base64?: boolean;
}

function apiEvent(path: string, sent: Sent = {}): APIGatewayProxyEventV2 {
  const method = sent.method ?? (sent.body === undefined ? 'GET' : 'POST');
  const body = typeof sent.body === 'object' ? new URLSearchParams(sent.body).toString() : sent.body;
  const headers = {
    host: 'care.harbour.example',
    ...(typeof sent.body === 'object' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...sent.headers,
  };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '1',
      apiId: 'api',
      domainName: 'care.harbour.example',
      domainPrefix: 'care',
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
    },
    ...(body !== undefined ? { body: sent.base64 ? Buffer.from(body).toString('base64') : body } : {}),
    isBase64Encoded: sent.base64 ?? false,
  };
}

interface LogLine {
  level: string;
  message: string;
  attributes: Record<string, unknown>;
}

describe('the web handler', () => {
  let store: MemoryStore;
  let mailer: MemoryMailer;
  let logs: LogLine[];
  let practice: Practice;
  let call: (path: string, sent?: Sent) => Promise<APIGatewayProxyStructuredResultV2 & { body: string; headers: Record<string, string> }>;
  const signer = new TokenSigner(TEST_TOKEN_KEY);
  const clinic = testClinic();

  beforeEach(async () => {
    store = new MemoryStore({ now: () => NOW });
    mailer = new MemoryMailer();
    logs = [];
    const record = (level: string) => (message: string, attributes: Record<string, unknown>) => void logs.push({ level, message, attributes });
    practice = await seedPractice(store, { tag: 'u1' });
    const handler = createHandler({
      store,
      ledger: store,
      tokens: store,
      mailer,
      clinic,
      signer,
      clock: { now: () => NOW },
      log: { info: record('info'), warn: record('warn'), error: record('error') },
    });
    call = async (path, sent) => (await handler(apiEvent(path, sent))) as APIGatewayProxyStructuredResultV2 & { body: string; headers: Record<string, string> };
  });

  const checkInPath = () => linkPath(signer, 'check-in', practice.client.id, practice.past.id);
  const answers = (extra: Record<string, string> = {}) => ({ pain: '3', mobility: '6', stress: '4', sleep: '7', notes: 'Felt looser.', ...extra });
  const submit = (path: string, fields: Record<string, string>) => call(path, { body: { token: tokenOf(path), ...fields } });
  const checkInOf = async () => (await store.getClientBundle(practice.client.id))?.checkIns ?? [];

  describe('check-in', () => {
    it("shows the form with the session in the client's zone, in words, and the therapist", async () => {
      const path = checkInPath();
      const response = await call(path);
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('Tuesday 9 March 2027 at 10:00 am (GMT-5)');
      expect(response.body).toContain('Amy Chen');
      expect(response.body).toContain('<html lang="en">');
      expect(response.body.match(/<h1>/g)).toHaveLength(1);
      for (const score of ['pain', 'mobility', 'stress', 'sleep']) expect(response.body).toContain(`<fieldset id="${score}" aria-describedby="${score}-hint">`);
      expect(response.body).toContain(`<input type="hidden" name="token" value="${tokenOf(path)}">`);
    });

    it('sends every page with the security headers and never lets it be cached', async () => {
      const response = await call(checkInPath());
      expect(response.headers).toMatchObject({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'cache-control': 'no-store',
        'content-type': 'text/html; charset=utf-8',
      });
      expect(response.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    });

    it('changes nothing on a GET, however often a mail scanner opens the link', async () => {
      const path = checkInPath();
      for (let i = 0; i < 3; i++) expect((await call(path)).statusCode).toBe(200);
      expect(await checkInOf()).toEqual([]);
      expect(store.calls.consume ?? 0).toBe(0);
      expect(store.ledgerEntries()).toEqual([]);
    });

    it('records the answers on a POST, spends the link and thanks the client', async () => {
      const response = await submit(checkInPath(), { ...answers(), wantsToRebook: 'yes' });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('Thank you');
      expect(response.body).toContain('the clinic will be in touch');
      expect(await checkInOf()).toMatchObject([
        // A check-in is never a baseline: the intake questionnaire's answers are.
        { sessionId: practice.past.id, pain: 3, mobility: 6, stress: 4, sleep: 7, notes: 'Felt looser.', wantsToRebook: true, baseline: false },
      ]);
      expect(store.calls.consume).toBe(1);
      expect(mailer.sent).toEqual([]);
    });

    it('alerts the therapist once when the answers carry a red flag', async () => {
      await submit(checkInPath(), answers({ pain: '9' }));
      expect(mailer.to(practice.therapist.email)).toHaveLength(1);
      expect(mailer.sent[0]?.tags).toEqual({ message: `ta.${practice.past.id}.checkin.v1`, kind: 'therapist-alert' });
      expect(store.ledgerEntries()).toMatchObject([{ name: `ta.${practice.past.id}.checkin.v1`, status: 'sent' }]);
    });

    it('keeps one record and one alert when the form is sent twice, and says so the second time', async () => {
      const path = checkInPath();
      const first = await submit(path, answers({ pain: '9' }));
      const second = await submit(path, answers({ pain: '2' }));
      expect([first.statusCode, second.statusCode]).toEqual([200, 409]);
      expect(second.body).toContain('We already have your answers');
      expect((await checkInOf()).map((c) => c.pain)).toEqual([9]);
      expect(mailer.sent).toHaveLength(1);
    });

    it('refuses a used link with a page that names no time, therapist or place, whatever the session became', async () => {
      const path = checkInPath();
      await submit(path, answers());
      await store.saveSession({ ...practice.past, location: 'Room 9, Elsewhere', status: 'cancelled' });
      for (const response of [await call(path), await submit(path, answers({ pain: '1' }))]) {
        expect(response.body).toContain('<h1>Already answered</h1>');
        for (const detail of ['March 2027', 'Amy Chen', 'Room 2', 'Room 9', '<form']) expect(response.body).not.toContain(detail);
      }
      expect(store.calls.isConsumed).toBe(3);
      expect((await checkInOf()).map((c) => c.pain)).toEqual([3]);
    });

    it('says "Already answered" to a resend with missing answers, never "is required"', async () => {
      const path = checkInPath();
      await submit(path, answers());
      // A second link to the same check-in (an email sent twice) is not spent, but the answers are stored.
      const other = checkInPath();
      for (const target of [path, other]) {
        const response = await submit(target, { notes: 'resent' });
        expect(response.statusCode).toBe(409);
        expect(response.body).toContain('Already answered');
        expect(response.body).not.toMatch(/is required|Please check your answers/);
      }
    });

    it('puts focus on the error summary of a refused submit, without script', async () => {
      const response = await submit(checkInPath(), { pain: '3' });
      expect(response.statusCode).toBe(400);
      expect(response.body).toMatch(/<div class="error-summary" role="alert" tabindex="-1" autofocus>/);
      expect(response.body).not.toContain('<script');
    });

    it('shows "already answered" when the link is opened after answering', async () => {
      const path = checkInPath();
      await submit(path, answers());
      const again = await call(path);
      expect(again.statusCode).toBe(200);
      expect(again.body).toContain('We already have your answers');
      expect(again.body).not.toContain('<form');
    });

    it.each([
      ['a pain of 11', { pain: '11' }, 'pain', 'Pain must be a whole number from 0 to 10'],
      ['a pain of -1', { pain: '-1' }, 'pain', 'Pain must be a whole number from 0 to 10'],
      ['a pain of "abc"', { pain: 'abc' }, 'pain', 'Pain must be a whole number from 0 to 10'],
      ['a pain of 2.5', { pain: '2.5' }, 'pain', 'Pain must be a whole number from 0 to 10'],
      ['no sleep answer', { sleep: '' }, 'sleep', 'Sleep is required'],
      ['notes over 2,000 characters', { notes: 'x'.repeat(2001) }, 'notes', 'Notes must be at most 2,000 characters'],
      [
        'notes with a text-direction override',
        { notes: 'fine \u202eenod' },
        'notes',
        'Notes must not contain text-direction override characters (U+202A–U+202E, U+2066–U+2069)',
      ],
      [
        'notes with an escape character',
        { notes: 'fine\u001b[2J' },
        'notes',
        'Notes must not contain control characters (tabs, NUL, escape …); line breaks are fine',
      ],
    ])('refuses %s with 400, the error beside the field, the other answers kept, nothing stored', async (_, bad, field, reason) => {
      const path = checkInPath();
      const response = await submit(path, answers({ stress: '8', ...bad }));
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain(`<p class="error" id="${field}-error">${reason}</p>`);
      expect(response.body).toMatch(new RegExp(`(aria-describedby="${field}-hint ${field}-error")`));
      expect(response.body).toContain('<title>Error: ');
      expect(response.body).toContain('id="stress-8" value="8" checked');
      if (field !== 'notes') expect(response.body).toContain('>Felt looser.</textarea>');
      expect(await checkInOf()).toEqual([]);
      expect(store.calls.consume ?? 0).toBe(0);
      // The link still works: the client can correct the answer and send it.
      expect((await submit(path, answers())).statusCode).toBe(200);
    });

    it('refuses a score sent twice rather than picking one', async () => {
      const path = checkInPath();
      const body = `token=${tokenOf(path)}&pain=1&pain=9&mobility=5&stress=5&sleep=5`;
      const response = await call(path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('id="pain-error"');
      expect(await checkInOf()).toEqual([]);
    });

    it('stores HTML in notes as data and shows it only escaped', async () => {
      const notes = '<script>alert(1)</script><b onmouseover="x()">tight</b>';
      const path = checkInPath();
      const invalid = await submit(path, answers({ pain: '', notes }));
      expect(invalid.statusCode).toBe(400);
      expect(invalid.body).not.toContain('<script>');
      expect(invalid.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;b onmouseover=&quot;x()&quot;&gt;tight&lt;/b&gt;');
      await submit(path, answers({ pain: '9', notes }));
      expect((await checkInOf())[0]?.notes).toBe(notes);
      expect(mailer.sent[0]?.html).not.toContain('<script>');
    });

    it('reads a form posted as multipart/form-data, or with a base64 body, the same way', async () => {
      const path = checkInPath();
      const boundary = 'XyZ123';
      const fields = { token: tokenOf(path), ...answers() };
      const body = `${Object.entries(fields)
        .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
        .join('')}--${boundary}--\r\n`;
      const response = await call(path, { body, base64: true, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      expect(response.statusCode).toBe(200);
      expect((await checkInOf())[0]?.notes).toBe('Felt looser.');
    });
  });

  describe('a link that cannot be used', () => {
    const expired = async (response: { statusCode?: number; body: string }) => {
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('This link has expired');
      expect(response.body).not.toContain('Amy Chen');
      expect(response.body).not.toContain('Sam');
    };

    it("answers a tampered, expired, wrong-purpose or other client's token with the same page, storing nothing", async () => {
      const good = tokenOf(checkInPath());
      const [body, signature] = good.split('.') as [string, string];
      const raw = Buffer.from(body, 'base64url');
      raw[20] = (raw[20] ?? 0) ^ 1;
      const forgedBody = raw.toString('base64url');
      const tokens = {
        tampered: `${forgedBody}.${signature}`,
        expired: tokenOf(linkPath(signer, 'check-in', practice.client.id, practice.past.id, new Date(NOW.getTime() - 8 * 86_400_000))),
        'wrong purpose': tokenOf(linkPath(signer, 'confirm', practice.client.id, practice.past.id)),
        "other client's": tokenOf(linkPath(signer, 'check-in', 'c-someone-else', practice.past.id)),
        'signed with another key': new TokenSigner('NuPcM94vx2bqvJbsqKP3Mt3X5g+hxH57kSbH8WAQ1p8=').issue({
          purpose: 'check-in',
          clientId: practice.client.id,
          subject: practice.past.id,
          now: NOW,
        }),
        // Another key's token relabelled with this signer's key id: the id is signed too.
        'relabelled with the current key id': ((t: string) => [signer.keyIds[0], ...t.split('.').slice(1)].join('.'))(
          new TokenSigner('NuPcM94vx2bqvJbsqKP3Mt3X5g+hxH57kSbH8WAQ1p8=').issue({
            purpose: 'check-in',
            clientId: practice.client.id,
            subject: practice.past.id,
            now: NOW,
          }),
        ),
        garbage: 'not-a-token',
      };
      const pages = new Set<string>();
      for (const token of Object.values(tokens)) {
        const path = `/check-in/${token}`;
        const shown = await call(path);
        await expired(shown);
        pages.add(shown.body);
        await expired(await call(path, { body: { token, ...answers() } }));
      }
      expect(pages.size).toBe(1);
      expect(await checkInOf()).toEqual([]);
    });

    it('answers an unknown page with 404 "page not found"', async () => {
      const response = await call('/admin');
      expect(response.statusCode).toBe(404);
      expect(response.body).toContain('Page not found');
    });
  });

  describe('a POST that did not come from the page', () => {
    it('refuses a form without the token in its body (403), storing nothing', async () => {
      const response = await call(checkInPath(), { body: answers() });
      expect(response.statusCode).toBe(403);
      expect(response.body).toContain('This form could not be sent');
      expect(await checkInOf()).toEqual([]);
    });

    it("refuses a body token that differs from the URL's, even a valid one", async () => {
      const other = tokenOf(checkInPath());
      const response = await call(checkInPath(), { body: { token: other, ...answers() } });
      expect(response.statusCode).toBe(403);
      expect(await checkInOf()).toEqual([]);
    });

    it('refuses a form the browser marks as cross-site', async () => {
      const path = checkInPath();
      const response = await call(path, { body: { token: tokenOf(path), ...answers() }, headers: { 'sec-fetch-site': 'cross-site' } });
      expect(response.statusCode).toBe(403);
      expect(await checkInOf()).toEqual([]);
    });

    it('refuses a body over 32 KB with 413 before reading it', async () => {
      const path = checkInPath();
      const response = await call(path, { body: { token: tokenOf(path), ...answers({ notes: 'x'.repeat(40_000) }) } });
      expect(response.statusCode).toBe(413);
      expect(await checkInOf()).toEqual([]);
    });

    it('refuses a body that is not a form (415)', async () => {
      const path = checkInPath();
      const response = await call(path, { body: JSON.stringify({ token: tokenOf(path), ...answers() }), headers: { 'content-type': 'application/json' } });
      expect(response.statusCode).toBe(415);
    });

    it('refuses other methods with 405 and says which are allowed', async () => {
      const response = await call(checkInPath(), { method: 'DELETE' });
      expect(response.statusCode).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD, POST');
    });
  });

  describe('when storage or SES fails', () => {
    it('keeps the answers, gives the alert claim back and asks the client to try again; the retry sends the alert once', async () => {
      const path = checkInPath();
      mailer.failNext(new RetryableError('SES is throttling'));
      const first = await submit(path, answers({ pain: '9' }));
      expect(first.statusCode).toBe(503);
      expect(first.headers['retry-after']).toBe('60');
      expect(await checkInOf()).toHaveLength(1);
      expect(store.ledgerEntries()).toMatchObject([{ status: 'released' }]);

      const retry = await submit(path, answers({ pain: '9' }));
      expect(retry.statusCode).toBe(409);
      expect(mailer.sent).toHaveLength(1);
      expect(store.ledgerEntries()).toMatchObject([{ status: 'sent' }]);
    });

    it('shows a 503 page, stores nothing and spends nothing when the table is unavailable', async () => {
      store.failNext('recordCheckIn', new RetryableError('throttled'));
      const path = checkInPath();
      const response = await submit(path, answers());
      expect(response.statusCode).toBe(503);
      expect(store.calls.consume ?? 0).toBe(0);
      expect((await submit(path, answers())).statusCode).toBe(200);
    });

    it('shows a 500 page for an unexpected error and logs only its class name', async () => {
      store.failNext('getMessageContext', new TypeError(`cannot read ${practice.client.email}`));
      const response = await call(checkInPath());
      expect(response.statusCode).toBe(500);
      expect(logs.find((l) => l.level === 'error')?.attributes).toEqual({ route: 'check-in', method: 'GET', error: 'TypeError' });
    });
  });

  describe('the per-client action limit', () => {
    it(`takes ${ACTIONS_PER_CLIENT_PER_HOUR} actions from one client in an hour, then answers 429 with the security headers and acts no more; GETs, other clients and the next hour are apart`, async () => {
      let now = NOW;
      const handler = createHandler({ store, ledger: store, tokens: store, mailer, clinic, signer, clock: { now: () => now } });
      const post = async (path: string, fields: Record<string, string>) =>
        (await handler(apiEvent(path, { body: { token: tokenOf(path), ...fields } }))) as APIGatewayProxyStructuredResultV2 & {
          body: string;
          headers: Record<string, string>;
        };
      const path = checkInPath();

      // A form posted with a bad score over and over: each is refused, and each counts.
      for (let i = 0; i < ACTIONS_PER_CLIENT_PER_HOUR; i++) expect((await post(path, answers({ pain: 'x' }))).statusCode).toBe(400);
      const limited = await post(path, answers());
      expect(limited.statusCode).toBe(429);
      expect(limited.headers).toMatchObject({ 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-frame-options': 'DENY', 'retry-after': '3600' });
      expect(limited.body).toContain('Too many attempts');
      expect(await checkInOf()).toEqual([]);
      // The client's other links are held back too; a GET only shows.
      expect((await post(linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id), {})).statusCode).toBe(429);
      expect((await store.findSession(practice.upcoming.id))?.confirmedAt).toBeUndefined();
      expect((await handler(apiEvent(path))) as { statusCode: number }).toMatchObject({ statusCode: 200 });

      const other = await seedPractice(store, { tag: 'u2' });
      expect((await post(linkPath(signer, 'confirm', other.client.id, other.upcoming.id), {})).statusCode).toBe(200);

      now = new Date(NOW.getTime() + 3_600_000);
      expect((await post(path, answers())).statusCode).toBe(200);
      expect(await checkInOf()).toHaveLength(1);
    });
  });

  it('never logs a token, an address, a name or an answer', async () => {
    const path = checkInPath();
    await call(path);
    await submit(path, answers({ pain: '9', notes: 'private note' }));
    await call(`/check-in/${tokenOf(path)}x`);
    const written = JSON.stringify(logs);
    expect(logs.map((l) => l.attributes.route)).toEqual(['check-in', 'check-in', 'check-in']);
    for (const secret of [tokenOf(path), tokenOf(path).split('.')[0]!, practice.client.email, practice.therapist.email, 'Sam', 'private note', '/check-in/']) {
      expect(written).not.toContain(secret);
    }
  });

  describe('intake questionnaire', () => {
    const intakePath = () => linkPath(signer, 'intake', practice.client.id, practice.planId);
    const intake = (extra: Record<string, string> = {}) => ({
      pain: '6',
      mobility: '4',
      stress: '7',
      sleep: '5',
      reason: 'Stiff back\r\nsince winter.',
      ...extra,
    });
    const baselineOf = async () => (await store.findPlan(practice.planId))?.baseline;

    it('shows the check-in\'s four scales and "What brings you in?", with the therapist, and changes nothing on a GET', async () => {
      const path = intakePath();
      const response = await call(path);
      await call(path);

      expect(response.statusCode).toBe(200);
      expect(response.headers).toMatchObject({ 'content-security-policy': CONTENT_SECURITY_POLICY, 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
      expect(response.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
      expect(response.body).toContain('<h1>Before your first session</h1>');
      expect(response.body).toContain('Amy Chen');
      for (const score of ['pain', 'mobility', 'stress', 'sleep']) expect(response.body).toContain(`<fieldset id="${score}" aria-describedby="${score}-hint">`);
      expect(response.body).toContain('<label for="reason">What brings you in? (optional)</label>');
      expect(response.body).toContain(`<input type="hidden" name="token" value="${tokenOf(path)}">`);
      expect(await baselineOf()).toBeUndefined();
      expect(store.calls.consume ?? 0).toBe(0);
    });

    it("stores the answers as the plan's baseline on a POST, spends the link and thanks the client", async () => {
      const path = intakePath();
      const response = await submit(path, intake());

      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('<h1>Thank you</h1>');
      expect(await baselineOf()).toEqual({ pain: 6, mobility: 4, stress: 7, sleep: 5, reason: 'Stiff back\nsince winter.', at: NOW.toISOString() });
      expect(store.calls.consume).toBe(1);
      expect(mailer.sent).toEqual([]);
    });

    it('says "Already answered" to a second POST, before any validation, and keeps the first answers', async () => {
      const path = intakePath();
      await submit(path, intake());

      const again = await submit(path, {});
      const fromAnotherLink = await submit(intakePath(), intake({ pain: '1' }));

      for (const response of [again, fromAnotherLink]) {
        expect(response.statusCode).toBe(409);
        expect(response.body).toContain('<h1>Already answered</h1>');
        expect(response.body).not.toContain('is required');
      }
      expect((await baselineOf())?.pain).toBe(6);
      expect((await call(intakePath())).body).toContain('<h1>Already answered</h1>');
    });

    it('shows the form again with every bad field and the answers kept, storing nothing', async () => {
      const response = await submit(intakePath(), { mobility: '4', stress: '7', sleep: 'x', reason: 'Tight neck' });

      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('<title>Error: Before your first session');
      expect(response.body).toContain('<a href="#pain-0">Pain is required</a>');
      expect(response.body).toContain('<a href="#sleep-0">Sleep must be a whole number from 0 to 10</a>');
      expect(response.body).toContain('id="mobility-4" value="4" checked');
      expect(response.body).toContain('>Tight neck</textarea>');
      expect(await baselineOf()).toBeUndefined();
    });

    it("refuses a form without its token (403), another client's plan (404), and an intake token on another page", async () => {
      const path = intakePath();
      const foreign = await call(path, { body: intake() });
      const other = await seedPractice(store, { tag: 'u3' });
      const notTheirs = await submit(linkPath(signer, 'intake', practice.client.id, other.planId), intake());
      const wrongPage = await call(`/check-in/${tokenOf(path)}`);

      expect([foreign.statusCode, notTheirs.statusCode, wrongPage.statusCode]).toEqual([403, 404, 404]);
      expect(await baselineOf()).toBeUndefined();
      expect((await store.findPlan(other.planId))?.baseline).toBeUndefined();
    });

    it("counts each POST against the client's hourly action limit", async () => {
      for (let i = 0; i < ACTIONS_PER_CLIENT_PER_HOUR; i++) expect((await submit(intakePath(), intake({ pain: 'x' }))).statusCode).toBe(400);

      expect((await submit(intakePath(), intake())).statusCode).toBe(429);
      expect(await baselineOf()).toBeUndefined();
    });

    it('never logs the token or what the client wrote', async () => {
      const path = intakePath();
      await call(path);
      await submit(path, intake({ reason: 'private reason' }));
      const written = JSON.stringify(logs);

      expect(logs.map((l) => l.attributes.route)).toEqual(['intake', 'intake']);
      for (const secret of [tokenOf(path), 'private reason', '/intake-form/', practice.client.email]) expect(written).not.toContain(secret);
    });
  });

  describe('confirm', () => {
    const confirmPath = () => linkPath(signer, 'confirm', practice.client.id, practice.upcoming.id);

    it('asks on a GET and records on a POST, once', async () => {
      const path = confirmPath();
      const page = await call(path);
      expect(page.body).toContain('Saturday 13 March 2027 at 9:30 am (GMT-5)');
      expect((await store.findSession(practice.upcoming.id))?.confirmedAt).toBeUndefined();
      const done = await submit(path, {});
      expect(done.statusCode).toBe(200);
      expect(done.body).toContain('Thank you for confirming');
      expect((await store.findSession(practice.upcoming.id))?.confirmedAt).toBe(NOW.toISOString());
      expect((await submit(path, {})).statusCode).toBe(409);
      expect((await call(path)).body).toContain('Already confirmed');
    });

    it('refuses a used confirm link without the session, even after the session moved', async () => {
      const path = confirmPath();
      await submit(path, {});
      await store.saveSession({ ...practice.upcoming, start: '2027-03-20T14:30:00Z', location: 'Room 9, Elsewhere' });
      for (const response of [await call(path), await submit(path, {})]) {
        expect(response.body).toContain('<h1>Already confirmed</h1>');
        for (const detail of ['March 2027', 'Amy Chen', 'Room 2', 'Room 9', '<form']) expect(response.body).not.toContain(detail);
      }
    });

    it('refuses to confirm a session that has already happened', async () => {
      const path = linkPath(signer, 'confirm', practice.client.id, practice.past.id);
      expect((await call(path)).body).toContain('already taken place');
      const response = await submit(path, {});
      expect(response.statusCode).toBe(409);
      expect((await store.findSession(practice.past.id))?.confirmedAt).toBeUndefined();
    });
  });

  describe('reschedule', () => {
    const reschedulePath = () => linkPath(signer, 'reschedule', practice.client.id, practice.upcoming.id);

    it('stores the request with its message and alerts the therapist once', async () => {
      const path = reschedulePath();
      expect((await call(path)).body).toContain('Message for Amy Chen (optional)');
      const done = await submit(path, { message: 'Any weekday\r\nafter 5pm <please>' });
      expect(done.statusCode).toBe(200);
      expect(done.body).toContain("We've let Amy Chen know");
      const bundle = await store.getClientBundle(practice.client.id);
      expect(bundle?.requests).toMatchObject([{ sessionId: practice.upcoming.id, message: 'Any weekday\nafter 5pm <please>' }]);
      expect(mailer.to(practice.therapist.email)).toHaveLength(1);
      expect(mailer.sent[0]?.text).toContain('after 5pm <please>');

      expect((await submit(path, { message: 'again' })).statusCode).toBe(409);
      expect(mailer.sent).toHaveLength(1);
    });

    it('says "Already requested" to a resend, used link or not, before looking at its message', async () => {
      const path = reschedulePath();
      await submit(path, { message: 'Any weekday' });
      for (const target of [path, reschedulePath()]) {
        const response = await submit(target, { message: `bad\u0007${'x'.repeat(1200)}` });
        expect(response.statusCode).toBe(409);
        expect(response.body).toContain('<h1>Already requested</h1>');
        expect(response.body).not.toMatch(/at most|control characters|Please check/);
      }
      expect((await call(path)).body).not.toMatch(/March 2027|Amy Chen|Room 2/);
    });

    it('refuses a message over 1,000 characters beside the field, keeping it, storing nothing', async () => {
      const path = reschedulePath();
      const response = await submit(path, { message: 'y'.repeat(1001) });
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('<p class="error" id="message-error">Message must be at most 1,000 characters</p>');
      expect(response.body).toContain(`>${'y'.repeat(1001)}</textarea>`);
      expect((await store.getClientBundle(practice.client.id))?.requests).toEqual([]);
      expect(mailer.sent).toEqual([]);
    });
  });

  describe('unsubscribe', () => {
    const unsubscribePath = (category = 'reminders') => linkPath(signer, 'unsubscribe', practice.client.id, category);
    const preferences = async () => (await store.getClient(practice.client.id))?.preferences;

    it('asks on a GET, changing nothing', async () => {
      const response = await call(unsubscribePath());
      expect(response.body).toContain('Stop getting session reminders');
      expect(await preferences()).toEqual({ reminders: true, 'check-ins': true, maintenance: true });
    });

    it("unsubscribes from the link's category on a POST, and undoes it on request", async () => {
      const path = unsubscribePath();
      const done = await submit(path, { scope: 'reminders' });
      expect(done.statusCode).toBe(200);
      expect(await preferences()).toEqual({ reminders: false, 'check-ins': true, maintenance: true });
      // The undo is the page's own form, with a fresh resubscribe token in its action.
      const undo = /<form method="post" action="(\/resubscribe\/[^"]+)">/.exec(done.body)?.[1];
      expect(undo).toBeDefined();
      expect((await submit(undo!, {})).statusCode).toBe(200);
      expect(await preferences()).toEqual({ reminders: true, 'check-ins': true, maintenance: true });
    });

    it("never resubscribes from the email's own link, and offers no undo for an opt-out made earlier", async () => {
      const path = unsubscribePath();
      await submit(path, { scope: 'reminders' });
      const again = await submit(path, { scope: 'reminders', action: 'resubscribe' });
      expect(again.statusCode).toBe(200);
      expect(again.body).not.toContain('/resubscribe/');
      expect(await preferences()).toEqual({ reminders: false, 'check-ins': true, maintenance: true });
      // Nor can the header link's token be posted to the resubscribe page.
      expect((await submit(`/resubscribe/${tokenOf(path)}`, {})).statusCode).toBe(404);
      expect(await preferences()).toEqual({ reminders: false, 'check-ins': true, maintenance: true });
    });

    it('unsubscribes from everything when asked, and twice is the same as once', async () => {
      const path = unsubscribePath('check-ins');
      for (let i = 0; i < 2; i++) expect((await submit(path, { scope: 'all' })).statusCode).toBe(200);
      expect(await preferences()).toEqual({ reminders: false, 'check-ins': false, maintenance: false });
    });

    it.each([
      ['application/x-www-form-urlencoded', 'List-Unsubscribe=One-Click'],
      ['multipart/form-data; boundary=b0', '--b0\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b0--\r\n'],
    ])('takes an RFC 8058 one-click POST (%s) with no token field and no cookie', async (contentType, body) => {
      const response = await call(unsubscribePath('maintenance'), { body, headers: { 'content-type': contentType } });
      expect(response.statusCode).toBe(200);
      expect(await preferences()).toEqual({ reminders: true, 'check-ins': true, maintenance: false });
    });

    it("does not let a one-click POST reach beyond unsubscribing the link's own category", async () => {
      await call(unsubscribePath('maintenance'), {
        body: 'List-Unsubscribe=One-Click&scope=all&action=resubscribe',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(await preferences()).toEqual({ reminders: true, 'check-ins': true, maintenance: false });
    });

    it('refuses a one-click POST to a tampered link', async () => {
      const response = await call(`${unsubscribePath()}x`, {
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(response.statusCode).toBe(404);
      expect(await preferences()).toEqual({ reminders: true, 'check-ins': true, maintenance: true });
    });
  });

  it('serves the stylesheet, cacheable, under the same security headers', async () => {
    const response = await call('/assets/site.css');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(response.headers['cache-control']).toContain('immutable');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toContain(':focus-visible');
  });

  it('answers HEAD like GET, without a body and without acting', async () => {
    const response = await call(checkInPath(), { method: 'HEAD' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('');
  });

  it('answers a malformed API Gateway event with 400', async () => {
    const handler = createHandler({ store, ledger: store, tokens: store, mailer, clinic, signer });
    const response = (await handler({ rawPath: 42 } as unknown as APIGatewayProxyEventV2)) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(400);
  });
});
