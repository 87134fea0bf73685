/**
 * Intake on the twin, over HTTP, from real-format payloads (test/fixtures/intake): Cal.com
 * webhooks signed with X-Cal-Signature-256 and Keepwell's own format signed with
 * Keepwell-Signature, through the twin's HTTP API to the intake function, the table, the stream,
 * sync-schedules, the local Scheduler, dispatch and SES local.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoIntakeStore } from '../../shared/adapters/dynamodb/intake-store.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { hmacHex, keepwellSignature } from '../../shared/intake/signature.js';
import { intakeIds } from '../../shared/use-cases/intake.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { startTwin, type Twin } from '../../local/twin.js';
import { sesEmails } from '../support/local-aws.js';

const T0 = '2027-02-01T08:00:00.000Z';
let twin: Twin;
let intakeStore: DynamoIntakeStore;

// biome-ignore lint/suspicious/noExplicitAny: JSON read back from the twin, checked by the assertions
type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(new URL(`../fixtures/intake/${name}.json`, import.meta.url), 'utf8')) as Json;

/** The virtual clock stands still between posts: each default createdAt is a millisecond later than the last. */
let tick = 0;

/** A Cal.com fixture for one booking: its uid and attendee replaced, createdAt at `createdAt` (default: now, in sending order). */
function calBody(
  name: string,
  changes: { uid: string; email: string; rescheduleUid?: string; start?: string; end?: string; createdAt?: string; type?: string },
): string {
  const body = fixture(name);
  body.createdAt = changes.createdAt ?? new Date(twin.clock.now().getTime() + ++tick).toISOString();
  const p = body.payload as Json;
  if (name === 'cal-com-no-show-updated') {
    p.bookingUid = changes.uid;
    p.attendees[0].email = changes.email;
  } else {
    p.uid = changes.uid;
    p.attendees[0].email = changes.email;
    p.responses.email.value = changes.email;
    if (changes.rescheduleUid) p.rescheduleUid = changes.rescheduleUid;
    if (changes.start) p.startTime = changes.start;
    if (changes.end) p.endTime = changes.end;
    if (changes.type) p.type = changes.type;
  }
  return JSON.stringify(body);
}

async function post(source: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${twin.webUrl}/intake/${source}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const json = (await response.json().catch(() => ({}))) as Json;
  await twin.settle();
  return { status: response.status, json };
}

const postCal = (body: string, secret = twin.intake.secrets.calcom!) => post('calcom', body, { 'x-cal-signature-256': hmacHex(secret, body) });
const postKeepwell = (body: string, at = twin.clock.now()) =>
  post('front-desk', body, { 'keepwell-signature': keepwellSignature(twin.intake.secrets['front-desk']!, body, at) });

async function sessionsOf(email: string) {
  const clientId = await twin.store.findClientIdByEmail(email);
  return clientId ? ((await twin.store.getClientBundle(clientId))?.sessions ?? []) : [];
}

