/**
 * Deciding an import before anything is written. Step by step:
 * 1. check every row against the table (table-checks.ts): a record already there exactly as the
 *    row has it is left out and counted, so a rerun resumes; one that differs, an erased client,
 *    or an address another client holds is refused;
 * 2. validate the rest together with the domain's dataset rules (parseDataset), mapping each
 *    issue back to its row and line; with `skipInvalid`, drop the bad rows and validate again
 *    until what is left is consistent (a plan whose client was dropped goes too);
 * 3. report what is worth a look but not refused: a therapist booked twice at once, an id that
 *    holds part of its client's name.
 */
import { datasetWarnings, parseDataset, type Dataset } from '../../domain/dataset.js';
import { ValidationError } from '../../domain/validation.js';
import type { ExistingIds } from './existing.js';
import { COLLECTION, recordKey, rowLabel, type ImportRow, type RecordType, type RowProblem } from './rows.js';
import { checkAgainstTable } from './table-checks.js';

export interface ImportPlan {
  readonly dataset: Dataset;
  readonly problems: RowProblem[];
  /** Worth a look but not refused: a therapist booked twice at once. */
  readonly warnings: RowProblem[];
  /** Rows left out (all bad rows, and with skipInvalid the rows that depended on them). */
  readonly skipped: number;
  /** Rows whose record is already in the table as the file has it (an earlier run wrote them). */
  readonly unchanged: number;
}

function datasetOf(rows: readonly ImportRow[]): Record<string, Array<Record<string, unknown>>> {
  const input: Record<string, Array<Record<string, unknown>>> = { therapists: [], clients: [], plans: [], sessions: [] };
  for (const row of rows) input[COLLECTION[row.type]]!.push(row.record);
  return input;
}

/** Maps a dataset issue path (`plans[3].clientId`) back to its row. */
function rowOfPath(rows: readonly ImportRow[], path: string): { row?: ImportRow; field: string } {
  const match = /^(therapists|clients|plans|sessions)\[(\d+)\]\.?(.*)$/.exec(path);
  if (!match) return { field: path };
  const ofType = rows.filter((r) => COLLECTION[r.type] === match[1]);
  const row = ofType[Number(match[2])];
  return { ...(row ? { row } : {}), field: match[3] ?? '' };
}

/** A reason that names another record by path (`clients[0]`) names it by where it is in the file instead. */
function withPlaces(rows: readonly ImportRow[], reason: string): string {
  return reason.replace(/\b(therapists|clients|plans|sessions)\[(\d+)\]/g, (path) => rowOfPath(rows, path).row?.where ?? path);
}

/** The parts of a name worth looking for in an id: words of three or more characters, with a letter. */
function nameParts(name: unknown): string[] {
  return typeof name === 'string'
    ? name
        .toLowerCase()
        .split(/[^\p{L}\p{N}]+/u)
        .filter((part) => part.length >= 3 && /\p{L}/u.test(part))
    : [];
}

/**
 * Rows whose id holds part of their client's name. Ids travel where names must not — schedule
 * names, SES tags, log lines, the outbox — so ids a clinic supplies must be opaque; the import
 * says so for each, without repeating the name.
 */
function nameInIdWarnings(rows: readonly ImportRow[], existing: ExistingIds): RowProblem[] {
  const stored = (type: RecordType, id: unknown) =>
    typeof id === 'string' ? (existing.records?.get(recordKey(type, id)) as Record<string, unknown> | undefined) : undefined;
  const inFile = (type: RecordType, id: unknown) => rows.find((r) => r.type === type && r.id === id)?.record;
  const record = (type: RecordType, id: unknown) => inFile(type, id) ?? stored(type, id);
  const clientOf = (row: ImportRow): Record<string, unknown> | undefined => {
    if (row.type === 'client') return row.record;
    if (row.type === 'plan') return record('client', row.record.clientId);
    if (row.type === 'session') return record('client', record('plan', row.record.planId)?.clientId);
    return undefined;
  };
  return rows.flatMap((row) => {
    const id = row.id?.toLowerCase();
    const name = clientOf(row)?.name;
    if (!id || !nameParts(name).some((part) => id.includes(part))) return [];
    return [
      {
        ...rowLabel(row),
        reason: `id: holds part of the client's name; ids appear in schedule names, SES tags and logs, so use opaque ids (docs/ARCHITECTURE.md, "Imports and addresses")`,
      },
    ];
  });
}

function warningsOf(dataset: Dataset, remaining: readonly ImportRow[], existing: ExistingIds): RowProblem[] {
  return [
    ...datasetWarnings(dataset).map((issue) => {
      const { row } = rowOfPath(remaining, issue.path);
      return { ...(row ? rowLabel(row) : { where: issue.path }), reason: withPlaces(remaining, issue.reason) };
    }),
    ...nameInIdWarnings(remaining, existing),
  ];
}

/** The rows a dataset validation error names, with a problem for each of its issues. */
function badRowsOf(error: ValidationError, remaining: readonly ImportRow[], problems: RowProblem[]): Set<ImportRow> {
  const badRows = new Set<ImportRow>();
  for (const issue of error.issues) {
    const { row, field } = rowOfPath(remaining, issue.path);
    if (row) badRows.add(row);
    const reason = withPlaces(remaining, issue.reason);
    problems.push({ ...(row ? rowLabel(row) : { where: issue.path }), reason: field ? `${field}: ${reason}` : reason });
  }
  return badRows;
}

/**
 * Validates rows against the domain's dataset rules and what the table holds. Without
 * `skipInvalid` the problems are all reported and the dataset is empty; with it, bad rows (and
 * rows that depended on them) are dropped and the rest is returned. Rows already in the table as
 * the file has them are left out of the dataset and counted as unchanged.
 */
export function planImport(rows: readonly ImportRow[], existing: ExistingIds, fileProblems: readonly RowProblem[], skipInvalid: boolean): ImportPlan {
  const verdict = checkAgainstTable(rows, existing, 'refuse');
  const problems: RowProblem[] = [...fileProblems, ...verdict.problems];
  const known = { clients: existing.clients, therapists: existing.therapists, plans: existing.plans };
  const empty = { therapists: [], clients: [], plans: [], sessions: [] };
  const { unchanged, refused } = verdict;
  let remaining = rows.filter((row) => !unchanged.has(row) && !refused.has(row));
  for (;;) {
    try {
      const dataset = parseDataset(datasetOf(remaining), 'import', known);
      const bad = problems.length > 0 && !skipInvalid;
      const kept = bad ? [] : remaining;
      const warnings = bad ? [] : warningsOf(dataset, remaining, existing);
      return { dataset: bad ? empty : dataset, problems, warnings, skipped: rows.length - unchanged.size - kept.length, unchanged: bad ? 0 : unchanged.size };
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const badRows = badRowsOf(error, remaining, problems);
      if (badRows.size === 0) return { dataset: empty, problems, warnings: [], skipped: rows.length, unchanged: 0 };
      remaining = remaining.filter((r) => !badRows.has(r));
    }
  }
}
