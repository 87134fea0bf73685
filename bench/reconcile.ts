/**
 * Two costs of keeping schedules in line, measured on DynamoDB Local and the local Scheduler.
 *
 * 1. Reconcile's DynamoDB reads per pass, as the table grows around the same look-ahead window.
 *    Forty clients with a session in the window are written through the store's writers; other
 *    sessions (with their clients and plans) are bulk-loaded in the store's key layout with
 *    BatchWriteItem, spread over two years on either side of the window but not in it, first to
 *    10,000 sessions, then to 100,000. A first pass heals the window (every schedule is missing);
 *    the measured passes are the hourly steady state at each size. Target: ratio within 1.1.
 * 2. Scheduler API calls per session change, counted on the wire: a reschedule of a session with two
 *    reminders and a check-in (at most 3 deletes + 3 creates), and a change of room (no call).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { bulkLoad } from './support/seed.js';
import { createHandler as createSyncHandler } from '../functions/sync-schedules/handler.js';
import { virtualClock } from '../local/clock.js';
import { startLocalScheduler, type LocalScheduler } from '../local/scheduler/server.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/services.js';
import { startStreamPoller } from '../local/stream-poller.js';
import { createDocumentClient, newMeter } from '../shared/adapters/dynamodb/client.js';
import { keys } from '../shared/adapters/dynamodb/keys.js';
import { DynamoStore } from '../shared/adapters/dynamodb/store.js';
import { EventBridgeMessageScheduler } from '../shared/adapters/scheduler/eventbridge.js';
import { clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../shared/domain/model.js';
import type { Clock } from '../shared/ports/clock.js';
import { bookSession, rescheduleSession } from '../shared/use-cases/manage-plans.js';
import { reconcile, type ReconcileCounts } from '../shared/use-cases/reconcile.js';

const READS_TABLE = 'kw-bench-reconcile';
const SYNC_TABLE = 'kw-bench-sync';
const GROUP = 'keepwell-bench';
const DISPATCH_ARN = 'arn:aws:lambda:eu-west-2:000000000000:function:keepwell-dispatch';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/keepwell-scheduler';
const DLQ_ARN = 'arn:aws:sqs:eu-west-2:000000000000:keepwell-schedule-dlq';
const NOW = '2027-03-10T09:00:00.000Z';
const WINDOW = { lookBackHours: 48, lookAheadHours: 72 } as const;
const SIZES = [10_000, 100_000] as const;
const TARGET_RATIO = 1.1;
const WINDOW_CLIENTS = 40;
const SESSIONS_PER_NOISE_CLIENT = 20;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const clinic = clinicSchema.parse({ name: 'Bench Clinic', senderEmail: 'care@bench.example', timezone: 'Europe/London', baseUrl: 'https://bench.example' });
const therapist = therapistSchema.parse({ id: 't-bench', name: 'Bea Bench', email: 'bea@bench.example', timezone: 'Europe/London' });
const fixedClock = (at: string): Clock => ({ now: () => new Date(at) });

// Noise sessions avoid the window's days (with a day to spare) so both sizes reconcile the same sessions.
const WINDOW_FIRST_DAY = Date.parse(NOW.slice(0, 10)) - Math.ceil(WINDOW.lookBackHours / 24 + 1) * DAY_MS;
const WINDOW_LAST_DAY = Date.parse(NOW.slice(0, 10)) + Math.ceil(WINDOW.lookAheadHours / 24 + 1) * DAY_MS;
const NOISE_FIRST = Date.parse('2026-03-10T08:00:00Z');
const NOISE_DAYS = 730;

/** The forty clients in the window, each with a plan and a session between now−36 h and now+60 h. */
async function seedWindow(store: DynamoStore): Promise<number> {
  await store.putTherapist(therapist);
  for (let c = 0; c < WINDOW_CLIENTS; c++) {
    const clientId = `c-window-${c}`;
    const planId = `p-window-${c}`;
    await store.putClient(clientSchema.parse({ id: clientId, name: `Client ${c}`, email: `${clientId}@bench.example`, timezone: 'Europe/London' }));
    await store.putPlan(
      planSchema.parse({
        id: planId,
        clientId,
        therapistId: therapist.id,
        goal: 'back-pain',
        phases: [
          { name: 'initial', sessions: 6, everyDays: 7 },
          { name: 'maintenance', everyDays: 28 },
        ],
      }),
    );
    const start = Date.parse(NOW) - 36 * HOUR_MS + c * ((96 * HOUR_MS) / WINDOW_CLIENTS);
    await store.saveSession(sessionSchema.parse({ id: `s-window-${c}`, planId, start: iso(start), durationMinutes: 60, location: 'Room 1' }));
  }
  return WINDOW_CLIENTS;
}

