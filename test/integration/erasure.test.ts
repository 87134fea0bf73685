/**
 * Retention and erasure on the twin: the clinic's retention written as DynamoDB TTL on check-ins
 * and ledger entries; `keepwell client export` and `keepwell client erase` through the CLI against
 * a running twin; the tombstone that refuses a re-import and makes intake ignore a late webhook.
 * Erasure is proved by scanning the whole table and listing every schedule.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { keys } from '../../shared/adapters/dynamodb/keys.js';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { keepwellSignature } from '../../shared/intake/signature.js';
import { ERASED_CLIENT_REASON } from '../../shared/use-cases/intake.js';
import { DynamoIntakeStore } from '../../shared/adapters/dynamodb/intake-store.js';
import { runCli } from '../../local/cli/program.js';
import { twinStateOf, writeTwinState } from '../../local/cli/state.js';
import { answerCheckIn } from '../../local/simulation/actions.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { startTwin, type Twin } from '../../local/twin.js';

const T0 = '2027-02-01T08:00:00.000Z';
const stateDir = mkdtempSync(join(tmpdir(), 'kw-erase-twin-'));
const env = { ...process.env, KEEPWELL_STATE_DIR: stateDir };
const EMAIL = 'robin.quayle@erase-test.example';
const NAME = 'Robin Quayle';
const HEADER = 'type,id,name,email,timezone,clientId,therapistId,goal,phases,reminders,planId,start,durationMinutes,location';
const FILE = join(stateDir, 'clinic.csv');
const DAY_S = 86_400;
let twin: Twin;

type Item = Record<string, unknown>;
const db = () => createDocumentClient({ endpoint: twin.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

async function everyItem(): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: { Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> } = await db().send(
      new ScanCommand({ TableName: twin.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function keepwell(...args: string[]) {
  writeTwinState(twinStateOf(twin, { mode: 'fixed', at: twin.clock.now().toISOString() }, T0), stateDir);
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  await twin.settle();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function postBooking(id: string, bookingId: string, start: string) {
  const body = JSON.stringify({
    id,
    type: 'booking.created',
    occurredAt: twin.clock.now().toISOString(),
    booking: { id: bookingId, service: 'wellness-60', start, durationMinutes: 60, client: { email: EMAIL, name: NAME, timezone: 'Europe/London' } },
  });
  const response = await fetch(`${twin.webUrl}/intake/front-desk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'keepwell-signature': keepwellSignature(twin.intake.secrets['front-desk']!, body, twin.clock.now()) },
    body,
  });
  await twin.settle();
  return { status: response.status, json: (await response.json()) as Item };
}

/** Everything in the table or the Scheduler that still names the client, or holds their address or name. */
async function tracesOf(clientId: string, subjects: readonly string[]) {
  const items = (await everyItem()).filter((i) => !String(i.pk).startsWith('ERASED#'));
  const text = (i: Item) => JSON.stringify(i).toLowerCase();
  return {
    items: items
      .filter((i) => i.clientId === clientId || String(i.pk) === `CLIENT#${clientId}` || text(i).includes(EMAIL) || text(i).includes(NAME.toLowerCase()))
      .map((i) => `${String(i.pk)} ${String(i.sk)}`),
    schedules: twin.scheduler
      .list()
      .map((s) => s.name)
      .filter((name) => subjects.some((id) => name.includes(id))),
  };
}

beforeAll(async () => {
  twin = await startTwin({
    clinic: {
      name: 'Harbour Clinical Massage',
      senderEmail: 'care@harbour-massage.example',
      timezone: 'Europe/London',
      baseUrl: 'http://localhost:3000',
      retention: { checkInDays: 400, ledgerDays: 60 },
    },
    clock: { mode: 'virtual', start: new Date(T0) },
    dynamoEndpoint: inject('dynamoEndpoint'),
    sesEndpoint: inject('sesEndpoint'),
    recurring: false,
  });
  writeFileSync(
    FILE,
    [
      HEADER,
      'therapist,t-amy,Amy Chen,amy@erase-test.example,Europe/London,,,,,,,,,',
      `client,c-rob,${NAME},${EMAIL},Europe/London,,,,,,,,,`,
      'plan,p-rob,,,,c-rob,t-amy,back-pain,initial:6x7d;maintenance:28d,P1D PT2H,,,,',
      'session,s-rob-1,,,,,,,,,p-rob,2027-02-02T10:00:00Z,60,Room 2',
      'session,s-rob-2,,,,,,,,,p-rob,2027-02-09T10:00:00Z,60,Room 2',
    ].join('\n'),
  );
  expect((await keepwell('import', FILE)).code).toBe(0);
  // A booking from the front desk's system, the check-in email after the first session, its answers.
  expect((await postBooking('evt-rob-1', 'FD-ROB-1', '2027-02-20T10:00:00Z')).json).toMatchObject({ status: 'accepted' });
  await twin.advanceTo('2027-02-03T12:00:00.000Z');
  await answerCheckIn(
    twin,
    mailerFromEnv(),
    { clientId: 'c-rob', sessionId: 's-rob-1', answers: { pain: 4, mobility: 6, stress: 3, sleep: 7, notes: 'left shoulder still tight' } },
    twin.clock.now(),
  );
  await twin.settle();
});

afterAll(async () => {
  await twin?.close();
});

