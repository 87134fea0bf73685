/**
 * The use cases behind the pages, on in-memory fakes: what an answer triggers, what a reschedule
 * request triggers, and how the therapist alert stays exactly-once through failures.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError, SendOutcomeUnknownError } from '../../shared/domain/errors.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { sessionSchema } from '../../shared/domain/model.js';
import { recordCheckIn, type RecordCheckInDeps } from '../../shared/use-cases/record-check-in.js';
import { requestReschedule } from '../../shared/use-cases/request-reschedule.js';
import { confirmSession } from '../../shared/use-cases/confirm-session.js';
import { manageSubscription } from '../../shared/use-cases/manage-subscription.js';
import { DEFAULT_CLAIM_LEASE_MS, OUTCOME_UNKNOWN } from '../../shared/use-cases/send-message.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';
import { addPastSession, NOW, seedPractice, testClinic, type Practice } from '../e2e/fixtures.js';

const answers = { pain: 4, mobility: 6, stress: 5, sleep: 6, notes: '', wantsToRebook: false };
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

describe('what a check-in answer triggers', () => {
  let store: MemoryStore;
  let mailer: MemoryMailer;
  let deps: RecordCheckInDeps;
  let practice: Practice;

  beforeEach(async () => {
    store = new MemoryStore({ now: () => NOW });
    mailer = new MemoryMailer();
    deps = { store, ledger: store, mailer, clinic: testClinic() };
    practice = await seedPractice(store, { tag: 'uc' });
  });

  const record = (sessionId: string, given: unknown, now: Date = NOW) => recordCheckIn(deps, { clientId: practice.client.id, sessionId, answers: given, now });

  it('reports every bad field by path and reason, storing nothing', async () => {
    const result = await record(practice.past.id, { pain: 11, mobility: 'abc', stress: 5 });
    expect(result).toEqual({
      status: 'invalid',
      issues: [
        { path: 'pain', reason: 'pain must be a whole number from 0 to 10' },
        { path: 'mobility', reason: 'mobility must be a whole number from 0 to 10' },
        { path: 'sleep', reason: 'sleep is required' },
      ],
    });
    expect((await store.getClientBundle(practice.client.id))?.checkIns).toEqual([]);
  });

  it('does not make the first check-in a baseline: with no intake answered, a flare-up raises only the absolute flags', async () => {
    const first = await record(practice.past.id, answers);
    const second = await addPastSession(store, practice, 3, '2027-03-16T15:00:00Z');
    const flare = await record(second.id, { ...answers, pain: 7, mobility: 3, stress: 8, sleep: 3 }, later(7 * 24 * 60));

    expect(first).toMatchObject({ status: 'recorded', flags: [], alert: 'none', checkIn: { baseline: false } });
    expect(first.status === 'recorded' && first.checkIn.baselineScores).toBeUndefined();
    expect((await store.findPlan(practice.planId))?.baseline).toBeUndefined();
    expect(flare).toMatchObject({ status: 'recorded', flags: [], alert: 'none', checkIn: { previous: { pain: 4, mobility: 6 } } });
    expect(mailer.sent).toEqual([]);
  });

  it("alerts the therapist when a check-in worsens against the intake questionnaire's baseline", async () => {
    await store.recordBaseline({
      clientId: practice.client.id,
      planId: practice.planId,
      answers: { pain: 4, mobility: 6, stress: 5, sleep: 6, reason: '' },
      at: NOW.toISOString(),
    });
    const result = await record(practice.past.id, { ...answers, pain: 7, mobility: 3 }, later(60));
    expect(result).toMatchObject({
      status: 'recorded',
      flags: ['Pain is up 3 against baseline (4 → 7)', 'Mobility is down 3 against baseline (6 → 3)'],
      alert: 'sent',
      checkIn: { baseline: false, baselineScores: { pain: 4, mobility: 6, stress: 5, sleep: 6 } },
    });
    const [alert] = mailer.to(practice.therapist.email);
    expect(alert?.replyTo).toBe(practice.client.email);
    expect(alert?.text).toContain('Pain is up 3 against baseline');
  });

  it('records a permanent SES refusal as a failed alert, keeping the answers and not throwing', async () => {
    mailer.failNext(new PermanentError('SES refused the email (MessageRejected)', 'MessageRejected'));
    const result = await record(practice.past.id, { ...answers, sleep: 1 });
    expect(result).toMatchObject({ status: 'recorded', alert: 'failed' });
    expect(store.ledgerEntries()).toMatchObject([{ status: 'failed', reason: 'MessageRejected: SES refused the email (MessageRejected)' }]);
    // A retry does not try the refused email again.
    expect(await record(practice.past.id, { ...answers, sleep: 1 })).toEqual({ status: 'already-answered', alert: 'failed' });
    expect(mailer.sent).toEqual([]);
  });

  it('leaves an alert another attempt is sending to that attempt', async () => {
    await store.claim({ name: `ta.${practice.past.id}.checkin.v1`, kind: 'therapist-alert', now: NOW.toISOString() });
    const result = await record(practice.past.id, { ...answers, pain: 9 }, later(0.5));
    expect(result).toMatchObject({ status: 'recorded', alert: 'pending' });
    expect(mailer.sent).toEqual([]);
  });

  it('marks an alert whose attempt died between SES and the ledger "outcome unknown", never resending it blind', async () => {
    await store.recordCheckIn({ clientId: practice.client.id, sessionId: practice.past.id, answers: { ...answers, pain: 9 }, at: NOW.toISOString() });
    await store.claim({ name: `ta.${practice.past.id}.checkin.v1`, kind: 'therapist-alert', now: NOW.toISOString() });
    const result = await record(practice.past.id, { ...answers, pain: 9 }, new Date(NOW.getTime() + DEFAULT_CLAIM_LEASE_MS));
    expect(result).toEqual({ status: 'already-answered', alert: 'failed' });
    expect(store.ledgerEntries()).toMatchObject([{ status: 'failed', reason: OUTCOME_UNKNOWN }]);
    expect(mailer.sent).toEqual([]);
  });

  it('keeps the alert’s claim when SES gave no answer, so the retry after the lease records "outcome unknown" rather than a second alert', async () => {
    mailer.failNext(new SendOutcomeUnknownError('SES gave no answer (TimeoutError)'));

    await expect(record(practice.past.id, { ...answers, pain: 9 })).rejects.toBeInstanceOf(RetryableError);
    const held = store.ledgerEntries();
    const retry = await record(practice.past.id, { ...answers, pain: 9 }, new Date(NOW.getTime() + DEFAULT_CLAIM_LEASE_MS));

    expect(held).toMatchObject([{ status: 'claimed' }]);
    expect(retry).toEqual({ status: 'already-answered', alert: 'failed' });
    expect(store.ledgerEntries()).toMatchObject([{ status: 'failed', reason: OUTCOME_UNKNOWN }]);
    expect(mailer.sent).toEqual([]);
  });

  it("refuses a session that is not the client's own", async () => {
    const other = await seedPractice(store, { tag: 'other' });
    await expect(record(other.past.id, answers)).rejects.toMatchObject({ name: 'NotFoundError' });
    expect((await store.getClientBundle(other.client.id))?.checkIns).toEqual([]);
  });

  it('refuses an id that is not an id before touching storage', async () => {
    await expect(recordCheckIn(deps, { clientId: '../x', sessionId: practice.past.id, answers, now: NOW })).rejects.toBeInstanceOf(ValidationError);
    expect(store.calls.recordCheckIn ?? 0).toBe(0);
  });
});

describe('a reschedule request', () => {
  let store: MemoryStore;
  let mailer: MemoryMailer;
  let practice: Practice;
  const deps = () => ({ store, ledger: store, mailer, clinic: testClinic() });

  beforeEach(async () => {
    store = new MemoryStore({ now: () => NOW });
    mailer = new MemoryMailer();
    practice = await seedPractice(store, { tag: 'rr' });
  });

  it('is stored once with its message, and alerts the therapist once', async () => {
    const input = { clientId: practice.client.id, sessionId: practice.upcoming.id, message: '  Thursdays are better  ', now: NOW };
    expect(await requestReschedule(deps(), input)).toMatchObject({
      status: 'requested',
      request: { message: 'Thursdays are better', therapistId: practice.therapist.id },
      alert: 'sent',
    });
    expect(await requestReschedule(deps(), input)).toMatchObject({ status: 'already-requested', alert: 'already-sent' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('sends the alert still owed by a request whose first alert was throttled', async () => {
    const input = { clientId: practice.client.id, sessionId: practice.upcoming.id, message: '', now: NOW };
    mailer.failNext(new RetryableError('throttled'));
    await expect(requestReschedule(deps(), input)).rejects.toBeInstanceOf(RetryableError);
    expect((await store.getClientBundle(practice.client.id))?.requests).toHaveLength(1);
    expect(await requestReschedule(deps(), input)).toMatchObject({ status: 'already-requested', alert: 'sent' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('is not taken for a cancelled session', async () => {
    await store.saveSession(sessionSchema.parse({ ...practice.upcoming, status: 'cancelled' }));
    const result = await requestReschedule(deps(), { clientId: practice.client.id, sessionId: practice.upcoming.id, message: '', now: NOW });
    expect(result).toMatchObject({ status: 'closed', reason: 'cancelled' });
    expect(mailer.sent).toEqual([]);
  });

  it('refuses control characters in the message but keeps its line breaks', async () => {
    const base = { clientId: practice.client.id, sessionId: practice.upcoming.id, now: NOW };
    expect(await requestReschedule(deps(), { ...base, message: 'a\u0000b' })).toEqual({
      status: 'invalid',
      issues: [{ path: 'message', reason: 'message must not contain control characters (tabs, NUL, escape …); line breaks are fine' }],
    });
    expect(await requestReschedule(deps(), { ...base, message: 'Mon\r\nTue' })).toMatchObject({ status: 'requested', request: { message: 'Mon\nTue' } });
  });
});

describe('confirming a session', () => {
  let store: MemoryStore;
  let mailer: MemoryMailer;
  let practice: Practice;
  const deps = () => ({ store, ledger: store, mailer, clinic: testClinic() });

  beforeEach(async () => {
    store = new MemoryStore({ now: () => NOW });
    mailer = new MemoryMailer();
    practice = await seedPractice(store, { tag: 'cf' });
  });

  it('is refused for a cancelled session and recorded once for a booked one', async () => {
    const input = { clientId: practice.client.id, sessionId: practice.upcoming.id, now: NOW };
    expect(await confirmSession(deps(), input)).toMatchObject({ status: 'confirmed', alert: 'none' });
    expect(await confirmSession(deps(), input)).toMatchObject({ status: 'already-confirmed' });
    await store.saveSession(sessionSchema.parse({ ...practice.past, id: 'cancelled-1', status: 'cancelled', start: '2027-04-01T10:00:00Z' }));
    expect(await confirmSession(deps(), { ...input, sessionId: 'cancelled-1' })).toMatchObject({ status: 'closed', reason: 'cancelled' });
    expect(mailer.sent).toEqual([]);
  });

  it('after a reschedule request is recorded and tells the therapist once that the client keeps the time', async () => {
    const input = { clientId: practice.client.id, sessionId: practice.upcoming.id, now: NOW };
    expect(await requestReschedule(deps(), { ...input, message: 'Could we do Thursday?' })).toMatchObject({ status: 'requested', alert: 'sent' });
    expect(await confirmSession(deps(), { ...input, now: later(60) })).toMatchObject({
      status: 'confirmed',
      alert: 'sent',
      session: { confirmedAt: later(60).toISOString() },
    });
    expect(await confirmSession(deps(), { ...input, now: later(61) })).toMatchObject({ status: 'already-confirmed' });

    expect(mailer.sent.map((m) => m.tags?.message)).toEqual([`ta.${practice.upcoming.id}.resched.v1`, `ta.${practice.upcoming.id}.confirm.v1`]);
    const alert = mailer.sent[1]!;
    expect(alert.subject).toMatch(/^Confirmed after a reschedule request: /);
    expect(alert.text).toMatch(/asked for a new time on .+, and has now confirmed they will come at the booked time/);
    // The request stays on record beside the confirmation.
    expect((await store.getClientBundle(practice.client.id))?.requests.map((r) => r.message)).toEqual(['Could we do Thursday?']);
  });

  it('before a reschedule request is mentioned in the request alert, and the request is still recorded', async () => {
    const input = { clientId: practice.client.id, sessionId: practice.upcoming.id, now: NOW };
    await confirmSession(deps(), input);
    expect(await requestReschedule(deps(), { ...input, message: '', now: later(30) })).toMatchObject({ status: 'requested', alert: 'sent' });
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.text).toMatch(/had confirmed this session on .+; this request comes after that confirmation/);
  });
});

describe('managing a subscription', () => {
  it('refuses an unknown category by name', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const practice = await seedPractice(store, { tag: 'ms' });
    await expect(manageSubscription({ store }, { clientId: practice.client.id, scope: 'newsletters' as never, action: 'unsubscribe' })).rejects.toThrow(
      /category is invalid: \(root\): must be one of reminders, check-ins, maintenance, all/,
    );
  });

  it('does not lift a bounce suppression when the client resubscribes', async () => {
    const store = new MemoryStore({ now: () => NOW });
    const practice = await seedPractice(store, { tag: 'ms2' });
    await store.suppressByEmail(practice.client.email, 'bounce', NOW.toISOString());
    const { client } = await manageSubscription({ store }, { clientId: practice.client.id, scope: 'all', action: 'resubscribe' });
    expect(client.suppressed?.reason).toBe('bounce');
  });
});
