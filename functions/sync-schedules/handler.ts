/**
 * sync-schedules: the table stream's consumer. Each record becomes a change of a session, plan or
 * client (shared/adapters/dynamodb/stream-change.ts, which also applies Lambda's partial batch
 * failure rule); the sync-schedules use case brings that subject's schedules in line. Records of
 * other item types are ignored; replaying one is harmless because every Scheduler call is idempotent.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { processStreamBatch, readRecord, reportUnreadable } from '../../shared/adapters/dynamodb/stream-change.js';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { schedulingDepsFromEnv } from '../../shared/adapters/scheduler/scheduling-deps.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { errorName, outcomeOf, syncSchedules, type SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';

export interface SyncSchedulesHandlerDeps extends Omit<SchedulingDeps, 'log'> {
  readonly logger: Logger;
}

export type SyncSchedulesHandler = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;

export function createHandler(deps: SyncSchedulesHandlerDeps): SyncSchedulesHandler {
  const { logger } = deps;
  const useCaseDeps: SchedulingDeps = { ...deps, log: logger };

  const handleRecord = async (record: DynamoDBRecord): Promise<void> => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    const read = readRecord(record);
    if ('error' in read) {
      // A record that cannot be read never becomes readable: report it by its keys and move on.
      reportUnreadable(logger, record, read.error);
      return;
    }
    const { change } = read;
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

  return (event, context) => processStreamBatch(event, handleRecord, logger, context);
}

/** The Lambda entry point (shared/adapters/lambda/entry.ts). */
export const handler = lambdaEntry('sync-schedules', ({ env, log }) => createHandler({ ...schedulingDepsFromEnv(env), logger: log }));
