/**
 * reconcile: invoked hourly by a recurring schedule. Validates the schedule's input (an optional
 * window override and the slot it serves), runs one reconcile pass, returns its counts. A second
 * invocation while a pass runs in the same container (the twin's accelerated clock) joins it.
 * A pass with retryable failures ends in an error, so the Scheduler's retry runs it again.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { schedulingDepsFromEnv } from '../../shared/adapters/scheduler/scheduling-deps.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { reconcile, type ReconcileCounts, type ReconcileOptions } from '../../shared/use-cases/reconcile.js';
import type { SchedulingDeps } from '../../shared/use-cases/sync-schedules.js';

const hours = z.number().int('must be a whole number of hours').min(0, 'must be 0 or more').max(720, 'must be at most 720 (30 days)');

export const reconcileEventSchema = z.object({
  /** Filled in by the Scheduler (<aws.scheduler.scheduled-time>); logged to tie a run to its slot. */
  scheduledTime: z.string().optional(),
  lookAheadHours: hours.optional(),
  lookBackHours: hours.optional(),
});

export interface ReconcileHandlerDeps extends Omit<SchedulingDeps, 'log'> {
  readonly logger: Logger;
  /** Defaults for the window when the event does not set it. */
  readonly options?: ReconcileOptions;
}

export type ReconcileHandler = (event: unknown, context?: Context) => Promise<ReconcileCounts>;

export function createHandler(deps: ReconcileHandlerDeps): ReconcileHandler {
  const { logger } = deps;
  let running: Promise<ReconcileCounts> | undefined;
  const pass = async (options: ReconcileOptions): Promise<ReconcileCounts> => {
    const counts = await reconcile({ ...deps, log: logger }, options);
    if (counts.failed > 0) throw new RetryableError(`reconcile could not finish ${counts.failed} subject(s); the pass will run again`);
    return counts;
  };
  return async (event) => {
    const input = parseOrThrow(reconcileEventSchema, event ?? {}, 'reconcile event');
    if (running) {
      logger.info('a reconcile pass is already running; joining it', { scheduledTime: input.scheduledTime });
      return running;
    }
    const { lookAheadHours, lookBackHours } = input;
    const window = { ...(lookAheadHours !== undefined ? { lookAheadHours } : {}), ...(lookBackHours !== undefined ? { lookBackHours } : {}) };
    running = pass({ ...deps.options, ...window }).finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** The Lambda entry point (shared/adapters/lambda/entry.ts). */
export const handler = lambdaEntry('reconcile', ({ env, log }) => createHandler({ ...schedulingDepsFromEnv(env), logger: log }));
