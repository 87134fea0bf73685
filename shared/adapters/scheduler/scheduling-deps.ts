/**
 * What the functions that keep message schedules (sync-schedules, reconcile, dispatch) run on,
 * built from the environment the CDK stack or the local twin sets: the table (store and ledger),
 * the Scheduler, the clinic's settings and the system clock (which the twin may point at its own).
 * Called once per container by each handler.
 */
import { clinicFromEnv } from '../../config/clinic.js';
import { systemClock } from '../../ports/clock.js';
import { storeFromEnv } from '../dynamodb/from-env.js';
import type { SchedulingDeps } from '../../use-cases/scheduling/deps.js';
import { fromEnv as schedulerFromEnv } from './eventbridge.js';

export function schedulingDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<SchedulingDeps, 'log'> {
  const store = storeFromEnv(env);
  return { store, ledger: store, scheduler: schedulerFromEnv(env), clinic: clinicFromEnv(env), clock: systemClock };
}
