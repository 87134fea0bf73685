/**
 * The therapist's follow-up summary as a document: its subject, counts at the top, then the
 * sections (summary-sections.ts), and a notice when the size guard left rows out.
 */
import type { SummaryData } from '../domain/summary.js';
import { DIRECTION_LEGEND } from '../domain/trends.js';
import type { Block, EmailDocument } from './document.js';
import { CSV_FILENAME } from './summary-csv.js';
import { day, plural, when } from './summary-format.js';
import { ADJUST_COLUMN, sections, type ChartRef } from './summary-sections.js';
import { NO_CHECK_INS } from './texts.js';

const CADENCE_TITLE = { daily: 'Daily summary', weekly: 'Weekly summary' } as const;

export function summarySubject(data: SummaryData): string {
  const { counts, period, therapist } = data;
  const title = `${CADENCE_TITLE[period.cadence]} · ${day(period.end, therapist.timezone)}`;
  // One wording for a period without answers, every time: "No check-ins".
  const parts = [counts.checkIns > 0 ? plural(counts.checkIns, 'check-in') : NO_CHECK_INS];
  if (counts.flagged > 0) parts.push(plural(counts.flagged, 'red flag'));
  if (counts.requests > 0) parts.push(plural(counts.requests, 'reschedule request'));
  // A quiet period still says when a client is waiting on the therapist for maintenance.
  const maintenance = counts.maintenanceDue + counts.maintenanceLapsed;
  if (data.isEmpty && maintenance > 0) parts.push(`${plural(maintenance, 'client')} due for maintenance`);
  return `${title} · ${parts.join(', ')}`;
}

function periodLine(data: SummaryData): string {
  const zone = data.therapist.timezone;
  return `${when(data.period.start, zone)} – ${when(data.period.end, zone)} (${zone})`;
}

/** The one line sent for a period with nothing new, when the therapist asked for one. */
export function emptySummaryLine(data: SummaryData): string {
  const coming = data.counts.coming > 0 ? ` ${plural(data.counts.coming, 'session')} coming up before your next summary.` : '';
  const maintenance = data.counts.maintenanceDue + data.counts.maintenanceLapsed;
  const due = maintenance > 0 ? ` ${plural(maintenance, 'client')} due for maintenance.` : '';
  return `${NO_CHECK_INS} ${periodLine(data)}: no missed check-ins or reschedule requests.${due}${coming}`;
}

/** How much the size guard lets the document show. */
export interface DocumentOptions {
  /** Each charted plan's picture, by plan id; a plan without one is described in words only. */
  readonly charts?: ReadonlyMap<string, ChartRef>;
  /** Rows (table rows and flag cards) to show, counted in document order. @default all */
  readonly rowBudget?: number;
  /** The attached CSV's notes were cut to this many characters. */
  readonly csvNoteChars?: number;
  /** Each named plan's "Adjust plan" link, by plan id; a plan without one gets no link. */
  readonly adjustLinks?: ReadonlyMap<string, string>;
}

function countRows(data: SummaryData): Array<readonly [string, string]> {
  const c = data.counts;
  return [
    ['Check-ins', c.flagged > 0 ? `${c.checkIns} (${c.flagged} with red flags)` : String(c.checkIns)],
    ['Not answered', String(c.unanswered)],
    ['Reschedule requests', String(c.requests)],
    ['Would like to book', String(c.wantsToRebook)],
    ['Maintenance due', String(c.maintenanceDue)],
    ['Maintenance lapsed', String(c.maintenanceLapsed)],
    ['Coming up', plural(c.coming, 'session')],
  ];
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

function footer(data: SummaryData): string[] {
  const s = data.therapist.summary;
  const cadence = s.cadence === 'daily' ? 'every day' : `every ${WEEKDAYS[s.weekday - 1] ?? 'week'}`;
  return [
    `You get this summary ${cadence} at ${String(s.hour).padStart(2, '0')}:00 (${data.therapist.timezone}).`,
    'It holds clients’ health information: please do not forward it.',
  ];
}

/** The full summary document, or with `rowBudget` only its first rows. */
export function summaryDocument(data: SummaryData, options: DocumentOptions = {}): EmailDocument {
  if (data.isEmpty) return { preheader: emptySummaryLine(data), blocks: [{ type: 'paragraph', text: emptySummaryLine(data) }], footer: footer(data) };

  const blocks: Block[] = [
    { type: 'heading', text: `${CADENCE_TITLE[data.period.cadence]} for ${data.therapist.name}` },
    { type: 'paragraph', text: periodLine(data) },
    { type: 'details', rows: countRows(data) },
  ];
  if (data.checkIns.length > 0) blocks.push({ type: 'paragraph', text: DIRECTION_LEGEND });
  let budget = options.rowBudget ?? Number.POSITIVE_INFINITY;
  const left: string[] = [];
  // Rows are given out in document order, so the guard cuts from the least urgent end.
  const take = <T>(items: readonly T[], what: string): readonly T[] => {
    const shown = items.slice(0, Math.max(0, Math.min(budget, items.length)));
    budget -= shown.length;
    if (shown.length < items.length) left.push(`${items.length - shown.length} ${what}`);
    return shown;
  };
  for (const section of sections(data, options.charts, options.adjustLinks)) {
    blocks.push({ type: 'heading', text: section.heading });
    if (section.list) blocks.push({ type: 'list', items: section.list });
    if (section.cards) blocks.push(...take(section.cards.items, section.cards.what).flat());
    if (section.table) {
      const shown = take(section.table.rows, section.table.what);
      if (shown.length > 0) blocks.push({ type: 'table', columns: section.table.columns, rows: shown, linkColumn: ADJUST_COLUMN });
    }
  }
  if (left.length > 0 || options.csvNoteChars !== undefined) {
    const omitted = left.length > 0 ? `This email leaves out ${left.join(', ')} to stay within email size limits. ` : '';
    const notes = options.csvNoteChars !== undefined ? ` (notes cut to ${options.csvNoteChars} characters to fit)` : '';
    blocks.push({ type: 'notice', tone: 'warning', text: `${omitted}The attached ${CSV_FILENAME} has every check-in of the period${notes}.` });
  }
  return {
    preheader: `${summarySubject(data)}.`,
    blocks,
    footer: [`Attached: ${CSV_FILENAME} with every check-in of the period.`, ...footer(data)],
  };
}
