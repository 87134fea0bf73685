/**
 * `keepwell import`: a clinic's therapists, clients, plans and sessions from a CSV or JSON file.
 *
 * Step by step:
 * 1. read the file into rows, each remembering where it came from (CSV line, or JSON path);
 * 2. look up, in the table, every id the rows create, every id they refer to that the file does
 *    not define, and every client address (one address, one client, whatever its case);
 * 3. a row whose record is already in the table exactly as the file has it was written by an
 *    earlier run of the same file (interrupted, or failed on a later row): it is left as it is
 *    and counted, so a rerun resumes. One that differs is refused: an import creates; it never
 *    overwrites a client's preferences or a session's version;
 * 4. validate all rows together with the domain's dataset rules (parseDataset), mapping each
 *    issue back to its row and line; with --skip-invalid, drop the bad rows and validate again
 *    until what is left is consistent (a plan whose client was dropped goes too);
 * 5. if any row is bad and --skip-invalid is off, write nothing; otherwise write therapists,
 *    clients, plans, then sessions, so every reference exists when it is written. Each record is
 *    one atomic write; an interruption stops between two of them, and the same file run again
 *    ends in the state one clean run gives.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { extname } from 'node:path';
import { datasetWarnings, parseDataset, type Dataset } from '../../shared/domain/dataset.js';
import { normalizeEmail } from '../../shared/domain/email-address.js';
import { clientSchema, ID_PATTERN, planSchema, sessionSchema, therapistSchema } from '../../shared/domain/model.js';
import { ValidationError } from '../../shared/domain/validation.js';
import type { ClinicStore } from '../../shared/ports/store.js';
import type { ClientRecords } from '../../shared/ports/erasure.js';
import { parseCsv, CsvSyntaxError } from './csv.js';

export const RECORD_TYPES = ['therapist', 'client', 'plan', 'session'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
const COLLECTION: Record<RecordType, keyof Omit<Dataset, 'clinic'>> = { therapist: 'therapists', client: 'clients', plan: 'plans', session: 'sessions' };

/** The CSV columns each row type may fill; the others must stay empty on that row. */
export const CSV_COLUMNS: Record<RecordType, readonly string[]> = {
  therapist: ['id', 'name', 'email', 'timezone', 'summaryCadence', 'summaryHour'],
  client: ['id', 'name', 'email', 'timezone'],
  plan: ['id', 'clientId', 'therapistId', 'goal', 'phases', 'reminders', 'checkInAfter', 'status'],
  session: ['id', 'planId', 'start', 'durationMinutes', 'location', 'status'],
};

export const IMPORT_FORMAT_HELP = `
File formats
  JSON  { "therapists": [...], "clients": [...], "plans": [...], "sessions": [...] }
        each record in the domain model's shape (as in examples/*.json); any list may be left out,
        and no other key is allowed.
  CSV   one file, a header row, and a "type" column saying what each row is:
          type      columns it uses
          therapist id, name, email, timezone, summaryCadence (daily|weekly), summaryHour (0-23)
          client    id, name, email, timezone
          plan      id, clientId, therapistId, goal, phases, reminders, checkInAfter, status
          session   id, planId, start, durationMinutes, location, status
        Cells of columns a row's type does not use stay empty; empty cells take the defaults.
        phases     "name:COUNTxDAYSd" per phase, ";" between phases, the last phase without a
                   count: initial:6x7d;maintenance:28d
        reminders  ISO durations separated by spaces: P2D PT2H  (default P2D PT2H)
        start      an instant with its offset: 2027-02-01T14:00:00Z or 2027-02-01T09:00:00-05:00
        timezone   an IANA zone: Europe/London, America/New_York
        Rows may come in any order; a plan may refer to a client already in the table.

Example CSV
  type,id,name,email,timezone,clientId,therapistId,goal,phases,reminders,planId,start,durationMinutes,location
  therapist,t-amy,Amy Chen,amy@clinic.example,Europe/London,,,,,,,,,
  client,c-sam,Sam Patel,sam@example.com,Europe/London,,,,,,,,,
  plan,p-sam,,,,c-sam,t-amy,back-pain,initial:6x7d;maintenance:28d,P2D PT2H,,,,
  session,s-sam-1,,,,,,,,,p-sam,2027-02-01T14:00:00Z,60,Room 2

Every row is checked before anything is written; each bad row is reported with its line and
reason, and nothing is written unless --skip-invalid is given (then only the good rows are).
Checked besides each field: real calendar dates in 2000–2100; ids and references; one client per
email address, whatever its case; no two sessions of one plan at the same time. A therapist booked
for two clients at once is reported as a warning and imported. A JSON file may hold only the four
lists above.

An interrupted or failed import is finished by running the same file again: records already in
the table exactly as the file has them are left as they are and counted; a record that differs
is refused.`;

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

