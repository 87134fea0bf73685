/**
 * The table's store for a handler, built once per container from TABLE_NAME (and, in the local
 * twin, DYNAMODB_ENDPOINT). Its bookkeeping timestamps follow `systemClock`, so in the twin the
 * ledger records simulated time.
 */
import { optionalEnv, readEnv } from '../../config/env.js';
import { clinicFromEnv } from '../../config/clinic.js';
import { systemClock } from '../../ports/clock.js';
import { createDocumentClient } from './client.js';
import { DynamoIntakeStore } from './intake-store.js';
import { DynamoStore } from './store.js';

export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoStore {
  const { TABLE_NAME } = readEnv(['TABLE_NAME'], env);
  const endpoint = optionalEnv('DYNAMODB_ENDPOINT', env);
  // The clinic's retention (CLINIC_CONFIG) sets the TTL of what the store writes; a function
  // without CLINIC_CONFIG (ses-events) only updates items others wrote.
  const retention = optionalEnv('CLINIC_CONFIG', env) ? clinicFromEnv(env).retention : undefined;
  return new DynamoStore({
    tableName: TABLE_NAME,
    client: createDocumentClient(endpoint ? { endpoint } : {}),
    now: () => systemClock.now(),
    ...(retention ? { retention } : {}),
  });
}

/** The intake functions' store, from the same variables. */
export function intakeStoreFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoIntakeStore {
  const { TABLE_NAME } = readEnv(['TABLE_NAME'], env);
  const endpoint = optionalEnv('DYNAMODB_ENDPOINT', env);
  return new DynamoIntakeStore({ tableName: TABLE_NAME, client: createDocumentClient(endpoint ? { endpoint } : {}), now: () => systemClock.now() });
}
