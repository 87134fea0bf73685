/**
 * What one booking webhook costs intake in DynamoDB requests, on DynamoDB Local with the
 * CapacityMeter, through the real request path (receiveIntake: signature, Cal.com format, the
 * use case, DynamoIntakeStore). Target: ≤ 4 requests for a booking of a known client (one
 * BatchGetItem, one Query of the client's partition, one TransactWriteItems), the same with 100
 * past sessions. Baseline from the same run: booking the same session through the writers' use case
 * (`keepwell session book`: bookSession on DynamoStore).
 * And an iCalendar feed poll (pollFeeds, with a counting fetch of the fixture feed): the first poll,
 * then an unchanged feed. Target: one HTTP request (a 304) and no table write.
 */
import { clinicSchema } from '../shared/domain/model.js';
import { readFileSync } from 'node:fs';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../local/services.js';
import { createDocumentClient, newMeter, type CapacityMeter } from '../shared/adapters/dynamodb/client.js';
import { DynamoIntakeStore } from '../shared/adapters/dynamodb/intake-store.js';
import { DynamoStore } from '../shared/adapters/dynamodb/store.js';
import { resolveIntakeConfig } from '../shared/intake/config.js';
import { receiveIntake } from '../shared/intake/receive.js';
import { hmacHex } from '../shared/intake/signature.js';
import { bookSession } from '../shared/use-cases/manage-plans.js';
import { receiveBookingChange } from '../shared/use-cases/intake.js';
import { pollFeeds, type FeedFetcher, type PollDeps } from '../shared/use-cases/poll-feeds.js';

const TARGET_REQUESTS = 4;
const SECRET = 'bench-webhook-secret-0123456789';
const NOW = new Date('2027-02-01T08:00:00.000Z');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const fixture = readFileSync(new URL('../test/fixtures/intake/cal-com-booking-created.json', import.meta.url), 'utf8');
const cdkDev = (JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: { stages: { dev: { intake: unknown } } } }).context
  .stages.dev.intake;

function body(uid: string, email: string, start: string, tick: number): Buffer {
  const b = JSON.parse(fixture) as { createdAt: string; payload: { uid: string; startTime: string; endTime: string; attendees: Array<{ email: string }> } };
  b.createdAt = new Date(NOW.getTime() + tick).toISOString();
  b.payload.uid = uid;
  b.payload.startTime = start;
  b.payload.endTime = new Date(Date.parse(start) + 3_600_000).toISOString();
  b.payload.attendees[0]!.email = email;
  return Buffer.from(JSON.stringify(b));
}

