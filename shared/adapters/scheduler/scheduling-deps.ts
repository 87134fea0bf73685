/**
 * What the functions that keep message schedules (sync-schedules, reconcile, dispatch) run on,
 * built from the environment the CDK stack or the local twin sets: the table (store and ledger),
 * the Scheduler, the clinic's settings and the system clock (which the twin may point at its own).
 * Called once per container by each handler.
 */
import { clinicSchema } from '../../domain/model.js';
import { parseOrThrow } from '../../domain/validation.js';
import { optionalEnv, readEnv } from '../../config/env.js';
import { systemClock } from '../../ports/clock.js';
import { createDocumentClient } from '../dynamodb/client.js';
import { DynamoStore } from '../dynamodb/store.js';
import type { SchedulingDeps } from '../../use-cases/sync-schedules.js';
import { fromEnv as schedulerFromEnv } from './eventbridge.js';

export function schedulingDepsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<SchedulingDeps, 'log'> {
  const { TABLE_NAME, CLINIC_CONFIG } = readEnv(['TABLE_NAME', 'CLINIC_CONFIG'], env);
  const clinic = parseOrThrow(clinicSchema, parseJson(CLINIC_CONFIG), 'CLINIC_CONFIG');
  const endpoint = optionalEnv('DYNAMODB_ENDPOINT', env);
  const store = new DynamoStore({ tableName: TABLE_NAME, client: createDocumentClient(endpoint ? { endpoint } : {}) });
  return { store, ledger: store, scheduler: schedulerFromEnv(env), clinic, clock: systemClock };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // The message names the variable, never its contents (it holds the clinic's contact details).
    throw new SyntaxError('CLINIC_CONFIG is not valid JSON', { cause: error });
  }
}