async function tableItemCount(): Promise<number> {
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const client = createDocumentClient({ endpoint: twin.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const out = await client.send(new ScanCommand({ TableName: twin.tableName, Select: 'COUNT' }));
  return out.Count ?? 0;
}

const schedulesFor = (sessionId: string) =>
  twin.scheduler
    .list()
    .map((s) => s.name)
    .filter((n) => n.includes(sessionId))
    .sort();

beforeAll(async () => {
  twin = await startTwin({
    clinic: {
      name: 'Harbour Clinical Massage',
      senderEmail: 'care@harbour-massage.example',
      timezone: 'Europe/London',
      baseUrl: 'http://localhost:3000',
      bookingUrl: 'https://book.harbour-massage.example',
    },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
  });
  await twin.store.putTherapist({
    id: 't-amy',
    name: 'Amy Chen',
    email: 'amy@harbour-massage.example',
    timezone: 'Europe/London',
    summary: { cadence: 'daily', hour: 7, weekday: 1, whenEmpty: 'one-line' },
  });
  intakeStore = new DynamoIntakeStore({
    tableName: twin.tableName,
    client: createDocumentClient({ endpoint: twin.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
  });
});

afterAll(async () => {
  await twin?.close();
});

describe('a Cal.com booking', () => {
  it('creates the client, plan and session, schedules its reminders, and the reminder reaches SES local', async () => {
    const email = 'jordan.reyes@example.com';
    const answer = await postCal(calBody('cal-com-booking-created', { uid: 'bFJeNb2uX8ANpT3JL5EfXw', email }));

    expect(answer).toEqual({ status: 200, json: { status: 'accepted', duplicate: false, sessionId: intakeIds.session('calcom', 'bFJeNb2uX8ANpT3JL5EfXw') } });
    const [session] = await sessionsOf(email);
    expect(session).toMatchObject({
      start: '2027-02-10T10:00:00.000Z',
      durationMinutes: 60,
      status: 'booked',
      version: 1,
      therapistId: 't-amy',
      location: 'Treatment room 1, 12 Quay Street',
    });
    // The booking confirmation is scheduled with the reminders and check-in.
    expect(schedulesFor(session!.id)).toEqual(
      [`bc.${session!.id}.booked.v1`, `rm.${session!.id}.P2D.v1`, `rm.${session!.id}.PT2H.v1`, `ci.${session!.id}.after.v1`].sort(),
    );

    await twin.advanceTo('2027-02-08T10:05:00.000Z');
    // The plan's intake questionnaire (the plan is new, its first session ahead), the confirmation
    // (after the 5-minute undo window) and the first reminder.
    expect((await sesEmails(email)).map((e) => e.subject)).toEqual([
      'Before your first session with Amy Chen',
      'Booked: your session on Wed 10 Feb, 10:00 am',
      'Reminder: your session on Wed 10 Feb, 10:00 am',
    ]);
  });
});

describe('a Cal.com reschedule (a new uid that refers to the old one)', () => {
  it("moves the one Keepwell session: version 2, the old version's schedules gone", async () => {
    const email = 'reschedule@example.com';
    await postCal(calBody('cal-com-booking-created', { uid: 'uid-old-1', email, start: '2027-03-10T10:00:00Z', end: '2027-03-10T11:00:00Z' }));
    const sessionId = intakeIds.session('calcom', 'uid-old-1');
    expect(schedulesFor(sessionId).every((n) => n.endsWith('.v1'))).toBe(true);

    const answer = await postCal(
      calBody('cal-com-booking-rescheduled', {
        uid: 'uid-new-1',
        rescheduleUid: 'uid-old-1',
        email,
        start: '2027-03-12T14:00:00Z',
        end: '2027-03-12T15:00:00Z',
      }),
    );

    expect(answer.json).toMatchObject({ status: 'accepted', sessionId });
    const sessions = await sessionsOf(email);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ id: sessionId, start: '2027-03-12T14:00:00.000Z', version: 2, status: 'booked' });
    // Moved within the confirmation's undo window: the confirmation names the new version instead.
    expect(schedulesFor(sessionId)).toEqual([`bc.${sessionId}.booked.v2`, `ci.${sessionId}.after.v2`, `rm.${sessionId}.P2D.v2`, `rm.${sessionId}.PT2H.v2`]);
  });

  it('after the confirmation went out, sends a change notice with the old and new time and the invitation at SEQUENCE 1', async () => {
    const email = 'reschedule-later@example.com';
    await postCal(calBody('cal-com-booking-created', { uid: 'uid-old-2', email, start: '2027-03-17T10:00:00Z', end: '2027-03-17T11:00:00Z' }));
    const sessionId = intakeIds.session('calcom', 'uid-old-2');
    await twin.advanceTo(new Date(twin.clock.now().getTime() + 10 * 60_000).toISOString());

    await postCal(
      calBody('cal-com-booking-rescheduled', {
        uid: 'uid-new-2',
        rescheduleUid: 'uid-old-2',
        email,
        start: '2027-03-19T14:00:00Z',
        end: '2027-03-19T15:00:00Z',
      }),
    );
    await twin.advanceTo(new Date(twin.clock.now().getTime() + 60_000).toISOString());

    // The new plan's intake questionnaire comes first.
    const [intake, confirmation, notice] = await sesEmails(email);
    expect(intake?.subject).toBe('Before your first session with Amy Chen');
    expect(confirmation?.subject).toBe('Booked: your session on Wed 17 Mar, 10:00 am');
    expect(notice?.subject).toBe('Moved: your session is now on Fri 19 Mar, 2:00 pm');
    expect(notice?.body.text).toContain('has moved from Wednesday 17 March 2027 at 10:00 am (GMT) to Friday 19 March 2027 at 2:00 pm (GMT)');
    const ics = Buffer.from(notice!.attachments.find((a) => a.filename === 'session.ics')!.content, 'base64').toString('utf8');
    expect(ics).toContain(`UID:${sessionId}@keepwell`);
    expect(ics).toContain('SEQUENCE:1');
    expect((await twin.store.get(`bm.${sessionId}.moved.v2`))?.status).toBe('sent');
  });
});

describe('a Cal.com cancellation', () => {
  it('cancels the session and removes its schedules, so no reminder goes out', async () => {
    const email = 'cancel@example.com';
    await postCal(calBody('cal-com-booking-created', { uid: 'uid-cancel-1', email, start: '2027-02-20T10:00:00Z', end: '2027-02-20T11:00:00Z' }));
    const sessionId = intakeIds.session('calcom', 'uid-cancel-1');
    // Two reminders, the check-in and the booking confirmation.
    expect(schedulesFor(sessionId)).toHaveLength(4);

    const answer = await postCal(calBody('cal-com-booking-cancelled', { uid: 'uid-cancel-1', email }));

    expect(answer.status).toBe(200);
    expect((await sessionsOf(email))[0]).toMatchObject({ status: 'cancelled' });
    expect(schedulesFor(sessionId)).toEqual([]);
  });

  it('after the confirmation went out, sends a cancellation notice (METHOD:CANCEL) with the booking link, and no reminder', async () => {
    const email = 'cancel-later@example.com';
    await postCal(calBody('cal-com-booking-created', { uid: 'uid-cancel-2', email, start: '2027-03-24T10:00:00Z', end: '2027-03-24T11:00:00Z' }));
    const sessionId = intakeIds.session('calcom', 'uid-cancel-2');
    await twin.advanceTo(new Date(twin.clock.now().getTime() + 10 * 60_000).toISOString());

    await postCal(calBody('cal-com-booking-cancelled', { uid: 'uid-cancel-2', email }));
    await twin.advanceTo('2027-03-25T00:00:00.000Z');

    const emails = await sesEmails(email);
    // The new plan's intake questionnaire comes first.
    expect(emails.map((e) => e.subject)).toEqual([
      'Before your first session with Amy Chen',
      'Booked: your session on Wed 24 Mar, 10:00 am',
      'Cancelled: your session on Wed 24 Mar, 10:00 am',
    ]);
    expect(emails[2]!.body.html).toContain('https://book.harbour-massage.example');
    const ics = Buffer.from(emails[2]!.attachments.find((a) => a.filename === 'session.ics')!.content, 'base64').toString('utf8');
    expect(ics).toContain('METHOD:CANCEL');
    expect(ics).toContain(`UID:${sessionId}@keepwell`);
  });
});

describe('duplicate and concurrent deliveries', () => {
  it('change the store once: the same body twice in a row, then five copies at once', async () => {
    const email = 'dupe@example.com';
    const body = calBody('cal-com-booking-created', { uid: 'uid-dupe-1', email, start: '2027-02-21T10:00:00Z', end: '2027-02-21T11:00:00Z' });
    const first = await postCal(body);
    const before = await tableItemCount();
    const second = await postCal(body);

    expect(first.json.duplicate).toBe(false);
    expect(second).toEqual({ status: 200, json: { ...first.json, duplicate: true } });
    expect(await tableItemCount()).toBe(before);

    const concurrent = calBody('cal-com-booking-created', { uid: 'uid-dupe-2', email, start: '2027-02-22T10:00:00Z', end: '2027-02-22T11:00:00Z' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => postCal(concurrent)));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.filter((a) => a.json.duplicate === false)).toHaveLength(1);
    expect((await sessionsOf(email)).map((s) => s.start).sort()).toEqual(['2027-02-21T10:00:00.000Z', '2027-02-22T10:00:00.000Z']);
  });
});

describe('out-of-order deliveries', () => {
  it("end in the state of the latest change by the source's createdAt: an old reschedule after a newer one", async () => {
    const email = 'order@example.com';
    const now = twin.clock.now().getTime();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    await postCal(
      calBody('cal-com-booking-created', { uid: 'uid-order-1', email, start: '2027-03-01T10:00:00Z', end: '2027-03-01T11:00:00Z', createdAt: at(4) }),
    );
    await postCal(
      calBody('cal-com-booking-rescheduled', {
        uid: 'uid-order-3',
        rescheduleUid: 'uid-order-1',
        email,
        start: '2027-03-03T10:00:00Z',
        end: '2027-03-03T11:00:00Z',
        createdAt: at(1),
      }),
    );

    const late = await postCal(
      calBody('cal-com-booking-rescheduled', {
        uid: 'uid-order-2',
        rescheduleUid: 'uid-order-1',
        email,
        start: '2027-03-02T10:00:00Z',
        end: '2027-03-02T11:00:00Z',
        createdAt: at(2),
      }),
    );

    expect(late).toEqual({ status: 202, json: { status: 'ignored', reason: 'stale: a newer change to this booking is already applied', duplicate: false } });
    expect(await sessionsOf(email)).toEqual([expect.objectContaining({ start: '2027-03-03T10:00:00.000Z', version: 2 })]);
  });

  it('a cancel before its create: the older create arriving later does not revive the booking', async () => {
    const email = 'cancel-first@example.com';
    const now = twin.clock.now().getTime();
    await postCal(calBody('cal-com-booking-cancelled', { uid: 'uid-cf-1', email, createdAt: new Date(now - 60_000).toISOString() }));

    const create = await postCal(calBody('cal-com-booking-created', { uid: 'uid-cf-1', email, createdAt: new Date(now - 120_000).toISOString() }));

    expect(create.json).toMatchObject({ status: 'ignored', reason: expect.stringContaining('stale') });
    expect(await sessionsOf(email)).toEqual([]);
  });
});

describe('refused and ignored deliveries', () => {
  const body = () => calBody('cal-com-booking-created', { uid: 'uid-refused-1', email: 'refused@example.com' });

  it('a wrong or missing signature: 401, nothing written', async () => {
    const before = await tableItemCount();
    expect(await postCal(body(), 'not-the-secret')).toEqual({ status: 401, json: { error: 'wrong signature' } });
    expect(await post('calcom', body(), {})).toEqual({ status: 401, json: { error: 'missing signature' } });
    expect(await tableItemCount()).toBe(before);
  });

  it("a stale timestamp: 401, nothing written (Cal.com's signed createdAt, Keepwell-Signature's t)", async () => {
    const before = await tableItemCount();
    const old = new Date(twin.clock.now().getTime() - 6 * 60_000);
    const cal = calBody('cal-com-booking-created', { uid: 'uid-stale-1', email: 'stale@example.com', createdAt: old.toISOString() });
    expect(await postCal(cal)).toEqual({ status: 401, json: { error: 'stale timestamp' } });
    const generic = JSON.stringify({ ...fixture('keepwell-booking-created'), occurredAt: twin.clock.now().toISOString() });
    expect(await postKeepwell(generic, old)).toEqual({ status: 401, json: { error: 'stale timestamp' } });
    expect(await tableItemCount()).toBe(before);
  });

  it('malformed JSON: 400, recorded as refused and nothing else written', async () => {
    const before = await tableItemCount();
    const answer = await postCal('{"triggerEvent": "BOOKING_CREATED", ');

    expect(answer).toEqual({ status: 400, json: { error: 'body is not valid JSON' } });
    expect(await tableItemCount()).toBe(before + 1);
    const log = await intakeStore.listDeliveries(T0, twin.clock.now().toISOString());
    expect(log.filter((d) => d.status === 'refused')).toEqual([expect.objectContaining({ source: 'calcom', reason: 'body is not valid JSON' })]);
  });

  it('an oversized body: 413, nothing written', async () => {
    const before = await tableItemCount();
    const big = JSON.stringify({ ...JSON.parse(body()), padding: 'x'.repeat(40_000) });
    const response = await fetch(`${twin.webUrl}/intake/calcom`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cal-signature-256': hmacHex(twin.intake.secrets.calcom!, big) },
      body: big,
    });

    expect(response.status).toBe(413);
    expect(await tableItemCount()).toBe(before);
  });

  it('an unmapped event type or a booking with no email: 202, recorded as ignored with the reason, no session', async () => {
    const unmapped = await postCal(calBody('cal-com-booking-created', { uid: 'uid-unmapped-1', email: 'unmapped@example.com', type: 'hot-stone-90' }));
    const noEmail = JSON.parse(calBody('cal-com-booking-created', { uid: 'uid-noemail-1', email: 'x@example.com' })) as Json;
    noEmail.payload.attendees = [];
    const noEmailAnswer = await postCal(JSON.stringify(noEmail));

    expect(unmapped).toEqual({ status: 202, json: { status: 'ignored', reason: 'the event type is not mapped in the stage config', duplicate: false } });
    expect(noEmailAnswer.json).toMatchObject({ status: 'ignored', reason: 'the booking has no client email address' });
    expect(await twin.store.findClientIdByEmail('unmapped@example.com')).toBeUndefined();
    const log = await intakeStore.listDeliveries(T0, twin.clock.now().toISOString());
    expect(log.filter((d) => d.status === 'ignored').map((d) => d.reason)).toEqual(
      expect.arrayContaining(['the event type is not mapped in the stage config', 'the booking has no client email address']),
    );
  });

  it('an unknown source: 404', async () => {
    expect((await post('nope', '{}', {})).status).toBe(404);
  });
});

