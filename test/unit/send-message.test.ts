import { beforeEach, describe, expect, it } from 'vitest';
import { virtualClock, type VirtualClock } from '../../local/clock.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { PermanentError, RetryableError, LedgerConflictError, SendOutcomeUnknownError } from '../../shared/domain/errors.js';
import { baseIdentity, deferredIdentity, messageName, retryScheduleName, type MessageIdentity } from '../../shared/domain/message.js';
import type { OpaqueLog } from '../../shared/ports/log.js';
import { nudgeIdentity } from '../../shared/domain/schedule-rules.js';
import { createHandler } from '../../functions/dispatch/handler.js';
import { OUTCOME_UNKNOWN, retryDelayMs, sendMessage, type SendMessageDeps } from '../../shared/use-cases/send-message.js';
import { checkInIdentity, clinicFixture, payloadFor, reminderIdentity, seedClinic, testSigner, type SeededClinic } from '../support/memory-clinic.js';
import { MemoryMailer } from '../support/memory-mailer.js';
import { MemoryStore } from '../support/memory-store.js';

const P2D_DUE = '2027-01-30T14:00:00.000Z';
const CHECK_IN_DUE = '2027-02-02T15:00:00.000Z';

let clock: VirtualClock;
let store: MemoryStore;
let mailer: MemoryMailer;
let scheduler: InMemoryMessageScheduler;
let seeded: SeededClinic;
let deps: SendMessageDeps;

function session() {
  return seeded.sessions.at(-1)!;
}

async function dispatch(identity: MessageIdentity, at: string, scheduledTime: string | undefined = at) {
  clock.set(new Date(at));
  return sendMessage(deps, payloadFor(seeded, identity, scheduledTime));
}

beforeEach(async () => {
  clock = virtualClock(new Date('2027-01-01T00:00:00.000Z'));
  store = new MemoryStore({ now: () => clock.now() });
  mailer = new MemoryMailer();
  scheduler = new InMemoryMessageScheduler();
  seeded = await seedClinic(store);
  deps = { store, ledger: store, mailer, scheduler, tokens: testSigner(), clinic: clinicFixture(), clock };
});

describe('sending a message that is due', () => {
  it('sends the reminder once, tags it with opaque ids and records the SES id in the ledger', async () => {
    const identity = reminderIdentity(session());

    const outcome = await dispatch(identity, P2D_DUE);

    const name = messageName(identity);
    expect(outcome).toEqual({ status: 'sent', name, sesMessageId: 'mem-1' });
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.to).toBe(seeded.client.email);
    expect(mailer.sent[0]!.tags).toEqual({ message: name, kind: 'reminder' });
    expect(await store.get(name)).toMatchObject({ status: 'sent', sesMessageId: 'mem-1', sessionId: session().id, clientId: seeded.client.id, dueAt: P2D_DUE });
  });

  it('links to pages with tokens bound to the client, the session and the purpose', async () => {
    await dispatch(reminderIdentity(session()), P2D_DUE);

    const { html, headers } = mailer.sent[0]!;
    const token = (path: string) => new RegExp(`https://keepwell\\.calm\\.test/${path}/([A-Za-z0-9_.-]+)`).exec(html)![1]!;
    const signer = testSigner();
    const now = clock.now();
    expect(signer.verify(token('confirm'), 'confirm', now)).toMatchObject({ clientId: seeded.client.id, subject: session().id });
    expect(signer.verify(token('reschedule'), 'reschedule', now)).toMatchObject({ clientId: seeded.client.id, subject: session().id });
    const unsubscribe = /^<https:\/\/keepwell\.calm\.test\/unsubscribe\/([^>]+)>$/.exec(headers!['List-Unsubscribe']!)![1]!;
    expect(signer.verify(unsubscribe, 'unsubscribe', now)).toMatchObject({ clientId: seeded.client.id, subject: 'reminders' });
  });

  it('reads the state in one request when the payload names everything, two when it names only the session', async () => {
    await dispatch(reminderIdentity(session()), P2D_DUE);
    const full = store.calls.getMessageContext;

    clock.set(new Date(P2D_DUE));
    await sendMessage(deps, { message: reminderIdentity(session(), 'PT2H'), clientId: seeded.client.id, scheduledTime: '2027-02-01T12:00:00.000Z' });

    expect(full).toBe(1);
    expect(store.calls.getMessageContext).toBe(3);
  });

  it('still sends a reminder whose delivery was retried for hours, judged at the time it was scheduled for', async () => {
    const outcome = await dispatch(reminderIdentity(session()), '2027-01-30T19:00:00.000Z', P2D_DUE);

    expect(outcome.status).toBe('sent');
  });

  it('sends a maintenance nudge while the plan is marked due for that date', async () => {
    const dueAt = '2027-03-15T10:00:00.000Z';
    await store.setMaintenanceMark(
      seeded.client.id,
      seeded.plan.id,
      { state: 'due', dueAt, lapsedAt: '2027-03-29T09:00:00.000Z', markedAt: dueAt },
      '2027-03-29T09:00:00.000Z',
    );
    const identity = nudgeIdentity(seeded.plan.id, dueAt, 'Europe/London');

    const outcome = await dispatch(identity, dueAt);

    expect(outcome.status).toBe('sent');
    expect(mailer.sent[0]!.subject).toBe('Time to book your next maintenance session');
  });
});

