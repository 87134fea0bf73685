/**
 * `keepwell import`'s files: a clinic's therapists, clients, plans and sessions read from a CSV or
 * JSON file into rows, each remembering where it came from (CSV line, or JSON path). Checking
 * and writing them is the import use case's (shared/use-cases/import/): look up what the table
 * holds, refuse what clashes, validate all rows together, then write in dependency order.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { ImportFileError } from '../../shared/domain/errors.js';
import { COLLECTION, RECORD_TYPES, rowsOfLists, type ImportRow, type RecordType, type RowProblem } from '../../shared/use-cases/import/rows.js';
import { parseCsv, CsvSyntaxError } from './csv.js';

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
  return rowsOfLists(data);
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
  let records: ReturnType<typeof parseCsv>;
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