describe("Keepwell's own format", () => {
  it('books from a signed event, and a no-show from Cal.com marks a Cal.com session', async () => {
    const event = { ...fixture('keepwell-booking-created'), occurredAt: twin.clock.now().toISOString() };
    const answer = await postKeepwell(JSON.stringify(event));

    expect(answer.json).toMatchObject({ status: 'accepted', sessionId: intakeIds.session('front-desk', 'FD-20417') });
    expect(await sessionsOf('alex.morgan@example.com')).toEqual([
      expect.objectContaining({ start: '2027-02-11T09:00:00.000Z', location: 'Treatment room 2, 12 Quay Street' }),
    ]);

    const email = 'noshow@example.com';
    await postCal(calBody('cal-com-booking-created', { uid: 'uid-ns-1', email, start: '2027-02-25T10:00:00Z', end: '2027-02-25T11:00:00Z' }));
    await postCal(calBody('cal-com-no-show-updated', { uid: 'uid-ns-1', email }));
    expect((await sessionsOf(email))[0]).toMatchObject({ status: 'no-show' });
  });
});

describe("a booking system's text", () => {
  it('lands with control and text-direction characters removed, and the delivery record says from which fields', async () => {
    const event = fixture('keepwell-booking-created');
    event.id = 'evt-text-1';
    event.occurredAt = twin.clock.now().toISOString();
    event.booking.id = 'FD-TEXT-1';
    event.booking.location = 'Room\u001b[2J 3';
    event.booking.client = { email: 'text@example.com', name: 'Robin \u202eyeldah', timezone: 'Europe/London' };

    const answer = await postKeepwell(JSON.stringify(event));

    expect(answer.json).toMatchObject({ status: 'accepted', sessionId: intakeIds.session('front-desk', 'FD-TEXT-1') });
    const clientId = await twin.store.findClientIdByEmail('text@example.com');
    const bundle = await twin.store.getClientBundle(clientId!);
    expect(bundle?.client.name).toBe('Robin yeldah');
    expect(bundle?.sessions[0]?.location).toBe('Room [2J 3');
    const log = await intakeStore.listDeliveries(T0, twin.clock.now().toISOString());
    expect(log.find((d) => d.deliveryId === 'evt-text-1')).toMatchObject({
      status: 'accepted',
      reason: 'control or text-direction characters removed from the location, client name',
    });
  });
});

