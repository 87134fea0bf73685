/**
 * dispatch on the local twin's services: DynamoDB Local for the state and the ledger, SES v2 local
 * for the email. Every email is read back from SES local's /store, filtered by the test's own
 * recipient address (other test files share the same SES local).
 */
import ICAL from 'ical.js';
import { type SendEmailCommand, TooManyRequestsException, MessageRejected, type SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { virtualClock, type VirtualClock } from '../../local/clock.js';
import { createHandler, type DispatchResult } from '../../functions/dispatch/handler.js';
import { SesMailer, type SesSendClient } from '../../shared/adapters/ses/mailer.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { messageName, type MessageIdentity } from '../../shared/domain/message.js';
import { clientSchema } from '../../shared/domain/model.js';
import { nudgeIdentity } from '../../shared/domain/schedule-rules.js';
import { composeEmail } from '../../shared/email/email.js';
import { renderReminder } from '../../shared/email/templates.js';
import type { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import { OUTCOME_UNKNOWN } from '../../shared/use-cases/send-message.js';
import { createTestTable, resetMeter, sesClient, sesEmails, type StoredEmail, type TestTable } from '../support/local-aws.js';
import {
  checkInIdentity,
  clinicFixture,
  payloadFor,
  reminderIdentity,
  seedClinic,
  testSigner,
  uniqueEmail,
  type SeededClinic,
} from '../support/memory-clinic.js';

const P2D_DUE = '2027-01-30T14:00:00.000Z';
const CHECK_IN_DUE = '2027-02-02T15:00:00.000Z';
const clinic = clinicFixture();

let table: TestTable;
let store: DynamoStore;
let clock: VirtualClock;
let scheduler: InMemoryMessageScheduler;

beforeAll(async () => {
  clock = virtualClock(new Date(P2D_DUE));
  table = await createTestTable({ now: () => clock.now() });
  store = table.store;
});

beforeEach(() => {
  clock.set(new Date(P2D_DUE));
  scheduler = new InMemoryMessageScheduler();
});

function dispatcher(options: { ses?: SesSendClient; silent?: boolean } = {}) {
  const mailer = new SesMailer({ client: options.ses ?? sesClient(), configurationSet: 'keepwell-test' });
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  return createHandler({ store, ledger: store, mailer, scheduler, tokens: testSigner(), clinic, clock, ...(options.silent === false ? {} : { log: silent }) });
}

async function deliver(seeded: SeededClinic, identity: MessageIdentity, at: string, scheduledTime = at, handler = dispatcher()): Promise<DispatchResult> {
  clock.set(new Date(at));
  return handler(payloadFor(seeded, identity, scheduledTime));
}

function lastSession(seeded: SeededClinic) {
  return seeded.sessions.at(-1)!;
}

function header(email: StoredEmail, name: string): string | undefined {
  return email.headers?.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

describe('the emails as SES receives them', () => {
  it('sends a reminder with the time in words, the plan position, both links, unsubscribe headers and an invitation', async () => {
    const seeded = await seedClinic(store);
    const session = lastSession(seeded);

    const result = await deliver(seeded, reminderIdentity(session), P2D_DUE);

    expect(result.status).toBe('sent');
    const [email, ...others] = await sesEmails(seeded.client.email);
    expect(others).toEqual([]);
    expect(email!.from).toBe('"Calm & Co Massage" <hello@calm.test>');
    expect(email!.subject).toBe('Reminder: your session on Mon 1 Feb, 2:00 pm');
    expect(email!.body.text).toContain('Monday 1 February 2027 at 2:00 pm (GMT)');
    expect(email!.body.text).toContain('Session 3 of 6 (initial)');
    expect(email!.body.html).toContain('Room 2, 14 Harbour Street');
    const confirm = /https:\/\/keepwell\.calm\.test\/confirm\/([\w.-]+)/.exec(email!.body.html!)![1]!;
    const reschedule = /https:\/\/keepwell\.calm\.test\/reschedule\/([\w.-]+)/.exec(email!.body.html!)![1]!;
    expect(testSigner().verify(confirm, 'confirm', clock.now())).toMatchObject({ clientId: seeded.client.id, subject: session.id });
    expect(testSigner().verify(reschedule, 'reschedule', clock.now())).toMatchObject({ subject: session.id });
    const unsubscribe = /^<https:\/\/keepwell\.calm\.test\/unsubscribe\/([^>]+)>$/.exec(header(email!, 'List-Unsubscribe')!)![1]!;
    expect(testSigner().verify(unsubscribe, 'unsubscribe', clock.now())).toMatchObject({ clientId: seeded.client.id, subject: 'reminders' });
    expect(header(email!, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    const [invite] = email!.attachments;
    expect(invite!.filename).toBe('session.ics');
    const calendar = new ICAL.Component(ICAL.parse(Buffer.from(invite!.content, 'base64').toString('utf8')));
    const event = calendar.getFirstSubcomponent('vevent')!;
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    expect(event.getFirstPropertyValue('uid')).toBe(`${session.id}@keepwell`);
    expect(event.getFirstPropertyValue('sequence')).toBe(0);
    expect((event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString()).toBe(session.start);
  });

  it('sends a rescheduled session’s reminder with the same UID and a higher SEQUENCE', async () => {
    const seeded = await seedClinic(store);
    const moved = await store.saveSession({ ...lastSession(seeded), start: '2027-02-03T10:00:00.000Z', version: 2 });

    await deliver(seeded, reminderIdentity(moved), '2027-02-01T10:00:00.000Z');

    const [email] = await sesEmails(seeded.client.email);
    const event = new ICAL.Component(ICAL.parse(Buffer.from(email!.attachments[0]!.content, 'base64').toString('utf8'))).getFirstSubcomponent('vevent')!;
    expect(event.getFirstPropertyValue('uid')).toBe(`${moved.id}@keepwell`);
    expect(event.getFirstPropertyValue('sequence')).toBe(1);
    expect(email!.body.text).toContain('Wednesday 3 February 2027 at 10:00 am (GMT)');
  });

  it('sends a check-in with the form link and the aftercare note for the plan’s goal', async () => {
    const seeded = await seedClinic(store, { plan: { goal: 'sports-injury' } });
    const session = lastSession(seeded);

    await deliver(seeded, checkInIdentity(session), CHECK_IN_DUE);

    const [email] = await sesEmails(seeded.client.email);
    expect(email!.subject).toBe('How are you feeling after your session?');
    expect(email!.body.text).toContain('on Monday 1 February 2027?');
    expect(email!.body.text).toContain('Give the treated area a day before hard training');
    const token = /https:\/\/keepwell\.calm\.test\/check-in\/([\w.-]+)/.exec(email!.body.html!)![1]!;
    expect(testSigner().verify(token, 'check-in', clock.now())).toMatchObject({ subject: session.id });
    expect(testSigner().verify(/unsubscribe\/([^>]+)>/.exec(header(email!, 'List-Unsubscribe')!)![1]!, 'unsubscribe', clock.now()).subject).toBe('check-ins');
  });

  it('sends a maintenance nudge with the booking page and the phone number', async () => {
    const seeded = await seedClinic(store);
    const dueAt = '2027-03-01T10:00:00.000Z';
    await store.setMaintenanceMark(
      seeded.client.id,
      seeded.plan.id,
      { state: 'due', dueAt, lapsedAt: '2027-03-15T10:00:00.000Z', markedAt: dueAt },
      '2027-03-15T10:00:00.000Z',
    );

    await deliver(seeded, nudgeIdentity(seeded.plan.id, dueAt, 'Europe/London'), dueAt);

    const [email] = await sesEmails(seeded.client.email);
    expect(email!.subject).toBe('Time to book your next maintenance session');
    expect(email!.body.html).toContain('href="https://calm.test/book"');
    expect(email!.body.text).toContain('020 7946 0000');
    expect(header(email!, 'List-Unsubscribe')).toMatch(/^<https:\/\/keepwell\.calm\.test\/unsubscribe\/.+>$/);
  });
});

describe('hostile names', () => {
  it('shows a client named <script>alert(1)</script> as text', async () => {
    const seeded = await seedClinic(store, { client: { name: '<script>alert(1)</script>' } });

    await deliver(seeded, reminderIdentity(lastSession(seeded)), P2D_DUE);

    const [email] = await sesEmails(seeded.client.email);
    expect(email!.body.html).not.toContain('<script>');
    expect(email!.body.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email!.body.text).toContain('Hello <script>alert(1)</script>');
  });

  it('refuses a name with a line break when the client is written', () => {
    const parsed = clientSchema.safeParse({ id: 'c-1', name: 'Sam\r\nBcc: victim@evil.test', email: 'sam@clients.test', timezone: 'Europe/London' });

    expect(parsed.success).toBe(false);
  });

  it('cannot inject a header even when a CR/LF value reaches the renderer and the mailer', async () => {
    const seeded = await seedClinic(store);
    const to = seeded.client.email;
    const rendered = renderReminder({
      clinic: { ...clinic, name: 'Calm\r\nBcc: victim@evil.test' },
      client: { ...seeded.client, name: 'Sam\r\nBcc: victim@evil.test' },
      therapist: seeded.therapist,
      plan: seeded.plan,
      session: lastSession(seeded),
      links: { confirm: 'https://x.test/c', reschedule: 'https://x.test/r', unsubscribe: 'https://x.test/u\r\nBcc: victim@evil.test' },
      now: clock.now(),
    });
    const outgoing = composeEmail({
      clinic: { name: 'Calm\r\nBcc: victim@evil.test', senderEmail: clinic.senderEmail },
      to,
      rendered: { ...rendered, subject: 'Hi\r\nBcc: victim@evil.test' },
    });

    await new SesMailer({ client: sesClient() }).send(outgoing);

    const [email] = await sesEmails(to);
    expect(email!.destination).toEqual({ to: [to], cc: [], bcc: [] });
    for (const value of [email!.from, email!.subject, ...(email!.headers ?? []).flatMap((h) => [h.name, h.value])]) expect(value).not.toMatch(/[\r\n]/);
    expect((email!.headers ?? []).map((h) => h.name)).toEqual(['List-Unsubscribe', 'List-Unsubscribe-Post']);
  });
});

describe('exactly one email per message', () => {
  it('sends once when the same payload is delivered twice in a row', async () => {
    const seeded = await seedClinic(store);
    const identity = reminderIdentity(lastSession(seeded));

    const first = await deliver(seeded, identity, P2D_DUE);
    const second = await deliver(seeded, identity, '2027-01-30T14:00:05.000Z', P2D_DUE);

    expect(first.status).toBe('sent');
    expect(second).toMatchObject({ status: 'duplicate', existing: 'sent' });
    expect(await sesEmails(seeded.client.email)).toHaveLength(1);
  });

  it('sends once when deliveries race, and the losers settle as duplicates on their retry', async () => {
    const seeded = await seedClinic(store);
    const payload = payloadFor(seeded, reminderIdentity(lastSession(seeded)), P2D_DUE);
    const handler = dispatcher();

    const results = await Promise.allSettled([handler(payload), handler(payload), handler(payload), handler(payload)]);
    const losers = results.filter((r) => r.status === 'rejected' || r.value.status !== 'sent');
    clock.set(new Date('2027-01-30T14:01:00.000Z'));
    const retried = await Promise.all(losers.map(() => handler(payload)));

    expect(results.filter((r) => r.status === 'fulfilled' && r.value.status === 'sent')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RetryableError);
    for (const r of retried) expect(r).toMatchObject({ status: 'duplicate', existing: 'sent' });
    expect(await sesEmails(seeded.client.email)).toHaveLength(1);
  });

  it('retries while a fresh claim is in flight, and marks a claim older than the lease as outcome unknown without sending', async () => {
    const seeded = await seedClinic(store);
    const identity = reminderIdentity(lastSession(seeded));
    const name = messageName(identity);
    await store.claim({ name, kind: 'reminder', clientId: seeded.client.id, now: P2D_DUE });

    const inFlight = deliver(seeded, identity, '2027-01-30T14:00:20.000Z', P2D_DUE);
    await expect(inFlight).rejects.toBeInstanceOf(RetryableError);
    expect(await store.get(name)).toMatchObject({ status: 'claimed' });
    const stale = await deliver(seeded, identity, '2027-01-30T14:05:00.000Z', P2D_DUE);

    expect(stale).toEqual({ status: 'failed', name, reason: OUTCOME_UNKNOWN });
    expect(await store.get(name)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
    expect(await sesEmails(seeded.client.email)).toEqual([]);
  });
});

describe('when SES pushes back', () => {
  /** SES local cannot throttle: this client throws the SDK's own exception `times` times, then lets SES local answer. */
  function throttlingSes(times: number): SesSendClient & { calls: number } {
    const real = sesClient();
    const fake = {
      calls: 0,
      async send(command: SendEmailCommand): Promise<SendEmailCommandOutput> {
        fake.calls += 1;
        if (fake.calls <= times) throw new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } });
        return real.send(command);
      },
    };
    return fake;
  }

  it('sends one email after three throttled attempts, each retried through its own one-time schedule', async () => {
    const seeded = await seedClinic(store);
    const ses = throttlingSes(3);
    const handler = dispatcher({ ses });
    const payload = payloadFor(seeded, reminderIdentity(lastSession(seeded)), P2D_DUE);
    const name = messageName(payload.message);
    const outcomes: DispatchResult[] = [await handler(payload)];

    // Fire each retry schedule as the Scheduler would: at its time, with its own scheduledTime.
    for (let retry = 1; retry <= 5 && outcomes.at(-1)?.status === 'retry-scheduled'; retry++) {
      const schedule = scheduler.schedules.get(`${name}.r${retry}`)!;
      clock.set(new Date(schedule.at));
      outcomes.push(await handler({ ...schedule.payload, scheduledTime: schedule.at }));
    }

    expect(outcomes.map((o) => o.status)).toEqual(['retry-scheduled', 'retry-scheduled', 'retry-scheduled', 'sent']);
    expect(scheduler.names()).toEqual([`${name}.r1`, `${name}.r2`, `${name}.r3`]);
    expect([1, 2, 3].map((n) => scheduler.schedules.get(`${name}.r${n}`)!.at)).toEqual([
      '2027-01-30T14:01:00.000Z',
      '2027-01-30T14:03:00.000Z',
      '2027-01-30T14:07:00.000Z',
    ]);
    expect(scheduler.schedules.get(`${name}.r3`)!.payload).toEqual({ ...payloadFor(seeded, payload.message), redelivery: { count: 3, intendedAt: P2D_DUE } });
    expect(ses.calls).toBe(4);
    expect(await sesEmails(seeded.client.email)).toHaveLength(1);
    expect(await store.get(name)).toMatchObject({ status: 'sent' });
  });

  it('keeps the claim when SES never answered, and its retry records "outcome unknown" instead of sending again', async () => {
    const seeded = await seedClinic(store);
    const reset: SesSendClient = { send: async () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) };
    const identity = reminderIdentity(lastSession(seeded));
    const name = messageName(identity);

    const first = await deliver(seeded, identity, P2D_DUE, P2D_DUE, dispatcher({ ses: reset }));
    const claimHeld = await store.get(name);
    const schedule = scheduler.schedules.get(`${name}.r1`)!;
    clock.set(new Date(schedule.at));
    const retried = await dispatcher()({ ...schedule.payload, scheduledTime: schedule.at });

    expect(first).toMatchObject({ status: 'retry-scheduled', retryName: `${name}.r1` });
    expect(claimHeld).toMatchObject({ status: 'claimed' });
    expect(retried).toEqual({ status: 'failed', name, reason: OUTCOME_UNKNOWN });
    expect(await store.get(name)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
    expect(await sesEmails(seeded.client.email)).toEqual([]);
  });

  it('records a rejected message as failed and resolves, so nothing retries it', async () => {
    const seeded = await seedClinic(store);
    const rejecting: SesSendClient = {
      send: async () => Promise.reject(new MessageRejected({ message: 'Email address is not verified.', $metadata: { httpStatusCode: 400 } })),
    };
    const identity = reminderIdentity(lastSession(seeded));

    const result = await deliver(seeded, identity, P2D_DUE, P2D_DUE, dispatcher({ ses: rejecting }));
    const redelivered = await deliver(seeded, identity, '2027-01-30T14:01:00.000Z', P2D_DUE);

    expect(result).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^MessageRejected: /) });
    expect(await store.get(messageName(identity))).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^MessageRejected: /) });
    expect(redelivered).toMatchObject({ status: 'duplicate', existing: 'failed' });
    expect(await sesEmails(seeded.client.email)).toEqual([]);
  });
});

