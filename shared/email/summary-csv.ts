/**
 * Every check-in of the period as the summary's attached CSV (RFC 4180), safe to open in a
 * spreadsheet: formula-like text is quoted, numbers stay numbers.
 */
import { SCORES } from '../domain/model.js';
import type { SummaryData } from '../domain/summary.js';
import { local, shorten } from './summary-format.js';

export const CSV_FILENAME = 'check-ins.csv';
export const CSV_TYPE = 'text/csv; charset=utf-8';

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field. Text that a spreadsheet would run as a formula (starting with = + - @, or a
 * tab or carriage return that some spreadsheets skip before one) gets a leading single quote.
 * Numbers this module computes are written as numbers: a negative change must stay a number.
 */
export function csvCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180: CRLF line ends, every row the same width. */
export function toCsv(rows: ReadonlyArray<ReadonlyArray<string | number | boolean | undefined>>): string {
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

export const CSV_COLUMNS = [
  'answered_at',
  'client_id',
  'client_name',
  'plan_id',
  'goal',
  'session_id',
  'session_start',
  'baseline',
  ...SCORES,
  ...SCORES.map((s) => `${s}_vs_baseline`),
  ...SCORES.map((s) => `${s}_vs_last`),
  'wants_to_book',
  'red_flags',
  'notes',
] as const;

/**
 * Every check-in of the period, in the order the answers came in; times in the therapist's zone
 * (`yyyy-MM-dd HH:mm`), changes as signed numbers. A UTF-8 byte-order mark lets spreadsheet
 * programs read accented names correctly.
 */
export function checkInsCsv(data: SummaryData, options: { maxNoteChars?: number } = {}): string {
  const rows = csvRows(data).map(({ cells, notes }) => [...cells, options.maxNoteChars === undefined ? notes : shorten(notes, options.maxNoteChars)]);
  return `\uFEFF${toCsv([[...CSV_COLUMNS], ...rows])}`;
}

type CsvValue = string | number | boolean | undefined;
const csvRowCache = new WeakMap<SummaryData, Array<{ cells: CsvValue[]; notes: string }>>();

/** Every column but the notes, formatted once per summary (the guard may ask for several cuts). */
function csvRows(data: SummaryData): Array<{ cells: CsvValue[]; notes: string }> {
  const cached = csvRowCache.get(data);
  if (cached) return cached;
  const zone = data.therapist.timezone;
  const stamp = (at: string | undefined) => (at ? local(at, zone, 'yyyy-MM-dd HH:mm') : undefined);
  const rows = [...data.checkIns]
    .sort((a, b) => a.answeredAt.localeCompare(b.answeredAt) || a.sessionId.localeCompare(b.sessionId))
    .map((c) => ({
      cells: [
        stamp(c.answeredAt),
        c.client.id,
        c.client.name,
        c.planId,
        c.goal,
        c.sessionId,
        stamp(c.sessionStart),
        c.isBaseline,
        ...SCORES.map((s) => c.scores[s]),
        ...SCORES.map((s) => (c.baseline && !c.isBaseline ? c.scores[s] - c.baseline[s] : undefined)),
        ...SCORES.map((s) => (c.previous ? c.scores[s] - c.previous[s] : undefined)),
        c.wantsToRebook,
        c.flags.join('; '),
      ],
      notes: c.notes,
    }));
  csvRowCache.set(data, rows);
  return rows;
}