describe("a scenario's webhook event", () => {
  it('drives intake like the booking system: signed by the twin, accepted, and a refusal stops the scenario with the answer', async () => {
    const { applyEvent, ScenarioEventError } = await import('../../local/simulation/run.js');
    const { parseScenario } = await import('../../local/simulation/scenario.js');
    const body = JSON.parse(
      calBody('cal-com-booking-created', { uid: 'uid-scenario-1', email: 'scenario@example.com', start: '2027-03-20T10:00:00Z', end: '2027-03-20T11:00:00Z' }),
    ) as Record<string, unknown>;
    const ctx = { twin, mailer: undefined as never };

    await applyEvent(ctx, { at: twin.clock.now().toISOString(), type: 'webhook', source: 'calcom', body });

    expect(await sessionsOf('scenario@example.com')).toEqual([expect.objectContaining({ start: '2027-03-20T10:00:00.000Z' })]);
    await expect(
      applyEvent(ctx, { at: twin.clock.now().toISOString(), type: 'webhook', source: 'calcom', body: { triggerEvent: 'BOOKING_CREATED' } }),
    ).rejects.toThrow(ScenarioEventError);
    expect(() =>
      parseScenario({
        clinic: twin.clinic,
        therapists: [],
        clients: [],
        plans: [],
        sessions: [],
        simulate: { from: T0, until: '2027-03-01T00:00:00Z' },
        events: [{ at: T0, type: 'webhook', source: 'Cal Com', body: {} }],
      }),
    ).toThrow(/events\[0\]\.source: must be an intake source name/);
  });
});
