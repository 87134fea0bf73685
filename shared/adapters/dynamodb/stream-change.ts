/**
 * sync-schedules' side of the table stream: each record's images decoded into a change of a
 * session, plan or client (validated with zod), and Lambda's partial batch failure rule applied
 * to a batch. A DynamoDB stream stops at the first failed record of a shard and Lambda retries
 * from there, so the response names that record and every one after it. Every record is still
 * processed in this attempt, so one poison record never holds back the others' schedules: the
 * records of one item collection (one client's client, plan and session items share its partition
 * key) in stream order, one after another, and up to STREAM_CONCURRENCY collections at once, since
 * what a change schedules depends only on its own client's items. A record that cannot be read is
 * reported by its keys (never a value from its images) and dropped: it never becomes readable.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import * as z from 'zod';
import { clientSchema, idSchema, instantSchema, planSchema, sessionSchema } from '../../domain/model.js';
import { parseOrThrow, ValidationError } from '../../domain/validation.js';
import type { OpsLog } from '../../ports/log.js';
import { errorName } from '../../domain/errors.js';
import type { SubjectChange } from '../../use-cases/scheduling/deps.js';
import { groupInOrder, mapWithConcurrency } from '../../util/concurrency.js';

const recordSchema = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    SequenceNumber: z.string().min(1),
    NewImage: z.record(z.string(), z.unknown()).optional(),
    OldImage: z.record(z.string(), z.unknown()).optional(),
  }),
});

const streamEventSchema = z.object({ Records: z.array(z.unknown()) });

/** A session item: the booking plus the ids the store derives (other stored fields do not move a message). */
const sessionItemSchema = sessionSchema.extend({ clientId: idSchema, therapistId: idSchema });

const maintenanceMarkSchema = z.object({
  state: z.enum(['due', 'lapsed']),
  dueAt: instantSchema,
  lapsedAt: instantSchema,
  markedAt: instantSchema,
});
/** Whether the plan has a baseline (the intake answered) is all sync-schedules reads of it: the free text is left out. */
const baselineSchema = z.object({
  pain: z.number(),
  mobility: z.number(),
  stress: z.number(),
  sleep: z.number(),
  at: instantSchema,
  sessionId: idSchema.optional(),
});
/** A plan item: the plan plus the maintenance bookkeeping reconcile and sync-schedules keep on it, and its baseline. */
const planItemSchema = planSchema.safeExtend({
  maintenanceMark: maintenanceMarkSchema.optional(),
  maintenanceActionAt: instantSchema.optional(),
  baseline: baselineSchema.optional(),
});

function unmarshallImage(image: Record<string, unknown> | undefined, where: string): Record<string, unknown> | undefined {
  if (!image) return undefined;
  try {
    // The images are DynamoDB AttributeValue maps; unmarshall refuses any other shape.
    return unmarshall(image as Record<string, AttributeValue>);
  } catch (error) {
    throw new ValidationError('stream record', [{ path: where, reason: 'is not a DynamoDB item image' }], { cause: error });
  }
}

/** The record as a change of a session, plan or client; undefined for any other item type. */
export function changeOf(record: unknown): SubjectChange | undefined {
  const { dynamodb } = parseOrThrow(recordSchema, record, 'stream record');
  const newItem = unmarshallImage(dynamodb.NewImage, 'dynamodb.NewImage');
  const oldItem = unmarshallImage(dynamodb.OldImage, 'dynamodb.OldImage');
  const type = (newItem ?? oldItem)?.type;
  const images = <S extends z.ZodType>(schema: S) => ({
    before: oldItem === undefined ? undefined : parseOrThrow(schema, oldItem, `${String(type)} item`, 'dynamodb.OldImage'),
    after: newItem === undefined ? undefined : parseOrThrow(schema, newItem, `${String(type)} item`, 'dynamodb.NewImage'),
  });
  switch (type) {
    case 'session':
      return { type, ...images(sessionItemSchema) };
    case 'plan':
      return { type, ...images(planItemSchema) };
    case 'client':
      return { type, ...images(clientSchema) };
    default:
      return undefined;
  }
}

/**
 * The one report of a record sync-schedules cannot read: its sequence number, its keys and which
 * fields failed, never a value from its images (names, notes and addresses are personal data).
 * An address in a key (the email lookup item) is masked.
 */