describe('skipping, with the reason in the ledger and no email', () => {
  const cases: Array<[string, (s: SeededClinic) => Promise<unknown>, (s: SeededClinic) => MessageIdentity, string]> = [
    ['a cancelled session', (s) => store.saveSession({ ...lastSession(s), status: 'cancelled' }), (s) => reminderIdentity(lastSession(s)), 'session cancelled'],
    [
      'a rescheduled session (the old version)',
      (s) => store.saveSession({ ...lastSession(s), start: '2027-02-04T14:00:00.000Z', version: 2 }),
      (s) => reminderIdentity({ id: lastSession(s).id, version: 1 }),
      'version moved on',
    ],
    ['a paused plan', (s) => store.updatePlanStatus(s.client.id, s.plan.id, 'paused'), (s) => reminderIdentity(lastSession(s)), 'plan paused'],
    [
      'a client unsubscribed from reminders',
      (s) => store.setPreference(s.client.id, 'reminders', false),
      (s) => reminderIdentity(lastSession(s)),
      'unsubscribed from reminders',
    ],
    [
      'a suppressed address',
      (s) => store.suppressByEmail(s.client.email, 'complaint', P2D_DUE),
      (s) => reminderIdentity(lastSession(s)),
      'address suppressed (complaint)',
    ],
  ];

  it.each(cases)('skips %s', async (_what, change, identityOf, reason) => {
    const seeded = await seedClinic(store);
    await change(seeded);
    const identity = identityOf(seeded);

    const result = await deliver(seeded, identity, P2D_DUE);

    expect(result).toMatchObject({ status: 'skipped', reason });
    expect(await store.get(messageName(identity))).toMatchObject({ status: 'skipped', reason, clientId: seeded.client.id });
    expect(await sesEmails(seeded.client.email)).toEqual([]);
  });
});