describe('skipping what is no longer wanted', () => {
  const skipCases: Array<[string, () => Promise<unknown>, () => MessageIdentity, string]> = [
    ['the session was cancelled', () => store.saveSession({ ...session(), status: 'cancelled' }), () => reminderIdentity(session()), 'session cancelled'],
    [
      'the session was moved (its version rose)',
      () => store.saveSession({ ...session(), start: '2027-02-02T14:00:00.000Z', version: 2 }),
      () => reminderIdentity({ id: session().id, version: 1 }),
      'version moved on',
    ],
    ['the plan is paused', () => store.updatePlanStatus(seeded.client.id, seeded.plan.id, 'paused'), () => reminderIdentity(session()), 'plan paused'],
    ['the plan is completed', () => store.updatePlanStatus(seeded.client.id, seeded.plan.id, 'completed'), () => reminderIdentity(session()), 'plan completed'],
    [
      'the client unsubscribed from reminders',
      () => store.setPreference(seeded.client.id, 'reminders', false),
      () => reminderIdentity(session()),
      'unsubscribed from reminders',
    ],
    [
      'the client’s address bounced',
      () => store.suppressByEmail(seeded.client.email, 'bounce', P2D_DUE),
      () => reminderIdentity(session()),
      'address suppressed (bounce)',
    ],
    [
      'the plan no longer has that reminder',
      () => store.putPlan({ ...seeded.plan, reminders: ['PT2H'] }),
      () => reminderIdentity(session()),
      'no longer planned for this session',
    ],
  ];

  it.each(skipCases)('skips a reminder when %s, with the reason in the ledger and no email', async (_case, change, identity, reason) => {
    await change();

    const outcome = await dispatch(identity(), P2D_DUE);

    expect(outcome).toMatchObject({ status: 'skipped', reason });
    expect(await store.get(messageName(identity()))).toMatchObject({ status: 'skipped', reason });
    expect(mailer.sent).toEqual([]);
  });

  it('skips a reminder delivered after the session started', async () => {
    const outcome = await dispatch(reminderIdentity(session(), 'PT2H'), '2027-02-01T14:05:00.000Z', '2027-02-01T12:00:00.000Z');

    expect(outcome).toMatchObject({ status: 'skipped', reason: 'session already started' });
  });

  it('skips a check-in the client already answered', async () => {
    await store.recordCheckIn({
      clientId: seeded.client.id,
      sessionId: session().id,
      answers: { pain: 2, mobility: 8, stress: 3, sleep: 7, notes: '', wantsToRebook: false },
      at: '2027-02-02T09:00:00.000Z',
    });

    const outcome = await dispatch(checkInIdentity(session()), CHECK_IN_DUE);

    expect(outcome).toMatchObject({ status: 'skipped', reason: 'check-in already answered' });
  });

  it('skips a nudge once the plan’s maintenance mark has moved on', async () => {
    const identity = nudgeIdentity(seeded.plan.id, '2027-03-15T10:00:00.000Z', 'Europe/London');

    const outcome = await dispatch(identity, '2027-03-15T10:00:00.000Z');

    expect(outcome).toMatchObject({ status: 'skipped', reason: 'maintenance no longer due' });
  });
});