function noiseStart(n: number): number {
  for (let day = n % NOISE_DAYS; ; day = (day + 7) % NOISE_DAYS) {
    const start = NOISE_FIRST + day * DAY_MS + (n % 10) * HOUR_MS;
    if (start < WINDOW_FIRST_DAY || start >= WINDOW_LAST_DAY) return start;
  }
}

/** Items of the noise client owning session n: the session, and (for its first session) the client and plan. */
function noiseItems(n: number): Record<string, unknown>[] {
  const owner = Math.floor(n / SESSIONS_PER_NOISE_CLIENT);
  const clientId = `c-noise-${owner}`;
  const planId = `p-noise-${owner}`;
  const sessionId = `s-noise-${n}`;
  const start = iso(noiseStart(n));
  const session = {
    ...keys.session(clientId, sessionId),
    type: 'session',
    id: sessionId,
    planId,
    clientId,
    therapistId: therapist.id,
    start,
    durationMinutes: 60,
    location: 'Room 3, Harbour Street clinic, second floor',
    status: start < NOW ? 'completed' : 'booked',
    version: 1,
    number: (n % SESSIONS_PER_NOISE_CLIENT) + 1,
    phase: 'maintenance',
    maintenance: true,
    gsi1pk: keys.sessionsDay(start.slice(0, 10)),
    gsi1sk: `${start}#${sessionId}`,
    gsi2pk: keys.therapistIndex(therapist.id),
    gsi2sk: `SESSION#${start}#${sessionId}`,
    updatedAt: NOW,
  };
  if (n % SESSIONS_PER_NOISE_CLIENT !== 0) return [session];
  const client = {
    ...keys.client(clientId),
    type: 'client',
    id: clientId,
    name: `Noise Client ${owner}`,
    email: `${clientId}@bench.example`,
    timezone: 'Europe/London',
    preferences: { reminders: true, 'check-ins': true, maintenance: true },
    updatedAt: NOW,
  };
  const plan = {
    ...keys.plan(clientId, planId),
    type: 'plan',
    id: planId,
    clientId,
    therapistId: therapist.id,
    goal: 'general-wellness',
    phases: [{ name: 'maintenance', everyDays: 28 }],
    reminders: ['P2D', 'PT2H'],
    checkInAfter: 'PT24H',
    status: 'active',
    gsi2pk: keys.therapistIndex(therapist.id),
    gsi2sk: `PLAN#${planId}`,
    updatedAt: NOW,
  };
  return [client, plan, session];
}

