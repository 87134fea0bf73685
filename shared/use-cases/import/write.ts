/**
 * The one import writer: therapists, clients, plans, then sessions, so every reference exists
 * when it is written. Each record is one atomic write; a signal stops the run between two of
 * them, and the same import run again ends in the state one clean run gives.
 *
 * What it does with a record already in the table follows the import's `OnExisting`:
 * - `refuse` (a file import): nothing in the dataset is in the table (the plan left those rows
 *   out), and the store refuses a client id written meanwhile rather than overwrite it;
 * - `update` (a dataset imported again, as the simulation and the twin's seed do): what clients
 *   chose (subscriptions) or the system learned (suppression) is kept, a plan keeps its status,
 *   and a session keeps its status and version unless its time changed, which counts as a
 *   reschedule.
 */
import type { Dataset } from '../../domain/dataset.js';
import { ImportInterruptedError } from '../../domain/errors.js';
import type { Client, Plan, Session, Therapist } from '../../domain/model.js';
import type { ClinicStore } from '../../ports/store.js';
import type { OnExisting } from './table-checks.js';

export interface ImportCounts {
  readonly therapists: number;
  readonly clients: number;
  readonly plans: number;
  readonly sessions: number;
}

export interface WriteOptions {
  readonly existing: OnExisting;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

type Writers = { [K in keyof ImportCounts]: (record: Dataset[K][number]) => Promise<unknown> };

function creating(store: ClinicStore): Writers {
  return {
    therapists: (therapist: Therapist) => store.putTherapist(therapist),
    clients: (client: Client) => store.putClient(client, { expectNew: true }),
    plans: (plan: Plan) => store.putPlan(plan),
    sessions: (session: Session) => store.saveSession(session),
  };
}

function updating(store: ClinicStore): Writers {
  return {
    therapists: (therapist: Therapist) => store.putTherapist(therapist),
    clients: async (client: Client) => {
      const current = await store.getClient(client.id);
      await store.putClient(
        current ? { ...client, preferences: current.preferences, ...(current.suppressed ? { suppressed: current.suppressed } : {}) } : client,
      );
    },
    plans: async (plan: Plan) => {
      const current = await store.findPlan(plan.id);
      await store.putPlan(current ? { ...plan, status: current.status } : plan);
    },
    sessions: async (session: Session) => {
      const current = await store.findSession(session.id);
      if (!current) await store.saveSession(session);
      else if (current.start !== session.start) await store.saveSession({ ...session, status: 'booked', version: current.version + 1 });
      else await store.saveSession({ ...session, status: current.status, version: current.version });
    },
  };
}

export async function writeDataset(store: ClinicStore, dataset: Dataset, options: WriteOptions): Promise<ImportCounts> {
  const writers = options.existing === 'refuse' ? creating(store) : updating(store);
  const total = dataset.therapists.length + dataset.clients.length + dataset.plans.length + dataset.sessions.length;
  let done = 0;
  const write = async <K extends keyof ImportCounts>(collection: K) => {
    for (const record of dataset[collection]) {
      if (options.signal?.aborted) throw new ImportInterruptedError(done, total);
      await writers[collection](record);
      options.onProgress?.(++done, total);
    }
  };
  await write('therapists');
  await write('clients');
  await write('plans');
  await write('sessions');
  return { therapists: dataset.therapists.length, clients: dataset.clients.length, plans: dataset.plans.length, sessions: dataset.sessions.length };
}

/** Writes a planned file import (planImport) in dependency order; an existing id is refused by the store, not overwritten. */
export function writeImport(
  store: ClinicStore,
  dataset: Dataset,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<ImportCounts> {
  return writeDataset(store, dataset, { existing: 'refuse', ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) });
}