describe('one non-urgent email per client per local day', () => {
  it('defers the day’s second non-urgent email to the next morning through a new schedule, then sends it', async () => {
    const seeded = await seedClinic(store);
    const dueAt = '2027-02-02T10:00:00.000Z';
    await store.setMaintenanceMark(
      seeded.client.id,
      seeded.plan.id,
      { state: 'due', dueAt, lapsedAt: '2027-02-16T10:00:00.000Z', markedAt: dueAt },
      '2027-02-16T10:00:00.000Z',
    );
    await deliver(seeded, nudgeIdentity(seeded.plan.id, dueAt, 'Europe/London'), dueAt);
    const checkIn = checkInIdentity(lastSession(seeded));

    const deferred = await deliver(seeded, checkIn, CHECK_IN_DUE);

    expect(deferred).toMatchObject({ status: 'deferred', deferredTo: '2027-02-03T08:00:00.000Z' });
    expect(await store.get(messageName(checkIn))).toMatchObject({
      status: 'skipped',
      reason: 'deferred to 2027-02-03T08:00:00.000Z: one non-urgent email per day',
    });
    const [schedule] = [...scheduler.schedules.values()];
    expect(schedule).toMatchObject({ name: messageName({ ...checkIn, offset: 'after-d1' }), at: '2027-02-03T08:00:00.000Z' });
    expect((await sesEmails(seeded.client.email)).map((e) => e.subject)).toEqual(['Time to book your next maintenance session']);

    clock.set(new Date(schedule!.at));
    const next = await dispatcher()({ ...schedule!.payload, scheduledTime: schedule!.at });

    expect(next.status).toBe('sent');
    expect((await sesEmails(seeded.client.email)).map((e) => e.subject)).toEqual([
      'Time to book your next maintenance session',
      'How are you feeling after your session?',
    ]);
  });

  it('never sends a deferred check-in twice when the original is delivered again on a later day', async () => {
    const seeded = await seedClinic(store);
    await store.holdDayCap(seeded.client.id, '2027-02-02', 'mn.p-other.20270202.v1', '2027-02-04T00:00:00.000Z');
    const checkIn = checkInIdentity(lastSession(seeded));
    await deliver(seeded, checkIn, CHECK_IN_DUE);
    const [schedule] = [...scheduler.schedules.values()];
    clock.set(new Date(schedule!.at));
    await dispatcher()({ ...schedule!.payload, scheduledTime: schedule!.at });

    const lateDuplicate = await deliver(seeded, checkIn, '2027-02-04T09:00:00.000Z', CHECK_IN_DUE);

    expect(lateDuplicate).toMatchObject({ status: 'duplicate', existing: 'skipped' });
    expect(await store.get(messageName(checkIn))).toMatchObject({ status: 'skipped', deferredTo: '2027-02-03T08:00:00.000Z' });
    expect((await sesEmails(seeded.client.email)).map((e) => e.subject)).toEqual(['How are you feeling after your session?']);
  });
});