/** A local Scheduler (virtual clock: nothing fires) and a client that counts the calls it sends. */
async function schedulerAt(at: string): Promise<{ local: LocalScheduler; client: SchedulerClient; adapter: EventBridgeMessageScheduler; calls: string[] }> {
  const local = await startLocalScheduler({ clock: virtualClock(new Date(at)), region: LOCAL_REGION, targets: { [DISPATCH_ARN]: async () => undefined } });
  const client = new SchedulerClient({ endpoint: local.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countSchedulerCalls' },
  );
  await client.send(new CreateScheduleGroupCommand({ Name: GROUP }));
  calls.length = 0;
  const adapter = new EventBridgeMessageScheduler({ client, groupName: GROUP, targetArn: DISPATCH_ARN, roleArn: ROLE_ARN, deadLetterArn: DLQ_ARN });
  return { local, client, adapter, calls };
}

interface PassCost {
  readonly itemsRead: number;
  readonly readRequests: number;
  readonly readUnits: number;
  readonly schedulerCalls: number;
  readonly counts: ReconcileCounts;
  readonly ms: number;
}

async function measurePass(db: DynamoDBDocumentClient, scheduler: { adapter: EventBridgeMessageScheduler; calls: string[] }): Promise<PassCost> {
  const meter = newMeter();
  const store = new DynamoStore({ tableName: READS_TABLE, client: db, meter, now: () => new Date(NOW) });
  scheduler.calls.length = 0;
  const started = performance.now();
  const counts = await reconcile({ store, ledger: store, scheduler: scheduler.adapter, clinic, clock: fixedClock(NOW) }, WINDOW);
  const ms = Math.round(performance.now() - started);
  const readRequests = Object.entries(meter.byOperation).reduce((sum, [operation, count]) => sum + (/Get|Query/.test(operation) ? count : 0), 0);
  return { itemsRead: meter.itemsRead, readRequests, readUnits: Math.round(meter.readUnits * 10) / 10, schedulerCalls: scheduler.calls.length, counts, ms };
}

async function readsAsTheTableGrows(endpoint: string): Promise<Record<string, unknown>> {
  const db = createDocumentClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const scheduler = await schedulerAt(NOW);
  try {
    await createTable(endpoint, READS_TABLE);
    const inWindow = await seedWindow(new DynamoStore({ tableName: READS_TABLE, client: db, now: () => new Date(NOW) }));
    const healingPass = await measurePass(db, scheduler);

    const bySize: Record<string, PassCost & { seedSeconds: number }> = {};
    let loaded = inWindow;
    for (const size of SIZES) {
      const started = performance.now();
      await bulkLoad(db, READS_TABLE, loaded - inWindow, size - inWindow, noiseItems);
      loaded = size;
      const seedSeconds = Math.round((performance.now() - started) / 100) / 10;
      bySize[`${size}`] = { ...(await measurePass(db, scheduler)), seedSeconds };
    }
    const small = bySize[`${SIZES[0]}`]!;
    const large = bySize[`${SIZES[1]}`]!;
    const ratio = {
      itemsRead: Math.round((large.itemsRead / small.itemsRead) * 1000) / 1000,
      readRequests: Math.round((large.readRequests / small.readRequests) * 1000) / 1000,
      readUnits: Math.round((large.readUnits / small.readUnits) * 1000) / 1000,
    };
    return {
      what: 'DynamoDB reads of one steady-state reconcile pass (window: 48 h back, 72 h ahead)',
      sessionsInWindow: inWindow,
      firstPassHealed: healingPass.counts.healed,
      sessionsInTable: bySize,
      ratio,
      target: `≤ ${TARGET_RATIO}`,
      withinTarget: Object.values(ratio).every((r) => r <= TARGET_RATIO),
    };
  } finally {
    db.destroy();
    scheduler.client.destroy();
    await scheduler.local.close();
  }
}

/** Scheduler calls caused by one session change, through the stream and the real sync-schedules handler. */
async function callsPerChange(endpoint: string): Promise<Record<string, unknown>> {
  const BOOKED_AT = '2027-03-01T09:00:00.000Z';
  await createTable(endpoint, SYNC_TABLE);
  const db = createDocumentClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const store = new DynamoStore({ tableName: SYNC_TABLE, client: db, now: () => new Date(BOOKED_AT) });
  const scheduler = await schedulerAt(BOOKED_AT);
  const sync = createSyncHandler({
    store,
    ledger: store,
    scheduler: scheduler.adapter,
    clinic,
    clock: fixedClock(BOOKED_AT),
    logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
  });
  const poller = startStreamPoller({ dynamoEndpoint: endpoint, tableName: SYNC_TABLE, handler: sync, polling: false });
  try {
    await store.putTherapist(therapist);
    await store.putClient(clientSchema.parse({ id: 'c-sync', name: 'Sync Client', email: 'sync@bench.example', timezone: 'Europe/London' }));
    await store.putPlan(
      planSchema.parse({
        id: 'p-sync',
        clientId: 'c-sync',
        therapistId: therapist.id,
        goal: 'back-pain',
        phases: [{ name: 'initial', sessions: 6, everyDays: 7 }],
      }),
    );
    await poller.drain();

    const countCalls = async (change: () => Promise<unknown>) => {
      scheduler.calls.length = 0;
      await change();
      await poller.drain();
      const byOp: Record<string, number> = {};
      for (const op of scheduler.calls) byOp[op] = (byOp[op] ?? 0) + 1;
      return byOp;
    };
    const booking = await countCalls(() =>
      bookSession(store, { id: 's-sync', planId: 'p-sync', start: '2027-03-10T10:00:00Z', durationMinutes: 60, location: 'Room 1' }),
    );
    const reschedule = await countCalls(() => rescheduleSession(store, 's-sync', '2027-03-12T15:00:00Z'));
    const roomChange = await countCalls(async () => store.saveSession({ ...(await store.findSession('s-sync'))!, location: 'Room 2' }));
    const total = (byOp: Record<string, number>) => Object.values(byOp).reduce((a, b) => a + b, 0);
    return {
      what: 'Scheduler API calls per session change (2 reminders + a check-in)',
      booking,
      reschedule,
      roomChange,
      withinTarget: total(reschedule) <= 6 && total(roomChange) === 0 && total(booking) <= 3,
      target: 'reschedule ≤ 3 deletes + 3 creates; room change 0',
    };
  } finally {
    await poller.stop();
    db.destroy();
    scheduler.client.destroy();
    await scheduler.local.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const dynamo = await startDynamoDbLocal();
  try {
    return {
      reconcileReads: await readsAsTheTableGrows(dynamo.endpoint),
      schedulerCallsPerChange: await callsPerChange(dynamo.endpoint),
    };
  } finally {
    await dynamo.stop();
  }
}
