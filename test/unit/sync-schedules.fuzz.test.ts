/**
 * Fuzzing the sync-schedules stream handler (fast-check, fixed seed, bounded runs): a batch of
 * records, readable or not, never throws and never fails a record for bad data; each record it
 * cannot read is reported once, by sequence number and keys, and no value from its images
 * reaches the log.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/sync-schedules/handler.js';
import { unreadableReport } from '../../shared/adapters/dynamodb/stream-change.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { clientSchema, clinicSchema, planSchema, therapistSchema } from '../../shared/domain/model.js';
import { MemoryStore } from '../support/memory-store.js';
import { fuzzRuns } from '../support/fuzz.js';

const NOW = new Date('2027-02-01T09:00:00.000Z');
/** Planted in every free-text field: it must never be logged. */
const SECRET = 'Secret-Knee-Note';

class RecordingLogger extends Logger {
  readonly warnings: Array<{ message: string; attributes: unknown }> = [];
  override warn(message: unknown, ...rest: unknown[]): void {
    this.warnings.push({ message: String(message), attributes: rest[0] });
  }
}

async function clinic() {
  const store = new MemoryStore({ now: () => NOW });
  await store.putTherapist(therapistSchema.parse({ id: 't-amy', name: 'Amy', email: 'amy@harbour.example', timezone: 'Europe/London' }));
  await store.putClient(clientSchema.parse({ id: 'c-sam', name: 'Sam', email: 'sam@example.com', timezone: 'Europe/London' }));
  await store.putPlan(
    planSchema.parse({ id: 'p-sam', clientId: 'c-sam', therapistId: 't-amy', goal: 'back-pain', phases: [{ name: 'maintenance', everyDays: 28 }] }),
  );
  const logger = new RecordingLogger({ serviceName: 'sync-schedules-fuzz', logLevel: 'SILENT' });
  const scheduler = new InMemoryMessageScheduler();
  const handler = createHandler({
    store,
    ledger: store,
    scheduler,
    clinic: clinicSchema.parse({ name: 'Harbour', senderEmail: 'hello@harbour.example', timezone: 'Europe/London', baseUrl: 'https://harbour.example' }),
    clock: { now: () => NOW },
    logger,
  });
  return { handler, logger, scheduler };
}

const odd = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.constant(SECRET),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }),
);
const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: odd });
const item = fc.record(
  {
    pk: fc.constantFrom('CLIENT#c-sam', 'EMAIL#sam@example.com', 'MSG#rm.s-1.P2D.v1'),
    sk: fc.constantFrom('SESSION#s-1', 'PLAN#p-sam', 'CLIENT', 'EMAIL'),
    type: fc.constantFrom('session', 'plan', 'client', 'email', 'message'),
    id: fc.constantFrom('s-1', 'p-sam', 'c-sam'),
    clientId: maybe(fc.constantFrom('c-sam', 'c-gone')),
    planId: maybe(fc.constant('p-sam')),
    therapistId: maybe(fc.constant('t-amy')),
    start: maybe(
      fc.constantFrom('2027-02-10T10:00:00.000Z', '2027-02-30T10:00:00Z', '9999-12-31T23:00:00-05:00', '0001-01-01T00:00:00Z', '2027-01-01T10:00:00.000Z'),
    ),
    durationMinutes: maybe(fc.integer({ min: -5, max: 700 })),
    location: maybe(fc.constant(SECRET)),
    name: maybe(fc.constant(SECRET)),
    email: maybe(fc.constant('sam@example.com')),
    timezone: maybe(fc.constantFrom('Europe/London', 'Mars/Olympus')),
    status: maybe(fc.constantFrom('booked', 'cancelled', 'active', 'paused')),
    version: maybe(fc.integer({ min: 0, max: 3 })),
    goal: maybe(fc.constant('back-pain')),
    phases: maybe(fc.constant([{ name: 'maintenance', everyDays: 28 }])),
    reminders: maybe(fc.array(fc.constantFrom('P2D', 'PT2H', 'P99999Y', 'PT0S'), { maxLength: 3 })),
    checkInAfter: maybe(fc.constantFrom('PT24H', 'P9999Y')),
    preferences: maybe(fc.constant({ reminders: true, 'check-ins': true, maintenance: true })),
  },
  { requiredKeys: ['pk', 'sk', 'type'] },
);
const image = item.map((i) => marshall(i, { removeUndefinedValues: true }));
const record = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      eventName: fc.constantFrom('INSERT', 'MODIFY', 'REMOVE', 'UPSERT'),
      dynamodb: fc.record(
        {
          SequenceNumber: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.constant(undefined)),
          Keys: fc.constant({ pk: { S: 'CLIENT#c-sam' }, sk: { S: 'SESSION#s-1' } }),
          NewImage: fc.option(image, { nil: undefined }),
          OldImage: fc.option(image, { nil: undefined }),
        },
        { requiredKeys: ['Keys'] },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(null),
      fc.string(),
      fc.integer(),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.record({ dynamodb: fc.record({ NewImage: fc.constant({ type: { X: SECRET } }) }) }),
    ),
  },
);

describe('a fuzzed stream batch', () => {
  it('produces reports, not exceptions or failed records, and no image value reaches a report', async () => {
    const { handler, logger } = await clinic();
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 6 }), async (records) => {
        const before = logger.warnings.length;

        const response = await handler({ Records: records } as DynamoDBStreamEvent);

        expect(response.batchItemFailures).toEqual([]);
        const reports = logger.warnings.slice(before);
        expect(reports.length).toBeLessThanOrEqual(records.length);
        expect(JSON.stringify(reports)).not.toContain(SECRET);
        expect(JSON.stringify(reports)).not.toContain('sam@example.com');
      }),
      fuzzRuns(300),
    );
    // The batches held unreadable records: they were reported, not silently dropped.
    expect(logger.warnings.filter((w) => w.message.startsWith('stream record skipped')).length).toBeGreaterThan(50);
  });

  it('reports an unreadable record by sequence number and keys, masking an address in a key', () => {
    const report = unreadableReport(
      { dynamodb: { SequenceNumber: '42', Keys: { pk: { S: 'EMAIL#sam@example.com' }, sk: { S: 'EMAIL' } }, NewImage: { name: { S: SECRET } } } },
      new ValidationError('session item', [{ path: 'dynamodb.NewImage.start', reason: 'must be an ISO-8601 instant' }]),
    );

    expect(report).toEqual({ sequenceNumber: '42', keys: { pk: 'EMAIL#…', sk: 'EMAIL' }, error: 'ValidationError', fields: ['dynamodb.NewImage.start'] });
  });
});