describe('exactly once', () => {
  it('does nothing for a second delivery of a message already sent', async () => {
    const identity = reminderIdentity(session());
    await dispatch(identity, P2D_DUE);

    const again = await dispatch(identity, '2027-01-30T14:01:00.000Z', P2D_DUE);

    expect(again).toEqual({ status: 'duplicate', name: messageName(identity), existing: 'sent' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('sends one email when two deliveries race', async () => {
    const identity = reminderIdentity(session());
    clock.set(new Date(P2D_DUE));

    const results = await Promise.allSettled([0, 1, 2].map(() => sendMessage(deps, payloadFor(seeded, identity, P2D_DUE))));

    expect(mailer.sent).toHaveLength(1);
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.status === 'sent')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RetryableError);
  });

  it('asks for a retry while another attempt holds a fresh claim', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    await store.claim({ name, kind: 'reminder', now: P2D_DUE });

    await expect(dispatch(identity, '2027-01-30T14:00:30.000Z', P2D_DUE)).rejects.toBeInstanceOf(RetryableError);

    expect(await store.get(name)).toMatchObject({ status: 'claimed' });
    expect(mailer.sent).toEqual([]);
  });

  it('never resends blind when a claim outlived the lease: the outcome is unknown and marked failed', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    store.failNext('markSent', new Error('DynamoDB unavailable'));
    await expect(dispatch(identity, P2D_DUE)).rejects.toThrow('DynamoDB unavailable');

    const later = await dispatch(identity, '2027-01-30T14:02:00.000Z', P2D_DUE);

    expect(later).toEqual({ status: 'failed', name, reason: OUTCOME_UNKNOWN });
    expect(await store.get(name)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
    expect(mailer.sent).toHaveLength(1);
  });
});

describe('the ledger’s first outcome stands', () => {
  it('does not let a skipping delivery erase a claim in flight', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    await store.claim({ name, kind: 'reminder', now: P2D_DUE });
    await store.saveSession({ ...session(), status: 'cancelled' });

    const outcome = await dispatch(identity, '2027-01-30T14:00:20.000Z', P2D_DUE);

    expect(outcome).toMatchObject({ status: 'skipped', reason: 'session cancelled' });
    expect(await store.get(name)).toMatchObject({ status: 'claimed' });
  });

  it('settles a claim left by a dead attempt as "outcome unknown" even when the message is now skipped', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    await store.claim({ name, kind: 'reminder', now: P2D_DUE });
    await store.saveSession({ ...session(), status: 'cancelled' });

    const outcome = await dispatch(identity, '2027-01-30T14:05:00.000Z', P2D_DUE);

    expect(outcome).toEqual({ status: 'failed', name, reason: OUTCOME_UNKNOWN });
    expect(await store.get(name)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
  });

  it('never sends a deferred check-in again under its original name when a late duplicate arrives', async () => {
    await store.holdDayCap(seeded.client.id, '2027-02-02', 'mn.p-other.20270202.v1', '2027-02-04T00:00:00.000Z');
    const identity = checkInIdentity(session());
    await dispatch(identity, CHECK_IN_DUE);
    const [deferred] = [...scheduler.schedules.values()];
    clock.set(new Date(deferred!.at));
    await sendMessage(deps, { ...deferred!.payload, scheduledTime: deferred!.at });

    const duplicate = await dispatch(identity, '2027-02-04T09:00:00.000Z', CHECK_IN_DUE);

    expect(duplicate).toMatchObject({ status: 'duplicate', existing: 'skipped' });
    expect(await store.get(messageName(identity))).toMatchObject({ status: 'skipped', deferredTo: '2027-02-03T08:00:00.000Z' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('reports a permanent failure whose ledger write lost to another attempt as a duplicate, not an error', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    mailer.failNext(new PermanentError('SES refused the email (MessageRejected)', 'MessageRejected'));
    store.failNext('markFailed', new LedgerConflictError(name, 'failed'));

    const outcome = await dispatch(identity, P2D_DUE);

    expect(outcome).toMatchObject({ status: 'duplicate', name });
  });
});

describe('when SES fails', () => {
  it('gives the claim back on throttling and schedules its own retry, 1 then 2 minutes later, which sends', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    mailer.failNext(new RetryableError('SES is throttling'), 2);

    const first = await dispatch(identity, P2D_DUE);
    const released = await store.get(name);
    const r1 = scheduler.schedules.get(`${name}.r1`)!;
    clock.set(new Date(r1.at));
    const second = await sendMessage(deps, { ...r1.payload, scheduledTime: r1.at });
    const r2 = scheduler.schedules.get(`${name}.r2`)!;
    clock.set(new Date(r2.at));
    const third = await sendMessage(deps, { ...r2.payload, scheduledTime: r2.at });

    expect(first).toEqual({ status: 'retry-scheduled', name, retryName: `${name}.r1`, retryAt: '2027-01-30T14:01:00.000Z', redelivery: 1 });
    expect(released).toMatchObject({ status: 'released' });
    expect(second).toMatchObject({ status: 'retry-scheduled', retryName: `${name}.r2`, retryAt: '2027-01-30T14:03:00.000Z' });
    expect(r2.payload).toMatchObject({ message: identity, redelivery: { count: 2, intendedAt: P2D_DUE } });
    expect(third.status).toBe('sent');
    expect(mailer.sent).toHaveLength(1);
  });

  it('gives up on a reminder whose next retry would come too close to its session to be of use', async () => {
    const identity = reminderIdentity(session(), 'PT2H');
    const name = messageName(identity);
    mailer.failNext(new RetryableError('SES is throttling (TooManyRequestsException)'));

    // The 7th retry would wait 30 minutes, to 13:10: under an hour before the 14:00 start.
    clock.set(new Date('2027-02-01T12:40:00.000Z'));
    const late = await sendMessage(deps, {
      ...payloadFor(seeded, identity, '2027-02-01T12:40:00.000Z'),
      redelivery: { count: 6, intendedAt: '2027-02-01T12:00:00.000Z' },
    });

    expect(late).toEqual({ status: 'failed', name, reason: 'gave up after 6 retries: SES is throttling (TooManyRequestsException)' });
    expect(await store.get(name)).toMatchObject({ status: 'failed', reason: 'gave up after 6 retries: SES is throttling (TooManyRequestsException)' });
    expect(scheduler.schedules.has(`${name}.r7`)).toBe(false);
  });

  it('keeps retrying a check-in six hours after it was meant to go: the time rules still want it for 72 hours', async () => {
    const identity = checkInIdentity(session());
    mailer.failNext(new RetryableError('SES is throttling'));
    clock.set(new Date('2027-02-02T20:45:00.000Z'));

    const outcome = await sendMessage(deps, {
      ...payloadFor(seeded, identity, '2027-02-02T20:45:00.000Z'),
      redelivery: { count: 9, intendedAt: CHECK_IN_DUE },
    });

    expect(outcome).toMatchObject({ status: 'retry-scheduled', retryAt: '2027-02-02T21:15:00.000Z', redelivery: 10 });
  });

  it('gives up on a check-in once its next retry would fall past the 72-hour late window', async () => {
    const identity = checkInIdentity(session());
    mailer.failNext(new RetryableError('SES is throttling'));
    // Due 2 Feb 15:00; the window closes 5 Feb 15:00, and a 30-minute wait from 14:45 passes it.
    clock.set(new Date('2027-02-05T14:45:00.000Z'));

    const outcome = await sendMessage(deps, {
      ...payloadFor(seeded, identity, '2027-02-05T14:45:00.000Z'),
      redelivery: { count: 40, intendedAt: CHECK_IN_DUE },
    });

    expect(outcome).toMatchObject({ status: 'failed', reason: 'gave up after 40 retries: SES is throttling' });
    expect(mailer.sent).toEqual([]);
  });

  it('gives up on a nudge once its next retry would come more than 72 hours after its due date', async () => {
    const dueAt = '2027-03-15T10:00:00.000Z';
    await store.setMaintenanceMark(
      seeded.client.id,
      seeded.plan.id,
      { state: 'due', dueAt, lapsedAt: '2027-03-29T09:00:00.000Z', markedAt: dueAt },
      '2027-03-29T09:00:00.000Z',
    );
    const identity = nudgeIdentity(seeded.plan.id, dueAt, 'Europe/London');
    mailer.failNext(new RetryableError('SES is throttling'), 2);

    clock.set(new Date('2027-03-16T10:00:00.000Z'));
    const early = await sendMessage(deps, { ...payloadFor(seeded, identity, '2027-03-16T10:00:00.000Z'), redelivery: { count: 12, intendedAt: dueAt } });
    clock.set(new Date('2027-03-18T09:45:00.000Z'));
    const late = await sendMessage(deps, { ...payloadFor(seeded, identity, '2027-03-18T09:45:00.000Z'), redelivery: { count: 40, intendedAt: dueAt } });

    expect(early).toMatchObject({ status: 'retry-scheduled', redelivery: 13 });
    expect(late).toMatchObject({ status: 'failed', reason: 'gave up after 40 retries: SES is throttling' });
  });

  it('defers a check-in retry that comes due in quiet hours to the end of the quiet window, without sending', async () => {
    const identity = checkInIdentity(session());
    const name = messageName(identity);
    clock.set(new Date('2027-02-02T21:15:00.000Z'));

    const outcome = await sendMessage(deps, {
      ...payloadFor(seeded, identity, '2027-02-02T21:15:00.000Z'),
      redelivery: { count: 10, intendedAt: CHECK_IN_DUE },
    });

    const next = deferredIdentity(identity);
    expect(outcome).toEqual({ status: 'deferred', name, deferredName: messageName(next), deferredTo: '2027-02-03T08:00:00.000Z' });
    expect(mailer.sent).toEqual([]);
    expect(await store.get(name)).toMatchObject({ status: 'skipped', reason: 'deferred to 2027-02-03T08:00:00.000Z: quiet hours' });
    expect(scheduler.schedules.get(messageName(next))).toMatchObject({ at: '2027-02-03T08:00:00.000Z', payload: { message: next } });
    expect(scheduler.schedules.get(messageName(next))!.payload).not.toHaveProperty('redelivery');
  });

  it('sends the deferred check-in at the end of the quiet window, once', async () => {
    const identity = checkInIdentity(session());
    clock.set(new Date('2027-02-02T23:30:00.000Z'));
    await sendMessage(deps, { ...payloadFor(seeded, identity, '2027-02-02T23:30:00.000Z'), redelivery: { count: 12, intendedAt: CHECK_IN_DUE } });
    const deferred = scheduler.schedules.get(messageName(deferredIdentity(identity)))!;

    clock.set(new Date(deferred.at));
    const sent = await sendMessage(deps, { ...deferred.payload, scheduledTime: deferred.at });
    const again = await sendMessage(deps, { ...deferred.payload, scheduledTime: deferred.at });

    expect(sent.status).toBe('sent');
    expect(again).toMatchObject({ status: 'duplicate' });
    expect(mailer.sent).toHaveLength(1);
  });

  it('throws, claim released, when its retry schedule cannot be created: Lambda’s own retry is the last resort', async () => {
    const identity = reminderIdentity(session());
    const failing = new InMemoryMessageScheduler(() => new RetryableError('Scheduler is throttling'));
    mailer.failNext(new RetryableError('SES is throttling'));

    await expect(sendMessage({ ...deps, scheduler: failing }, payloadFor(seeded, identity, P2D_DUE))).rejects.toBeInstanceOf(RetryableError);

    expect(await store.get(messageName(identity))).toMatchObject({ status: 'released' });
    const retried = await dispatch(identity, '2027-01-30T14:01:00.000Z', P2D_DUE);
    expect(retried.status).toBe('sent');
  });

  it('keeps the claim when SES gave no answer, and lets its retry, after the lease, record "outcome unknown"', async () => {
    const identity = reminderIdentity(session());
    const name = messageName(identity);
    mailer.failNext(new SendOutcomeUnknownError('SES gave no answer (TimeoutError)'));

    const first = await dispatch(identity, P2D_DUE);
    const held = await store.get(name);
    const retry = scheduler.schedules.get(`${name}.r1`)!;
    clock.set(new Date(retry.at));
    const second = await sendMessage(deps, { ...retry.payload, scheduledTime: retry.at });

    expect(first).toMatchObject({ status: 'retry-scheduled', retryAt: '2027-01-30T14:01:00.000Z' });
    expect(held).toMatchObject({ status: 'claimed' });
    expect(second).toEqual({ status: 'failed', name, reason: OUTCOME_UNKNOWN });
    expect(mailer.sent).toEqual([]);
  });

  it('names retry schedules within the Scheduler’s 64 characters, distinct for each retry', () => {
    const long = messageName({ kind: 'check-in', subjectId: 's-'.padEnd(40, 'x'), offset: 'after-d1'.padEnd(24, 'y'), version: 12 });

    const names = [1, 2, 10].map((n) => retryScheduleName(long, n));

    expect(long).toHaveLength(64);
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z_.-]{1,64}$/);
    expect(new Set(names).size).toBe(3);
    expect(retryScheduleName('rm.s-1.P2D.v1', 3)).toBe('rm.s-1.P2D.v1.r3');
  });

  it('backs off 1, 2, 4 … minutes, never more than 30', () => {
    expect([1, 2, 3, 5, 6, 12].map((n) => retryDelayMs(n) / 60_000)).toEqual([1, 2, 4, 16, 30, 30]);
  });

  it('records a permanent refusal as failed and returns normally, so nothing retries it', async () => {
    const identity = reminderIdentity(session());
    mailer.failNext(new PermanentError('SES refused the email (MessageRejected)', 'MessageRejected'));

    const outcome = await dispatch(identity, P2D_DUE);
    const retry = await dispatch(identity, '2027-01-30T14:01:00.000Z', P2D_DUE);

    expect(outcome).toMatchObject({ status: 'failed', reason: 'MessageRejected: SES refused the email (MessageRejected)' });
    expect(retry).toMatchObject({ status: 'duplicate', existing: 'failed' });
    expect(mailer.sent).toEqual([]);
  });
});

