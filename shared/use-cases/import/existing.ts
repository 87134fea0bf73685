/**
 * What the table already holds of an import, asked about only the ids its rows create or refer
 * to and the client addresses they bring: a handful of key reads per row, eight at a time, never a
 * scan.
 */
import { normalizeEmail } from '../../domain/email-address.js';
import { ID_PATTERN } from '../../domain/model.js';
import type { ClientRecords } from '../../ports/erasure.js';
import type { ClinicStore } from '../../ports/store.js';
import { mapWithConcurrency } from '../../util/concurrency.js';
import { COLLECTION, recordKey, type ImportRow, type RecordType } from './rows.js';

/** Reads in flight at once: each is one or two key reads, so this only hides their latency. */
const READ_CONCURRENCY = 8;

export interface ExistingIds {
  therapists: Set<string>;
  clients: Set<string>;
  plans: Set<string>;
  sessions: Set<string>;
  /** The stored records, by `type:id`, so a rerun can tell its own earlier writes from a clash. */
  records?: Map<string, unknown>;
  /** Client addresses already in the table (normalised) → the client holding each. */
  emails?: Map<string, string>;
  /** Erased clients (keepwell client erase) among the rows, by `id:<clientId>` and `email:<address>` → when. */
  erased?: Map<string, string>;
}

type Collection = 'therapists' | 'clients' | 'plans' | 'sessions';
const TYPE_OF: Record<Collection, RecordType> = { therapists: 'therapist', clients: 'client', plans: 'plan', sessions: 'session' };

/** Every id the rows define, and every id they refer to, by collection. */
function wantedIds(rows: readonly ImportRow[]): Record<Collection, Set<string>> {
  const wanted: Record<Collection, Set<string>> = { therapists: new Set(), clients: new Set(), plans: new Set(), sessions: new Set() };
  for (const row of rows) {
    if (row.id) wanted[COLLECTION[row.type]].add(row.id);
    const r = row.record as { clientId?: unknown; therapistId?: unknown; planId?: unknown };
    if (row.type === 'plan' && typeof r.clientId === 'string') wanted.clients.add(r.clientId);
    if (row.type === 'plan' && typeof r.therapistId === 'string') wanted.therapists.add(r.therapistId);
    if (row.type === 'session' && typeof r.planId === 'string') wanted.plans.add(r.planId);
  }
  return wanted;
}

/** The erased clients among the rows, by id and by address. */
async function erasedAmong(records: Pick<ClientRecords, 'tombstonesFor'>, rows: readonly ImportRow[], addresses: Set<string>): Promise<Map<string, string>> {
  const clientIds = rows.flatMap((row) => (row.type === 'client' && row.id && ID_PATTERN.test(row.id) ? [row.id] : []));
  const tombstones = await records.tombstonesFor(clientIds, [...addresses]);
  const erased = new Map<string, string>();
  for (const [id, t] of tombstones.byId) erased.set(`id:${id}`, t.erasedAt);
  for (const [address, t] of tombstones.byEmail) erased.set(`email:${address}`, t.erasedAt);
  return erased;
}

export async function lookUpExisting(
  store: ClinicStore,
  rows: readonly ImportRow[],
  onProgress?: (done: number, total: number) => void,
  records?: Pick<ClientRecords, 'tombstonesFor'>,
): Promise<ExistingIds> {
  const wanted = wantedIds(rows);
  const exists: Record<Collection, (id: string) => Promise<unknown>> = {
    therapists: (id) => store.getTherapist(id),
    clients: (id) => store.getClient(id),
    plans: (id) => store.findPlan(id),
    sessions: (id) => store.findSession(id),
  };
  const addresses = new Set(rows.flatMap((row) => (row.type === 'client' && typeof row.record.email === 'string' ? [normalizeEmail(row.record.email)] : [])));
  const found = {
    therapists: new Set<string>(),
    clients: new Set<string>(),
    plans: new Set<string>(),
    sessions: new Set<string>(),
    records: new Map<string, unknown>(),
    emails: new Map<string, string>(),
  };
  const total = Object.values(wanted).reduce((n, s) => n + s.size, 0) + addresses.size;
  let done = 0;
  const lookups = (Object.keys(wanted) as Collection[]).flatMap((collection) => [...wanted[collection]].map((id) => ({ collection, id })));
  await mapWithConcurrency(lookups, READ_CONCURRENCY, async ({ collection, id }) => {
    // Ids the schema would refuse cannot be in the table; the validation step reports them.
    const stored = ID_PATTERN.test(id) ? await exists[collection](id) : undefined;
    if (stored) {
      found[collection].add(id);
      found.records.set(recordKey(TYPE_OF[collection], id), stored);
    }
    onProgress?.(++done, total);
  });
  await mapWithConcurrency([...addresses], READ_CONCURRENCY, async (address) => {
    const holder = await store.findClientIdByEmail(address);
    if (holder) found.emails.set(address, holder);
    onProgress?.(++done, total);
  });
  if (!records) return found;
  return { ...found, erased: await erasedAmong(records, rows, addresses) };
}