export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

export function describeProblem(p: RowProblem): string {
  return `${p.where}${p.type ? ` (${p.type}${p.id ? ` ${p.id}` : ''})` : ''}: ${p.reason}`;
}

/**
 * The file as UTF-8 text, or an error that says where it stops being UTF-8: a Latin-1 or
 * Windows-1252 export ("é" as one byte) would otherwise be imported with U+FFFD in its names.
 */
export function utf8Text(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
    throw new ImportFileError(`${path}: line ${line} (byte ${at}) is not UTF-8 text; save the file as UTF-8 (in a spreadsheet: "CSV UTF-8")`);
  }
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (length === 0) return i;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return bytes.length;
}

/** Reads a .csv or .json file into rows; problems that belong to single rows come back with them. */
export function readImportFile(path: string): { rows: ImportRow[]; problems: RowProblem[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ImportFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  const text = utf8Text(bytes, path);
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return rowsFromCsv(text);
  if (extension === '.json') return rowsFromJson(text, path);
  throw new ImportFileError(`${path}: expected a .csv or .json file`);
}

export function rowsFromJson(text: string, path = 'input'): { rows: ImportRow[]; problems: RowProblem[] } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ImportFileError(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ImportFileError(`${path}: expected an object with therapists, clients, plans and sessions lists`);
  const lists = RECORD_TYPES.map((t) => COLLECTION[t] as string);
  const unknown = Object.keys(data).filter((key) => !lists.includes(key));
  if (unknown.length > 0) {
    const hint = (key: string) => lists.find((l) => l.toLowerCase().startsWith(key.toLowerCase().replace(/s$/, '')));
    const named = unknown.map((key) => `"${key}"${hint(key) ? ` (did you mean "${hint(key)}"?)` : ''}`).join(', ');
    throw new ImportFileError(`${path}: unknown top-level key${unknown.length > 1 ? 's' : ''} ${named}; an import file holds only ${lists.join(', ')}`);
  }
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

function idOf(record: object): { id?: string } {
  const id = (record as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? { id } : {};
}

/** "initial:6x7d;maintenance:28d" → phases; undefined when the text does not follow the pattern. */
export function parsePhases(text: string): Array<{ name: string; sessions?: number; everyDays: number }> | undefined {
  const phases = text
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const parsed = phases.map((phase) => {
    const match = /^([^:]+):\s*(?:(\d+)\s*x\s*)?(\d+)\s*d$/i.exec(phase);
    if (!match) return undefined;
    return { name: match[1]!.trim(), ...(match[2] ? { sessions: Number(match[2]) } : {}), everyDays: Number(match[3]) };
  });
  return parsed.length > 0 && parsed.every((p) => p !== undefined) ? (parsed as Array<{ name: string; sessions?: number; everyDays: number }>) : undefined;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

function cellValue(column: string, cell: string): unknown {
  switch (column) {
    case 'durationMinutes':
    case 'summaryHour':
      return NUMBER.test(cell) ? Number(cell) : cell;
    case 'reminders':
      return cell.split(/[\s;]+/).filter((r) => r !== '');
    case 'phases':
      return parsePhases(cell) ?? cell;
    default:
      return cell;
  }
}

export function rowsFromCsv(text: string): { rows: ImportRow[]; problems: RowProblem[] } {
  let records;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new ImportFileError(`not valid CSV: ${error.message}`, { cause: error });
    throw error;
  }
  const [header, ...body] = records;
  if (!header) throw new ImportFileError('the CSV file is empty: expected a header row with a "type" column');
  const columns = header.fields.map((f) => f.trim());
  const known = new Set(['type', ...RECORD_TYPES.flatMap((t) => CSV_COLUMNS[t])]);
  const unknown = columns.filter((c) => !known.has(c));
  if (!columns.includes('type')) throw new ImportFileError(`line ${header.line}: the header has no "type" column (see keepwell import --help)`);
  if (unknown.length > 0)
    throw new ImportFileError(
      `line ${header.line}: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')}; known columns: ${[...known].join(', ')}`,
    );

  const rows: ImportRow[] = [];
  const problems: RowProblem[] = [];
  for (const { line, fields } of body) {
    const where = `line ${line}`;
    const cells = new Map(columns.map((c, i) => [c, (fields[i] ?? '').trim()]));
    const type = cells.get('type') as RecordType;
    if (!RECORD_TYPES.includes(type)) {
      problems.push({ where, reason: `type must be one of ${RECORD_TYPES.join(', ')}, not "${cells.get('type') ?? ''}"` });
      continue;
    }
    const id = cells.get('id') || undefined;
    if (fields.length > columns.length) {
      problems.push({ where, type, ...(id ? { id } : {}), reason: `${fields.length} cells but the header has ${columns.length} columns` });
      continue;
    }
    const allowed = new Set(CSV_COLUMNS[type]);
    const stray = columns.filter((c) => c !== 'type' && !allowed.has(c) && cells.get(c) !== '');
    if (stray.length > 0) {
      problems.push({
        where,
        type,
        ...(id ? { id } : {}),
        reason: `column${stray.length > 1 ? 's' : ''} ${stray.join(', ')} ${stray.length > 1 ? 'do' : 'does'} not apply to a ${type} row`,
      });
      continue;
    }
    const record: Record<string, unknown> = {};
    for (const column of CSV_COLUMNS[type]) {
      const cell = cells.get(column);
      if (cell === undefined || cell === '') continue;
      if (column === 'summaryCadence') record.summary = { ...(record.summary as object), cadence: cell };
      else if (column === 'summaryHour') record.summary = { ...(record.summary as object), hour: cellValue(column, cell) };
      else record[column] = cellValue(column, cell);
    }
    if (type === 'plan' && typeof record.phases === 'string') {
      problems.push({ where, type, ...(id ? { id } : {}), reason: `phases: "${record.phases}" should read like initial:6x7d;maintenance:28d` });
      continue;
    }
    rows.push({ where, type, ...(id ? { id } : {}), record });
  }
  return { rows, problems };
}

/** What the table already holds, asked about only the ids an import creates or refers to. */
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

const recordKey = (type: RecordType, id: string) => `${type}:${id}`;

export async function lookUpExisting(
  store: ClinicStore,
  rows: readonly ImportRow[],
  onProgress?: (done: number, total: number) => void,
  records?: Pick<ClientRecords, 'tombstonesFor'>,
): Promise<ExistingIds> {
  const wanted: Record<'therapists' | 'clients' | 'plans' | 'sessions', Set<string>> = {
    therapists: new Set(),
    clients: new Set(),
    plans: new Set(),
    sessions: new Set(),
  };
  for (const row of rows) {
    if (row.id) wanted[COLLECTION[row.type]].add(row.id);
    const r = row.record as { clientId?: unknown; therapistId?: unknown; planId?: unknown };
    if (row.type === 'plan' && typeof r.clientId === 'string') wanted.clients.add(r.clientId);
    if (row.type === 'plan' && typeof r.therapistId === 'string') wanted.therapists.add(r.therapistId);
    if (row.type === 'session' && typeof r.planId === 'string') wanted.plans.add(r.planId);
  }
  const exists: Record<keyof typeof wanted, (id: string) => Promise<unknown>> = {
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
  const typeOf: Record<keyof typeof wanted, RecordType> = { therapists: 'therapist', clients: 'client', plans: 'plan', sessions: 'session' };
  const total = Object.values(wanted).reduce((n, s) => n + s.size, 0) + addresses.size;
  let done = 0;
  for (const collection of Object.keys(wanted) as Array<keyof typeof wanted>) {
    for (const id of wanted[collection]) {
      // Ids the schema would refuse cannot be in the table; the validation step reports them.
      const stored = ID_PATTERN.test(id) ? await exists[collection](id) : undefined;
      if (stored) {
        found[collection].add(id);
        found.records.set(recordKey(typeOf[collection], id), stored);
      }
      onProgress?.(++done, total);
    }
  }
  for (const address of addresses) {
    const holder = await store.findClientIdByEmail(address);
    if (holder) found.emails.set(address, holder);
    onProgress?.(++done, total);
  }
  if (!records) return found;
  const clientIds = rows.flatMap((row) => (row.type === 'client' && row.id && ID_PATTERN.test(row.id) ? [row.id] : []));
  const tombstones = await records.tombstonesFor(clientIds, [...addresses]);
  const erased = new Map<string, string>();
  for (const [id, t] of tombstones.byId) erased.set(`id:${id}`, t.erasedAt);
  for (const [address, t] of tombstones.byEmail) erased.set(`email:${address}`, t.erasedAt);
  return { ...found, erased };
}

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
function nameInIdWarnings(rows: readonly ImportRow[], existing: ExistingIds, label: (row: ImportRow) => Omit<RowProblem, 'reason'>): RowProblem[] {
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
        ...label(row),
        reason: `id: holds part of the client's name; ids appear in schedule names, SES tags and logs, so use opaque ids (docs/ARCHITECTURE.md, "Imports and addresses")`,
      },
    ];
  });
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

/**
 * Validates rows against the domain's dataset rules and what the table holds. Without
 * `skipInvalid` the problems are all reported and the dataset is empty; with it, bad rows (and
 * rows that depended on them) are dropped and the rest is returned. Rows already in the table as
 * the file has them are left out of the dataset and counted as unchanged.
 */
export function planImport(rows: readonly ImportRow[], existing: ExistingIds, fileProblems: readonly RowProblem[], skipInvalid: boolean): ImportPlan {
  const problems: RowProblem[] = [...fileProblems];
  const known = { clients: existing.clients, therapists: existing.therapists, plans: existing.plans };
  const label = (row: ImportRow) => ({ where: row.where, type: row.type, ...(row.id ? { id: row.id } : {}) });
  const empty = { therapists: [], clients: [], plans: [], sessions: [] };

  const unchanged = new Set<ImportRow>();
  const refused = new Set<ImportRow>();
  for (const row of rows) {
    if (!row.id || !existing[COLLECTION[row.type]].has(row.id)) continue;
    const stored = existing.records?.get(recordKey(row.type, row.id));
    const differ = stored === undefined ? [] : differences(row, stored);
    if (differ === undefined) continue;
    if (stored !== undefined && differ.length === 0) {
      unchanged.add(row);
      continue;
    }
    refused.add(row);
    const how = differ.length > 0 ? ` with a different ${differ.join(', ')}` : '';
    problems.push({
      ...label(row),
      reason: `${row.type} "${row.id}" already exists in the table${how} (import creates records; use the session and plan commands to change them)`,
    });
  }
  for (const row of rows) {
    if (row.type !== 'client' || refused.has(row)) continue;
    const address = typeof row.record.email === 'string' ? normalizeEmail(row.record.email) : undefined;
    const byId = row.id ? existing.erased?.get(`id:${row.id}`) : undefined;
    const byEmail = address ? existing.erased?.get(`email:${address}`) : undefined;
    if (byId || byEmail) {
      refused.add(row);
      problems.push({
        ...label(row),
        reason: `${byId ? `client "${row.id}"` : 'email: the address'} was erased on ${(byId ?? byEmail)!.slice(0, 10)} (keepwell client erase): an erased client is not imported again`,
      });
    }
  }
  for (const row of rows) {
    const address = row.type === 'client' && typeof row.record.email === 'string' ? normalizeEmail(row.record.email) : undefined;
    const holder = address ? existing.emails?.get(address) : undefined;
    if (holder && holder !== row.id && !refused.has(row)) {
      refused.add(row);
      problems.push({ ...label(row), reason: `email: is the address of client ${holder} in the table already: one address is one client, whatever its case` });
    }
  }
  let remaining = rows.filter((row) => !unchanged.has(row) && !refused.has(row));

  for (;;) {
    try {
      const dataset = parseDataset(datasetOf(remaining), 'import', known);
      const bad = problems.length > 0 && !skipInvalid;
      const kept = bad ? [] : remaining;
      const warnings = bad
        ? []
        : [
            ...datasetWarnings(dataset).map((issue) => {
              const { row } = rowOfPath(remaining, issue.path);
              return { ...(row ? label(row) : { where: issue.path }), reason: withPlaces(remaining, issue.reason) };
            }),
            ...nameInIdWarnings(remaining, existing, label),
          ];
      return { dataset: bad ? empty : dataset, problems, warnings, skipped: rows.length - unchanged.size - kept.length, unchanged: bad ? 0 : unchanged.size };
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const badRows = new Set<ImportRow>();
      for (const issue of error.issues) {
        const { row, field } = rowOfPath(remaining, issue.path);
        if (row) badRows.add(row);
        const reason = withPlaces(remaining, issue.reason);
        problems.push({ ...(row ? label(row) : { where: issue.path }), reason: field ? `${field}: ${reason}` : reason });
      }
      if (badRows.size === 0) return { dataset: empty, problems, warnings: [], skipped: rows.length, unchanged: 0 };
      remaining = remaining.filter((r) => !badRows.has(r));
    }
  }
}

/** The run stopped between two writes (Ctrl-C, SIGTERM): what was written stands, and the same file run again finishes it. */
export class ImportInterruptedError extends ImportFileError {
  constructor(
    readonly written: number,
    readonly total: number,
  ) {
    super(
      `import interrupted: ${written} of ${total} record(s) written; run the same import again to finish (records already written are recognised and left as they are)`,
    );
  }
}

/** Writes a validated import in dependency order; an existing id is refused by the store, not overwritten. */
export async function writeImport(
  store: ClinicStore,
  dataset: Dataset,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<{ therapists: number; clients: number; plans: number; sessions: number }> {
  const total = dataset.therapists.length + dataset.clients.length + dataset.plans.length + dataset.sessions.length;
  let done = 0;
  const write = async (run: () => Promise<unknown>) => {
    if (signal?.aborted) throw new ImportInterruptedError(done, total);
    await run();
    onProgress?.(++done, total);
  };
  for (const therapist of dataset.therapists) await write(() => store.putTherapist(therapist));
  for (const client of dataset.clients) await write(() => store.putClient(client, { expectNew: true }));
  for (const plan of dataset.plans) await write(() => store.putPlan(plan));
  for (const session of dataset.sessions) await write(() => store.saveSession(session));
  return { therapists: dataset.therapists.length, clients: dataset.clients.length, plans: dataset.plans.length, sessions: dataset.sessions.length };
}

/**
 * Runs `work` with a signal that Ctrl-C or SIGTERM raises, so a write loop stops between two
 * records and says how far it got, instead of dying mid-way with nothing printed.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
