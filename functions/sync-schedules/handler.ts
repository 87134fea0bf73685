/**
 * sync-schedules: the table stream's consumer. Each record's images become a change of a session,
 * plan or client (validated with zod); the sync-schedules use case brings that subject's
 * schedules in line. Records of other item types are ignored.
 *
 * Partial batch failure: a DynamoDB stream stops at the first failed record of a shard and Lambda
 * retries from there, so the response names that record and every one after it. Every record is
 * still processed in this attempt, in order, so one poison record never holds back the others'
 * schedules; replaying them is harmless because every Scheduler call is idempotent.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod';
import { clientSchema, idSchema, instantSchema, planSchema, sessionSchema } from '../../shared/domain/model.js';
import { parseOrThrow, ValidationError } from '../../shared/domain/validation.js';
import { schedulingDepsFromEnv } from '../../shared/adapters/scheduler/scheduling-deps.js';
import { errorName } from '../../shared/domain/errors.js';
import { outcomeOf } from '../../shared/use-cases/delivery/classify.js';
import { syncSchedules, type SchedulingDeps, type SubjectChange } from '../../shared/use-cases/sync-schedules.js';

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
/** A plan item: the plan plus the maintenance bookkeeping reconcile and sync-schedules keep on it. */
const planItemSchema = planSchema.safeExtend({ maintenanceMark: maintenanceMarkSchema.optional(), maintenanceActionAt: instantSchema.optional() });

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

export interface SyncSchedulesHandlerDeps extends Omit<SchedulingDeps, 'log'> {
  readonly logger: Logger;
}

export type SyncSchedulesHandler = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;

export function createHandler(deps: SyncSchedulesHandlerDeps): SyncSchedulesHandler {
  const { logger } = deps;
  const useCaseDeps: SchedulingDeps = { ...deps, log: logger };

  const handleRecord = async (record: DynamoDBRecord): Promise<void> => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    let change: SubjectChange | undefined;
    try {
      change = changeOf(record);
    } catch (error) {
      // A record that cannot be read never becomes readable: report it by its keys and move on.
      reportUnreadable(logger, record, error);
      return;
    }
    if (!change) return;
    try {
      const outcome = await syncSchedules(useCaseDeps, change);
      if (outcome.upserted + outcome.removed + outcome.rejected + outcome.skipsRecorded > 0 || outcome.maintenance !== 'unchanged') {
        logger.info('schedules brought in line', { sequenceNumber, subject: change.type, ...outcome });
      }
    } catch (error) {
      if (outcomeOf(error) === 'skip') {
        // Names only the failing fields and the error class: values could be personal data.
        const fields = error instanceof ValidationError ? error.issues.map((i) => i.path) : undefined;
        logger.warn('stream record skipped: a retry cannot fix it', { sequenceNumber, error: errorName(error), fields });
        return;
      }
      logger.error('stream record failed; Lambda will retry from it', { sequenceNumber, error: errorName(error) });
      throw error;
    }
  };

  return async (event, context) => {
    const { Records } = parseOrThrow(streamEventSchema, event, 'DynamoDB stream event');
    // Entries that are not records at all have no sequence number to retry from: report and drop them.
    const records = Records.filter((record): record is DynamoDBRecord => {
      if (typeof record === 'object' && record !== null && !Array.isArray(record)) return true;
      reportUnreadable(logger, record, new ValidationError('stream record', [{ path: '', reason: 'is not an object' }]));
      return false;
    });
    // A processor holds one batch's state; a fresh one per event keeps concurrent local invocations apart.
    const processor = new BatchProcessor(EventType.DynamoDBStreams);
    const response = await processPartialResponse({ Records: records }, handleRecord, processor, {
      ...(context ? { context } : {}),
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
    return { batchItemFailures: fromFirstFailure(records, response.batchItemFailures) };
  };
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

function reportUnreadable(logger: Logger, record: unknown, error: unknown): void {
  logger.warn('stream record skipped: sync-schedules cannot read it', unreadableReport(record, error));
}

/** The first failed record and every record after it: where the stream resumes. */
function fromFirstFailure(records: readonly DynamoDBRecord[], failures: ReadonlyArray<{ itemIdentifier: string }>): Array<{ itemIdentifier: string }> {
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  const first = records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
  if (first < 0) return [];
  return records.slice(first).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' }));
}

let built: SyncSchedulesHandler | undefined;

/** The Lambda entry point, built once per container from the environment. */
export const handler: SyncSchedulesHandler = (event, context) => {
  built ??= createHandler({ ...schedulingDepsFromEnv(), logger: new Logger({ serviceName: 'keepwell-sync-schedules' }) });
  return built(event, context);
};