describe('cost per email', () => {
  it('reads and writes the same few items whatever the client’s history: 3 requests for a reminder, 4 for a check-in', async () => {
    // Units depend on the table's layout (the record also writes the ledger's outbox index):
    // bench/dispatch.ts reports them; here they must not grow with history.
    const short = await seedClinic(store, { starts: ['2027-02-01T14:00:00.000Z'] });
    const longStarts = Array.from({ length: 25 }, (_, i) => new Date(Date.parse('2026-08-17T14:00:00.000Z') + i * 7 * 86_400_000).toISOString());
    const long = await seedClinic(store, { starts: longStarts });
    const measure = async (seeded: SeededClinic, identity: MessageIdentity, at: string) => {
      resetMeter(table.meter);
      const result = await deliver(seeded, identity, at);
      expect(result.status).toBe('sent');
      return { requests: table.meter.requests, units: table.meter.readUnits + table.meter.writeUnits };
    };

    const shortReminder = await measure(short, reminderIdentity(lastSession(short)), P2D_DUE);
    const longReminder = await measure(long, reminderIdentity(lastSession(long)), '2027-01-30T14:00:00.000Z');
    const shortCheckIn = await measure(short, checkInIdentity(lastSession(short)), CHECK_IN_DUE);

    expect(shortReminder.requests).toBe(3);
    expect(longReminder).toEqual(shortReminder);
    expect(shortCheckIn.requests).toBe(4);
    expect(shortCheckIn.units).toBe(shortReminder.units + 1);
  });
});