export function unreadableReport(
  record: unknown,
  error: unknown,
): { sequenceNumber?: string; keys?: Record<string, string>; error: string; fields?: string[] } {
  const dynamodb = (record as { dynamodb?: { SequenceNumber?: unknown; Keys?: unknown } } | null)?.dynamodb;
  const sequenceNumber = typeof dynamodb?.SequenceNumber === 'string' ? dynamodb.SequenceNumber.slice(0, 64) : undefined;
  const keys: Record<string, string> = {};
  if (typeof dynamodb?.Keys === 'object' && dynamodb.Keys !== null) {
    for (const [name, value] of Object.entries(dynamodb.Keys as Record<string, unknown>).slice(0, 4)) {
      const text = (value as { S?: unknown } | null)?.S;
      if (typeof text !== 'string') continue;
      keys[name.slice(0, 16)] = text.startsWith('EMAIL#') ? 'EMAIL#…' : text.slice(0, 80);
    }
  }
  const fields = error instanceof ValidationError ? error.issues.map((i) => i.path || '(root)') : undefined;
  return {
    ...(sequenceNumber ? { sequenceNumber } : {}),
    ...(Object.keys(keys).length > 0 ? { keys } : {}),
    error: errorName(error),
    ...(fields ? { fields } : {}),
  };
}

export function reportUnreadable(log: OpsLog, record: unknown, error: unknown): void {
  log.warn('stream record skipped: sync-schedules cannot read it', unreadableReport(record, error));
}

/** The first failed record and every record after it: where the stream resumes. */
function fromFirstFailure(records: readonly DynamoDBRecord[], failures: ReadonlyArray<{ itemIdentifier: string }>): Array<{ itemIdentifier: string }> {
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  const first = records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
  if (first < 0) return [];
  return records.slice(first).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' }));
}

/**
 * Item collections whose records are handled at once. A record's own Scheduler calls already go
 * out together (converge), so this multiplies one invocation's request rate by up to this much: an
 * import's session inserts, about four calls each, then make about sixteen calls at a time. A call
 * the Scheduler still throttles after the SDK's retries fails its record, and Lambda retries the
 * batch from its first failure in stream order.
 */
export const STREAM_CONCURRENCY = 4;

/** The record's partition key, which groups one client's items; records without one share a group. */
function collectionOf(record: DynamoDBRecord): string {
  const pk = (record.dynamodb?.Keys as Record<string, { S?: unknown }> | undefined)?.pk?.S;
  return typeof pk === 'string' ? pk : '';
}

/**
 * Runs `handleRecord` on every record of a stream event (one item collection's records in stream
 * order, collections at once) and answers with the records Lambda must retry from (the first
 * failure in stream order and all after it). Entries that are not records at all have no sequence
 * number to retry from: they are reported and dropped.
 */
export async function processStreamBatch(
  event: unknown,
  handleRecord: (record: DynamoDBRecord) => Promise<void>,
  log: OpsLog,
  context?: Context,
): Promise<DynamoDBBatchResponse> {
  const { Records } = parseOrThrow(streamEventSchema, event, 'DynamoDB stream event');
  const records = Records.filter((record): record is DynamoDBRecord => {
    if (typeof record === 'object' && record !== null && !Array.isArray(record)) return true;
    reportUnreadable(log, record, new ValidationError('stream record', [{ path: '', reason: 'is not an object' }]));
    return false;
  });
  const failures = await mapWithConcurrency(groupInOrder(records, collectionOf), STREAM_CONCURRENCY, async (collection) => {
    // A processor holds one run's state: a fresh one per collection keeps them apart.
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const response = await processPartialResponse({ Records: collection }, handleRecord, processor, {
      ...(context ? { context } : {}),
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
    return response.batchItemFailures;
  });
  return { batchItemFailures: fromFirstFailure(records, failures.flat()) };
}

/** A stream record as read: its change (none for other item types), or why it cannot be read. */
export type ReadRecord = { readonly error: unknown } | { readonly change: SubjectChange | undefined };

export function readRecord(record: unknown): ReadRecord {
  try {
    return { change: changeOf(record) };
  } catch (error) {
    return { error };
  }
}
