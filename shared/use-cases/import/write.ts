/**
 * The one import writer: therapists, clients, plans, then sessions, so every reference exists
 * when it is written. Each record is one atomic write, several at once (one client's sessions in
 * order); a signal stops the run between writes, and the same import run again ends in the state
 * one clean run gives.
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
import { groupInOrder } from '../../util/concurrency.js';

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

/** Records written at once. Each write is one atomic request or transaction, so this only hides latency. */
export const WRITE_CONCURRENCY = 8;

export async function writeDataset(store: ClinicStore, dataset: Dataset, options: WriteOptions): Promise<ImportCounts> {
  const writers = options.existing === 'refuse' ? creating(store) : updating(store);
  const total = dataset.therapists.length + dataset.clients.length + dataset.plans.length + dataset.sessions.length;
  const run = { ...options, total, progress: { done: 0 } };
  await writeAll(run, dataset.therapists, writers.therapists);
  await writeAll(run, dataset.clients, writers.clients);
  await writeAll(run, dataset.plans, writers.plans);
  // A session's write renumbers its plan's sessions from what it reads, and a session can move to
  // another plan of its client: one client's sessions go one by one. Sessions of plans the dataset
  // does not hold (their client unknown without a read) share one lane.
  const clientOfPlan = new Map(dataset.plans.map((plan) => [plan.id, plan.clientId]));
  await writeAll(run, dataset.sessions, writers.sessions, (session) => clientOfPlan.get(session.planId) ?? '');
  return { therapists: dataset.therapists.length, clients: dataset.clients.length, plans: dataset.plans.length, sessions: dataset.sessions.length };
}

/**
 * Writes `records` with up to WRITE_CONCURRENCY in flight; records with the same `lane` are written
 * in order, one at a time. After a failure (of a write or of `onProgress`) or the signal no new write
 * starts; the writes in flight finish before the error is thrown, so what it reports is what the
 * table holds.
 */
async function writeAll<T>(
  run: WriteOptions & { readonly total: number; readonly progress: { done: number } },
  records: readonly T[],
  write: (record: T) => Promise<unknown>,
  lane?: (record: T) => string,
): Promise<void> {
  const queues = groupInOrder(records, (record, index) => (lane ? lane(record) : String(index)));
  let next = 0;
  // The first write that failed, or 'interrupted' once the signal stopped a worker.
  let failure: { error: unknown } | 'interrupted' | undefined;
  const worker = async () => {
    while (next < queues.length) {
      const queue = queues[next++] as T[];
      for (const record of queue) {
        if (failure) return;
        if (run.signal?.aborted) {
          failure ??= 'interrupted';
          return;
        }
        try {
          await write(record);
          run.progress.done++;
          run.onProgress?.(run.progress.done, run.total);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, queues.length) }, worker));
  if (failure === 'interrupted') throw new ImportInterruptedError(run.progress.done, run.total);
  if (failure) throw failure.error;
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
