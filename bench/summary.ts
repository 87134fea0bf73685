/**
 * What one therapist's summary reads from DynamoDB, as the table grows around it.
 *
 * One therapist's month (clients, plans, weekly sessions, check-ins, a reschedule request) is
 * written through the store's writers; then other therapists' sessions are bulk-loaded in the
 * store's key layout with BatchWriteItem, first to 10,000 sessions in the table, then to 100,000.
 * At each size the same summary is sent (to an in-memory mailer: SES is not what is measured) and
 * the store's CapacityMeter counts requests, items and read units. The summary's reads should
 * follow the therapist's activity, not the table: the target is a ratio within 1.1.
 */
import { renderTrendChart, type ChartPoint } from '../shared/email/chart.js';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { bulkLoad } from './support/seed.js';
import { createDocumentClient, newMeter, type CapacityMeter } from '../shared/adapters/dynamodb/client.js';
import { keys } from '../shared/adapters/dynamodb/keys.js';
import { DynamoStore } from '../shared/adapters/dynamodb/store.js';
import { checkInAnswersSchema, clientSchema, clinicSchema, planSchema, sessionSchema, therapistSchema } from '../shared/domain/model.js';
import { toInstant } from '../shared/domain/time.js';
import type { Mailer } from '../shared/ports/mailer.js';
import { sendSummary } from '../shared/use-cases/send-summaries.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/services.js';

const TABLE = 'kw-bench-summary';
const SUMMARY_AT = toInstant('2027-03-10T07:00:00.000Z');
const SIZES = [10_000, 100_000] as const;
const TARGET_RATIO = 1.1;
const ACTIVE_CLIENTS = 40;
const OTHER_THERAPISTS = 50;

const clinic = clinicSchema.parse({ name: 'Bench Clinic', senderEmail: 'care@bench.example', timezone: 'Europe/London', baseUrl: 'https://bench.example' });
const therapist = therapistSchema.parse({ id: 't-bench', name: 'Bea Bench', email: 'bea@bench.example', timezone: 'Europe/London' });
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const nullMailer: Mailer = { send: async () => ({ messageId: 'bench' }) };

const DAY_MS = 86_400_000;
const iso = (ms: number) => toInstant(ms);

/** The measured therapist's month: weekly sessions, most answered, the latest in the summary's period. */
async function seedTherapistMonth(store: DynamoStore): Promise<number> {
  await store.putTherapist(therapist);
  let sessions = 0;
  for (let c = 0; c < ACTIVE_CLIENTS; c++) {
    const clientId = `c-bench-${c}`;
    await store.putClient(clientSchema.parse({ id: clientId, name: `Client ${c}`, email: `${clientId}@bench.example`, timezone: 'Europe/London' }));
    await store.putPlan(
      planSchema.parse({
        id: `p-bench-${c}`,
        clientId,
        therapistId: therapist.id,
        goal: 'back-pain',
        phases: [
          { name: 'initial', sessions: 6, everyDays: 7 },
          { name: 'maintenance', everyDays: 28 },
        ],
      }),
    );
    // Sessions on 8 Feb … 8 Mar at 09:00 + c minutes, then one booked for 10 Mar.
    for (let week = 0; week < 6; week++) {
      const start = Date.parse('2027-02-08T09:00:00Z') + week * 7 * DAY_MS + (c % 8) * 3_600_000 + (week === 5 ? 2 * DAY_MS : 0);
      const sessionId = `s-bench-${c}-${week}`;
      await store.saveSession(
        sessionSchema.parse({
          id: sessionId,
          planId: `p-bench-${c}`,
          start: iso(start),
          durationMinutes: 60,
          location: 'Room 1',
          status: week === 5 ? 'booked' : 'completed',
        }),
      );
      sessions += 1;
      const answeredAt = start + 20 * 3_600_000;
      // Every fifth client leaves the last check-in unanswered.
      if (week < 5 && !(week === 4 && c % 5 === 0)) {
        const answers = checkInAnswersSchema.parse({
          pain: Math.max(0, 8 - week - (c % 3)),
          mobility: 3 + week,
          stress: 6 - (week % 3),
          sleep: 4 + (week % 4),
          notes: week === 4 ? 'Better this week.' : '',
        });
        await store.recordCheckIn({ clientId, sessionId, answers, at: iso(answeredAt) });
      }
    }
  }
  await store.recordRescheduleRequest({
    sessionId: 's-bench-1-5',
    clientId: 'c-bench-1',
    planId: 'p-bench-1',
    therapistId: therapist.id,
    message: 'Could we do later?',
    at: toInstant('2027-03-09T15:00:00.000Z'),
  });
  return sessions;
}

