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
import { errorName, outcomeOf, syncSchedules, type SchedulingDeps, type SubjectChange } from '../../shared/use-cases/sync-schedules.js';

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
    try {
      const change = changeOf(record);
      if (!change) return;
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
    const records = Records as DynamoDBRecord[];
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