describe('retention', () => {
  it('writes the TTL of a check-in from its answer time, and of a ledger entry from its last write', async () => {
    const checkIn = (await db().send(new GetCommand({ TableName: twin.tableName, Key: keys.checkIn('c-rob', 's-rob-1') }))).Item!;
    expect(checkIn.expiresAt).toBe(Date.parse(String(checkIn.answeredAt)) / 1000 + 400 * DAY_S);
    const ledger = (await everyItem()).filter((i) => i.type === 'message' && i.clientId === 'c-rob');
    expect(ledger.length).toBeGreaterThan(0);
    for (const entry of ledger) expect(entry.expiresAt).toBe(Math.floor(Date.parse(String(entry.claimedAt ?? entry.updatedAt)) / 1000) + 60 * DAY_S);
  });
});

describe('keepwell client export', () => {
  it('prints everything held about the client as JSON: profile, plans, sessions, answers, messages, bookings', async () => {
    const { code, out } = await keepwell('client', 'export', 'c-rob');
    expect(code).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: JSON read back from the CLI, checked by the assertions
    const data = JSON.parse(out) as Record<string, any>;
    expect(data.client).toMatchObject({ id: 'c-rob', name: NAME, email: EMAIL });
    expect(data.plans.map((p: Item) => p.id)).toEqual(expect.arrayContaining(['p-rob']));
    expect(data.sessions.map((s: Item) => s.id)).toEqual(expect.arrayContaining(['s-rob-1', 's-rob-2']));
    expect(data.sessions).toHaveLength(3);
    expect(data.checkIns).toEqual([expect.objectContaining({ sessionId: 's-rob-1', notes: 'left shoulder still tight' })]);
    expect(data.messages.length).toBeGreaterThan(0);
    expect(data.bookingLinks).toEqual([expect.objectContaining({ source: 'front-desk', bookingId: 'FD-ROB-1' })]);
    expect(data.intakeDeliveries).toEqual([expect.objectContaining({ deliveryId: 'evt-rob-1', status: 'accepted' })]);
    expect(JSON.stringify(data)).not.toMatch(/"(pk|sk|gsi\dpk|gsi\dsk)"/);
  });

  it('names an unknown client', async () => {
    expect(await keepwell('client', 'export', 'c-nobody')).toMatchObject({ code: 1, err: 'keepwell: client "c-nobody" does not exist' });
  });
});

describe('keepwell client erase', () => {
  let subjects: string[] = [];

  it('removes every item of the client and every schedule, leaves only a tombstone, and reports it', async () => {
    const bundle = await twin.store.getClientBundle('c-rob');
    subjects = [...bundle!.sessions.map((s) => s.id), ...bundle!.plans.map((p) => p.id)];
    const before = await tracesOf('c-rob', subjects);
    expect(before.items.length).toBeGreaterThan(10);
    expect(before.schedules.length).toBeGreaterThan(0);

    const { code, out } = await keepwell('client', 'erase', 'c-rob');

    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(
        `^erased client c-rob from local twin \\(table ${twin.tableName}\\): ${before.items.length} item\\(s\\) removed \\(.*\\b1 client\\b.*\\b3 session\\b.*\\), ${before.schedules.length} schedule\\(s\\) deleted`,
      ),
    );
    for (const name of before.schedules) expect(out).toContain(`  schedule ${name}`);
    expect(await tracesOf('c-rob', subjects)).toEqual({ items: [], schedules: [] });
    const tombstones = (await everyItem()).filter((i) => String(i.pk).startsWith('ERASED#'));
    expect(tombstones.map((t) => String(t.pk)).sort()).toEqual([keys.erased('c-rob').pk, keys.erasedEmail(EMAIL).pk].sort());
    for (const t of tombstones) expect(Object.keys(t).sort()).toEqual(['clientId', 'erasedAt', 'pk', 'sk', 'type']);
  });

  it('refuses a re-import of the same client, by id and by address, and writes nothing', async () => {
    const before = (await everyItem()).length;
    const again = await keepwell('import', FILE);
    expect(again.code).toBe(1);
    expect(again.err).toContain('(client c-rob): client "c-rob" was erased on 2027-02-03 (keepwell client erase): an erased client is not imported again');

    const renamed = join(stateDir, 'renamed.csv');
    writeFileSync(renamed, [HEADER, `client,c-rob-2,${NAME},${EMAIL.toUpperCase()},Europe/London,,,,,,,,,`].join('\n'));
    const byAddress = await keepwell('import', renamed);
    expect(byAddress.code).toBe(1);
    expect(byAddress.err).toContain('(client c-rob-2): email: the address was erased on 2027-02-03');
    expect((await everyItem()).length).toBe(before);
  });

  it('records a late webhook for the erased client as ignored, with the reason, and brings nothing back', async () => {
    const answer = await postBooking('evt-rob-2', 'FD-ROB-2', '2027-03-01T10:00:00Z');
    expect(answer).toEqual({ status: 202, json: { status: 'ignored', reason: ERASED_CLIENT_REASON, duplicate: false } });
    expect(await twin.store.findClientIdByEmail(EMAIL)).toBeUndefined();
    const intake = new DynamoIntakeStore({ tableName: twin.tableName, client: db() });
    const log = await intake.listDeliveries(T0, twin.clock.now().toISOString());
    expect(log.find((d) => d.deliveryId === 'evt-rob-2')).toMatchObject({ status: 'ignored', reason: ERASED_CLIENT_REASON });
    expect((await tracesOf('c-rob', subjects)).schedules).toEqual([]);
  });

  it('says so when run again, and finds nothing more to remove', async () => {
    const { code, out } = await keepwell('client', 'erase', 'c-rob');
    expect(code).toBe(0);
    expect(out).toContain('erased client c-rob from local twin');
    expect(out).toContain('(erased before, on 2027-02-03');
    expect(out).toContain(': 0 item(s) removed, 0 schedule(s) deleted');
  });
});
