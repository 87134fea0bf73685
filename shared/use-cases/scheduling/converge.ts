/**
 * The Scheduler's side of scheduling: what a session message's schedule holds, and converge, which
 * makes one set of create/replace and delete calls and sorts their failures by outcomeOf.
 */
import { errorCode, errorName, outcomeOf } from '../../domain/errors.js';
import type { Plan } from '../../domain/model.js';
import type { PlannedMessage } from '../../domain/schedule-rules.js';
import { silentLog } from '../../ports/log.js';
import type { OneTimeSchedule } from '../../ports/scheduler.js';
import type { StoredSession } from '../../ports/store.js';
import type { SchedulingDeps } from './deps.js';

/** The Scheduler's view of a session message: name, time, and opaque ids only. */
export function sessionSchedule(message: PlannedMessage, session: StoredSession, plan: Plan): OneTimeSchedule {
  return {
    name: message.name,
    at: message.dueAt,
    payload: { message: message.identity, clientId: session.clientId, planId: plan.id, sessionId: session.id, therapistId: plan.therapistId },
  };
}

export interface ConvergeCounts {
  readonly upserted: number;
  readonly removed: number;
  readonly rejected: number;
}

/**
 * Sends the Scheduler calls in parallel. A refused request is logged with its (opaque) schedule
 * name and skipped; any other failure is thrown once every call has settled, so the caller's
 * retry replays an idempotent set of calls.
 */
export async function converge(
  deps: Pick<SchedulingDeps, 'scheduler' | 'log'>,
  upserts: readonly OneTimeSchedule[],
  removals: readonly string[],
): Promise<ConvergeCounts> {
  const log = deps.log ?? silentLog;
  const calls = [
    ...upserts.map((s) => ({ name: s.name, run: () => deps.scheduler.upsert(s).then(() => 'upserted' as const) })),
    ...removals.map((name) => ({ name, run: () => deps.scheduler.remove(name).then((existed) => (existed ? ('removed' as const) : ('gone' as const))) })),
  ];
  const results = await Promise.allSettled(calls.map((c) => c.run()));
  let upserted = 0;
  let removed = 0;
  let rejected = 0;
  let failure: unknown;
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      if (result.value === 'upserted') upserted++;
      if (result.value === 'removed') removed++;
      return;
    }
    const error = result.reason as unknown;
    if (outcomeOf(error) === 'skip') {
      rejected++;
      log.warn('schedule request refused; skipped, not retried', { schedule: calls[i]?.name, error: errorName(error), code: errorCode(error) });
    } else {
      failure ??= error;
    }
  });
  if (failure !== undefined) throw failure;
  return { upserted, removed, rejected };
}
