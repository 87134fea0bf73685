/**
 * An import's unit of work: one row, one record of one type, remembering where it came from
 * (a CSV line, or a path in a JSON file or a dataset) so every problem names its place.
 */
import type { Dataset } from '../../domain/dataset.js';

export const RECORD_TYPES = ['therapist', 'client', 'plan', 'session'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export const COLLECTION: Record<RecordType, keyof Omit<Dataset, 'clinic'>> = { therapist: 'therapists', client: 'clients', plan: 'plans', session: 'sessions' };

export interface ImportRow {
  /** Where the operator finds it: "line 4" (CSV) or "clients[2]" (JSON). */
  readonly where: string;
  readonly type: RecordType;
  readonly id?: string;
  readonly record: Record<string, unknown>;
}

export interface RowProblem {
  readonly where: string;
  readonly type?: RecordType;
  readonly id?: string;
  readonly reason: string;
}

export function describeProblem(p: RowProblem): string {
  return `${p.where}${p.type ? ` (${p.type}${p.id ? ` ${p.id}` : ''})` : ''}: ${p.reason}`;
}

export const recordKey = (type: RecordType, id: string) => `${type}:${id}`;

export const rowLabel = (row: ImportRow): Omit<RowProblem, 'reason'> => ({ where: row.where, type: row.type, ...(row.id ? { id: row.id } : {}) });

function idOf(record: object): { id?: string } {
  const id = (record as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? { id } : {};
}

/** The rows of an object holding the four lists (a JSON import file, a scenario's dataset); other keys are not read. */
export function rowsOfLists(data: object): { rows: ImportRow[]; problems: RowProblem[] } {
  const rows: ImportRow[] = [];
  const problems: RowProblem[] = [];
  for (const type of RECORD_TYPES) {
    const list = (data as Record<string, unknown>)[COLLECTION[type]];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      problems.push({ where: COLLECTION[type], reason: 'must be a list' });
      continue;
    }
    list.forEach((record, i) => {
      const where = `${COLLECTION[type]}[${i}]`;
      if (typeof record !== 'object' || record === null || Array.isArray(record)) problems.push({ where, type, reason: 'must be an object' });
      else rows.push({ where, type, ...idOf(record), record: record as Record<string, unknown> });
    });
  }
  return { rows, problems };
}
