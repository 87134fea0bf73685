/**
 * The rules an import keeps against what the table holds, whoever imports (the CLI, the twin's
 * seed, the simulation): an erased client is not brought back, and one address is one client.
 * A record already in the table is either refused unless the row has it exactly as stored (an
 * import creates; a rerun resumes), or, for a dataset imported again, updated by the writer.
 */
import { isDeepStrictEqual } from 'node:util';
import { normalizeEmail } from '../../domain/email-address.js';
import { clientSchema, planSchema, sessionSchema, therapistSchema } from '../../domain/model.js';
import type { ExistingIds } from './existing.js';
import { COLLECTION, recordKey, rowLabel, type ImportRow, type RecordType, type RowProblem } from './rows.js';

/** What to do with a row whose id is in the table: refuse it (unless identical), or let the writer update it. */
export type OnExisting = 'refuse' | 'update';

export interface TableVerdict {
  /** Rows already in the table as the file has them (an earlier run wrote them). */
  readonly unchanged: Set<ImportRow>;
  readonly refused: Set<ImportRow>;
  readonly problems: RowProblem[];
}

const SCHEMA = { therapist: therapistSchema, client: clientSchema, plan: planSchema, session: sessionSchema } as const;

/** The fields an import writes and a rerun must find as they were; what the system or the client changed since (preferences, statuses, versions) is not compared. */
const COMPARED: Record<RecordType, readonly string[]> = {
  therapist: ['name', 'email', 'timezone', 'summary'],
  client: ['name', 'email', 'timezone'],
  plan: ['clientId', 'therapistId', 'goal', 'phases', 'reminders', 'checkInAfter'],
  session: ['planId', 'start', 'durationMinutes', 'location'],
};

/** The compared fields where the stored record differs from the row (undefined: the row does not parse, validation reports it). */
function differences(row: ImportRow, stored: unknown): string[] | undefined {
  const parsed = SCHEMA[row.type].safeParse(row.record);
  if (!parsed.success) return undefined;
  const comparable = (field: string, value: unknown) => (field === 'email' && typeof value === 'string' ? normalizeEmail(value) : value);
  return COMPARED[row.type].filter(
    (field) =>
      !isDeepStrictEqual(comparable(field, (parsed.data as Record<string, unknown>)[field]), comparable(field, (stored as Record<string, unknown>)[field])),
  );
}

function refuseExisting(rows: readonly ImportRow[], existing: ExistingIds, verdict: TableVerdict): void {
  for (const row of rows) {
    if (!row.id || !existing[COLLECTION[row.type]].has(row.id)) continue;
    const stored = existing.records?.get(recordKey(row.type, row.id));
    const differ = stored === undefined ? [] : differences(row, stored);
    if (differ === undefined) continue;
    if (stored !== undefined && differ.length === 0) {
      verdict.unchanged.add(row);
      continue;
    }
    verdict.refused.add(row);
    const how = differ.length > 0 ? ` with a different ${differ.join(', ')}` : '';
    verdict.problems.push({
      ...rowLabel(row),
      reason: `${row.type} "${row.id}" already exists in the table${how} (import creates records; use the session and plan commands to change them)`,
    });
  }
}

function refuseErased(rows: readonly ImportRow[], existing: ExistingIds, verdict: TableVerdict): void {
  for (const row of rows) {
    if (row.type !== 'client' || verdict.refused.has(row)) continue;
    const address = typeof row.record.email === 'string' ? normalizeEmail(row.record.email) : undefined;
    const byId = row.id ? existing.erased?.get(`id:${row.id}`) : undefined;
    const byEmail = address ? existing.erased?.get(`email:${address}`) : undefined;
    if (byId || byEmail) {
      verdict.refused.add(row);
      verdict.problems.push({
        ...rowLabel(row),
        reason: `${byId ? `client "${row.id}"` : 'email: the address'} was erased on ${(byId ?? byEmail)!.slice(0, 10)} (keepwell client erase): an erased client is not imported again`,
      });
    }
  }
}

function refuseTakenAddresses(rows: readonly ImportRow[], existing: ExistingIds, verdict: TableVerdict): void {
  for (const row of rows) {
    const address = row.type === 'client' && typeof row.record.email === 'string' ? normalizeEmail(row.record.email) : undefined;
    const holder = address ? existing.emails?.get(address) : undefined;
    if (holder && holder !== row.id && !verdict.refused.has(row)) {
      verdict.refused.add(row);
      verdict.problems.push({
        ...rowLabel(row),
        reason: `email: is the address of client ${holder} in the table already: one address is one client, whatever its case`,
      });
    }
  }
}

/** Checks every row against the table; `problems` lists the refused rows, each with its reason. */
export function checkAgainstTable(rows: readonly ImportRow[], existing: ExistingIds, onExisting: OnExisting): TableVerdict {
  const verdict: TableVerdict = { unchanged: new Set(), refused: new Set(), problems: [] };
  if (onExisting === 'refuse') refuseExisting(rows, existing, verdict);
  refuseErased(rows, existing, verdict);
  refuseTakenAddresses(rows, existing, verdict);
  return verdict;
}