describe('one non-urgent email per client per local day', () => {
  it('defers a check-in to the next morning when a nudge already went out that day', async () => {
    await store.holdDayCap(seeded.client.id, '2027-02-02', 'mn.p-other.20270202.v1', '2027-02-04T00:00:00.000Z');
    const identity = checkInIdentity(session());

    const outcome = await dispatch(identity, CHECK_IN_DUE);

    const deferred = deferredIdentity(identity);
    expect(deferred.offset).toBe('after-d1');
    expect(outcome).toEqual({ status: 'deferred', name: messageName(identity), deferredName: messageName(deferred), deferredTo: '2027-02-03T08:00:00.000Z' });
    expect(await store.get(messageName(identity))).toMatchObject({
      status: 'skipped',
      reason: 'deferred to 2027-02-03T08:00:00.000Z: one non-urgent email per day',
    });
    expect(scheduler.schedules.get(messageName(deferred))).toMatchObject({
      at: '2027-02-03T08:00:00.000Z',
      payload: { message: deferred, clientId: seeded.client.id },
    });
    expect(mailer.sent).toEqual([]);
  });

  it('sends the deferred check-in the next morning', async () => {
    await store.holdDayCap(seeded.client.id, '2027-02-02', 'mn.p-other.20270202.v1', '2027-02-04T00:00:00.000Z');
    await dispatch(checkInIdentity(session()), CHECK_IN_DUE);
    const [schedule] = [...scheduler.schedules.values()];

    clock.set(new Date(schedule!.at));
    const outcome = await sendMessage(deps, { ...schedule!.payload, scheduledTime: schedule!.at });

    expect(outcome.status).toBe('sent');
    expect(mailer.sent[0]!.subject).toBe('How are you feeling after your session?');
  });

  it('lets a reminder through on a day another message already holds', async () => {
    await store.holdDayCap(seeded.client.id, '2027-01-30', 'mn.p-other.20270130.v1', '2027-02-01T00:00:00.000Z');

    const outcome = await dispatch(reminderIdentity(session()), P2D_DUE);

    expect(outcome.status).toBe('sent');
  });

  it('numbers repeated deferrals and keeps the base identity recoverable', () => {
    const twice = deferredIdentity(deferredIdentity({ kind: 'maintenance-nudge', subjectId: 'p-1', offset: '20270315', version: 1 }));

    expect(twice.offset).toBe('20270315-d2');
    expect(baseIdentity(twice).offset).toBe('20270315');
  });
});