describe('logs', () => {
  let written: string[];
  afterEach(() => vi.restoreAllMocks());
  beforeEach(() => {
    written = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });

  it('never carry a client name, an email address or an answer through a run of sends, skips, retries and failures', async () => {
    const name = 'Zebedee Quuxington';
    const email = uniqueEmail('zebedee');
    const notes = 'my-private-note-about-my-sciatica';
    const seeded = await seedClinic(store, { client: { name, email } });
    const session = lastSession(seeded);
    const handler = dispatcher({ silent: false });
    await store.recordCheckIn({
      clientId: seeded.client.id,
      sessionId: seeded.sessions[0]!.id,
      answers: { pain: 9, mobility: 2, stress: 8, sleep: 1, notes, wantsToRebook: true },
      at: '2027-01-19T10:00:00.000Z',
    });

    await deliver(seeded, reminderIdentity(session), P2D_DUE, P2D_DUE, handler);
    await deliver(seeded, reminderIdentity(session), '2027-01-30T14:00:01.000Z', P2D_DUE, handler);
    await deliver(seeded, reminderIdentity(seeded.sessions[0]!), '2027-01-30T14:00:02.000Z', P2D_DUE, handler);
    await deliver(seeded, checkInIdentity(seeded.sessions[0]!), '2027-01-30T14:00:03.000Z', P2D_DUE, handler);
    await deliver(
      seeded,
      reminderIdentity(session, 'PT2H'),
      '2027-02-01T12:00:00.000Z',
      '2027-02-01T12:00:00.000Z',
      dispatcher({ ses: { send: () => Promise.reject(new MessageRejected({ message: `Address ${email} is not verified`, $metadata: {} })) }, silent: false }),
    );
    await handler({ message: { kind: 'reminder', subjectId: session.id, offset: 'P2D', version: 1 }, clientId: seeded.client.id, sessionId: 'wrong' });
    vi.restoreAllMocks();

    const log = written.join('');
    expect(log).toContain('message sent');
    expect(log).toContain('message skipped');
    expect(log).toContain('message failed permanently');
    expect(log).toContain('invalid dispatch payload');
    for (const secret of [name, 'Zebedee', email, email.split('@')[0]!, notes]) expect(log).not.toContain(secret);
  });
});