/** A session item of another therapist, exactly as DynamoStore.saveSession lays it out. */
function noiseSession(n: number): Record<string, unknown> {
  const clientId = `c-noise-${Math.floor(n / 20)}`;
  const sessionId = `s-noise-${n}`;
  const therapistId = `t-noise-${n % OTHER_THERAPISTS}`;
  // Spread over a year around the summary, so some share its days and its period.
  const start = iso(Date.parse('2026-09-10T08:00:00Z') + (n % 365) * DAY_MS + (n % 10) * 3_600_000);
  return {
    ...keys.session(clientId, sessionId),
    type: 'session',
    id: sessionId,
    planId: `p-noise-${Math.floor(n / 20)}`,
    clientId,
    therapistId,
    start,
    durationMinutes: 60,
    location: 'Room 3, Harbour Street clinic, second floor',
    status: 'completed',
    version: 1,
    number: (n % 20) + 1,
    phase: 'maintenance',
    maintenance: true,
    gsi1pk: keys.sessionsDay(start.slice(0, 10)),
    gsi1sk: `${start}#${sessionId}`,
    gsi2pk: keys.therapistIndex(therapistId),
    gsi2sk: `SESSION#${start}#${sessionId}`,
    updatedAt: SUMMARY_AT,
  };
}

interface Reads {
  readonly requests: number;
  readonly itemsRead: number;
  readonly readUnits: number;
  readonly ms: number;
}

async function measureOneSummary(db: DynamoDBDocumentClient): Promise<Reads> {
  const meter: CapacityMeter = newMeter();
  const store = new DynamoStore({ tableName: TABLE, client: db, meter });
  const started = performance.now();
  const result = await sendSummary({ store, ledger: store, mailer: nullMailer, clinic, logger: silent }, therapist, SUMMARY_AT);
  const ms = performance.now() - started;
  if (result.outcome !== 'sent') throw new Error(`the summary was not sent: ${result.outcome} ${result.reason ?? ''}`);
  // Forget it was sent, so the next size measures the same summary again.
  await db.send(new DeleteCommand({ TableName: TABLE, Key: keys.message(result.message!) }));
  const readRequests = Object.entries(meter.byOperation).reduce((n, [operation, count]) => n + (/Get|Query/.test(operation) ? count : 0), 0);
  return { requests: readRequests, itemsRead: meter.itemsRead, readUnits: Math.round(meter.readUnits * 10) / 10, ms: Math.round(ms) };
}

/** Milliseconds to draw one client's trend chart (12 check-ins, SVG to PNG), after a warm-up. */
async function chartMsPerClient(): Promise<{ ms: number; pngBytes: number }> {
  const points: ChartPoint[] = Array.from({ length: 12 }, (_, i) => ({
    scores: { pain: 7 - (i % 5), mobility: 3 + (i % 4), stress: 6 - (i % 3), sleep: 4 + (i % 5) },
    isBaseline: i === 0,
    phaseIndex: i < 6 ? 0 : 1,
  }));
  const warm = await renderTrendChart(points);
  const runs = 50;
  const started = performance.now();
  for (let i = 0; i < runs; i++) await renderTrendChart(points);
  return { ms: Math.round(((performance.now() - started) / runs) * 10) / 10, pngBytes: warm.png.length };
}

export async function run(): Promise<Record<string, unknown>> {
  const dynamo = await startDynamoDbLocal();
  const db = createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    await createTable(dynamo.endpoint, TABLE);
    const own = await seedTherapistMonth(new DynamoStore({ tableName: TABLE, client: db }));

    const bySize: Record<string, Reads & { seedSeconds: number }> = {};
    let loaded = own;
    for (const size of SIZES) {
      const started = performance.now();
      await bulkLoad(db, TABLE, loaded - own, size - own, (n) => [noiseSession(n)]);
      loaded = size;
      const seedSeconds = Math.round((performance.now() - started) / 100) / 10;
      bySize[`${size}`] = { ...(await measureOneSummary(db)), seedSeconds };
    }
    const small = bySize[`${SIZES[0]}`]!;
    const large = bySize[`${SIZES[1]}`]!;
    const ratio = {
      requests: Math.round((large.requests / small.requests) * 1000) / 1000,
      itemsRead: Math.round((large.itemsRead / small.itemsRead) * 1000) / 1000,
      readUnits: Math.round((large.readUnits / small.readUnits) * 1000) / 1000,
    };
    return {
      what: 'DynamoDB reads of one therapist summary (reads only: the ledger claim and mark are writes)',
      therapistActivity: { clients: ACTIVE_CLIENTS, ownSessions: own },
      sessionsInTable: bySize,
      ratio,
      target: `≤ ${TARGET_RATIO}`,
      withinTarget: Object.values(ratio).every((r) => r <= TARGET_RATIO),
      trendChart: await chartMsPerClient(),
    };
  } finally {
    db.destroy();
    await dynamo.stop();
  }
}