describe('the dispatch handler', () => {
  function capturingLog(): OpaqueLog & { lines: string[] } {
    const lines: string[] = [];
    const write = (message: string, ...attributes: object[]) => lines.push(JSON.stringify({ message, ...Object.assign({}, ...attributes) }));
    return { lines, info: write, warn: write, error: write };
  }

  it('refuses an invalid payload without retrying, naming the bad fields', async () => {
    const log = capturingLog();
    const handler = createHandler({ ...deps, log });

    const result = await handler({ message: { kind: 'summary', subjectId: 'x', offset: 'P1D', version: 0 }, clientId: 'not an id!' });

    expect(result.status).toBe('invalid');
    const paths = result.status === 'invalid' ? result.issues.map((i) => i.path) : [];
    expect(paths).toEqual(expect.arrayContaining(['message.version', 'clientId']));
    expect(log.lines.join('\n')).toContain('invalid dispatch payload');
    expect(mailer.sent).toEqual([]);
  });

  it('refuses a kind dispatch does not send, and a session id that disagrees with the message', async () => {
    const handler = createHandler({ ...deps, log: capturingLog() });
    const payload = payloadFor(seeded, reminderIdentity(session()));

    const wrongKind = await handler({ ...payload, message: { ...payload.message, kind: 'summary' } });
    const wrongSession = await handler({ ...payload, sessionId: 's-other' });

    expect(wrongKind).toMatchObject({ status: 'invalid', issues: [{ path: 'message.kind' }] });
    expect(wrongSession).toMatchObject({ status: 'invalid', issues: [{ path: 'sessionId' }] });
  });
});