export async function run(): Promise<Record<string, unknown>> {
  const dynamo = await startDynamoDbLocal();
  try {
    const tableName = 'kw-bench-intake';
    await createTable(dynamo.endpoint, tableName);
    const client = createDocumentClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const meter: CapacityMeter = newMeter();
    const intake = new DynamoIntakeStore({ tableName, client, meter, now: () => NOW });
    const store = new DynamoStore({ tableName, client, meter, now: () => NOW });
    await store.putTherapist({
      id: 't-amy',
      name: 'Amy Chen',
      email: 'amy@harbour-massage.example',
      timezone: 'Europe/London',
      summary: { cadence: 'daily', hour: 7, weekday: 1, whenEmpty: 'one-line' },
    });
    const deps = {
      config: resolveIntakeConfig(cdkDev, 'bench'),
      clinic: clinicSchema.parse({ name: 'Bench', senderEmail: 'a@b.example', timezone: 'Europe/London', baseUrl: 'https://x.example' }),
      store: intake,
      secret: async () => SECRET,
      now: () => NOW,
      log: silent,
    };
    let tick = 0;
    const post = async (uid: string, email: string, start: string, raw = body(uid, email, start, ++tick)) => {
      Object.assign(meter, newMeter());
      const answer = await receiveIntake(deps, { method: 'POST', path: '/intake/calcom', headers: { 'x-cal-signature-256': hmacHex(SECRET, raw) }, body: raw });
      if (answer.status !== 200) throw new Error(`bench webhook answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return { requests: meter.requests, byOperation: { ...meter.byOperation } };
    };

    const newClient = await post('uid-1', 'known@example.com', '2027-02-10T10:00:00Z');
    const knownClient = await post('uid-2', 'known@example.com', '2027-02-20T10:00:00Z');
    const repeat = body('uid-2b', 'known@example.com', '2027-02-27T10:00:00Z', ++tick);
    await post('uid-2b', 'known@example.com', '2027-02-27T10:00:00Z', repeat);
    const duplicate = await post('uid-2b', 'known@example.com', '2027-02-27T10:00:00Z', repeat);

    for (let i = 0; i < 100; i++)
      await post(`uid-h${i}`, 'history@example.com', new Date(Date.parse('2025-01-01T10:00:00Z') + i * 7 * 86_400_000).toISOString());
    const knownClient100 = await post('uid-h-next', 'history@example.com', '2027-03-01T10:00:00Z');

    // Baseline: the same booking of a known client through the writers' use case.
    const planId = (await store.findSession((await intake.loadIntakeState({ source: 'calcom', deliveryId: '-', bookingId: 'uid-1' })).link!.sessionId!))!
      .planId;
    Object.assign(meter, newMeter());
    await bookSession(store, { id: 's-baseline', planId, start: '2027-03-05T10:00:00Z', durationMinutes: 60, location: 'Room 1' });
    const baseline = { requests: meter.requests, byOperation: { ...meter.byOperation } };

    // An iCalendar feed: first poll, then the same feed again (the server answers 304 to its ETag).
    const feedBody = readFileSync(new URL('../test/fixtures/intake/front-desk-feed.ics', import.meta.url), 'utf8');
    let httpRequests = 0;
    const fetchFeed: FeedFetcher = async (_url, headers) => {
      httpRequests++;
      return headers['if-none-match'] === '"v1"' ? { status: 304, body: '' } : { status: 200, etag: '"v1"', body: feedBody };
    };
    const feedConfig = resolveIntakeConfig(
      {
        sources: {
          desk: {
            format: 'ical',
            url: 'https://calendar.example/desk.ics',
            services: [
              {
                eventType: '*',
                therapistId: 't-amy',
                location: 'Room 2',
                plan: { goal: 'general-wellness', phases: [{ name: 'maintenance', everyDays: 28 }] },
              },
            ],
          },
        },
      },
      'bench',
    );
    const feedIntake = { store: intake, clinic: { timezone: 'Europe/London' }, now: () => NOW };
    const pollDeps: PollDeps = {
      config: feedConfig,
      ...feedIntake,
      fetch: fetchFeed,
      applyChange: (source, config, event) => receiveBookingChange(feedIntake, source, config, event),
      log: silent,
    };
    const feedPoll = async () => {
      Object.assign(meter, newMeter());
      httpRequests = 0;
      await pollFeeds(pollDeps);
      const writes = Object.entries(meter.byOperation)
        .filter(([op]) => /Put|Update|Delete|Write/.test(op))
        .reduce((n, [, c]) => n + c, 0);
      return { httpRequests, dynamoRequests: meter.requests, tableWrites: writes };
    };
    const feedFirstPoll = await feedPoll();
    const feedUnchanged = await feedPoll();

    return {
      target: { requestsForKnownClient: TARGET_REQUESTS, unchangedFeed: { httpRequests: 1, tableWrites: 0 } },
      feedFirstPoll,
      feedUnchanged,
      newClientBooking: newClient,
      knownClientBooking: knownClient,
      knownClientWith100PastSessions: knownClient100,
      duplicateDelivery: duplicate,
      baselineSessionBook: baseline,
      withinTarget:
        knownClient.requests <= TARGET_REQUESTS &&
        knownClient100.requests <= TARGET_REQUESTS &&
        feedUnchanged.httpRequests === 1 &&
        feedUnchanged.tableWrites === 0,
    };
  } finally {
    await dynamo.stop();
  }
}
