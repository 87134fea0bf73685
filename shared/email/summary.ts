/**
 * The therapist's follow-up summary email: counts at the top, red flags first, then who needs a
 * reply, who is slipping on maintenance, the other check-ins (compact), and what is coming up;
 * with every check-in of the period in an attached CSV.
 *
 * A raw message must stay under 1 MB: the guard drops rows from the end of the email (the least
 * urgent first, flags last) until the estimate fits and says so in the email, while the CSV keeps
 * every check-in. Only if the flags and the whole CSV cannot fit together are the CSV's notes
 * shortened, as little as will do, and the email says that too.
 */
import { goalLabel, NO_CHECK_INS } from './texts.js';
import { DateTime } from 'luxon';
import type { Block, Brand, EmailDocument } from './document.js';
import { CHART_LEGEND, scoreTrendWords, type RenderedChart } from './chart.js';
import type { EmailAttachment, InlineImage } from './email.js';
import { renderDocument } from './render.js';
import { SCORES } from '../domain/model.js';
import { comparisonOf, describeChange, describeCheckIn, DIRECTION_LEGEND, NO_BASELINE_YET, trendLine } from '../domain/trends.js';
import type { CheckInLine, PlanChangeLine, PlanTrend, SummaryClient, SummaryData } from '../use-cases/build-summary.js';
import { planChangeWords } from '../domain/plan-change.js';

/** SES accepts larger messages, but many receiving servers and phones struggle past 1 MB. */
export const MAX_RAW_MESSAGE_BYTES = 1_000_000;
/** Room for the MIME headers, boundaries and part headers around the encoded parts. */
const ENVELOPE_ALLOWANCE_BYTES = 8_192;
/** Notes of unflagged check-ins are cut to this many characters in the email (the CSV has them whole). */
export const COMPACT_NOTE_CHARS = 140;

export const CSV_FILENAME = 'check-ins.csv';
const CSV_TYPE = 'text/csv; charset=utf-8';

// ---------------------------------------------------------------- formatting at the edge

function local(at: string, zone: string, format: string): string {
  return DateTime.fromISO(at, { zone: 'utc' }).setZone(zone).setLocale('en-GB').toFormat(format);
}
const when = (at: string, zone: string) => local(at, zone, 'ccc d LLL HH:mm');
const day = (at: string, zone: string) => local(at, zone, 'ccc d LLL');

function clientLabel(client: SummaryClient): string {
  return client.name ?? `Client ${client.id} (no longer on record)`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Free text on one line: line breaks would break a details row or a table cell in the text part. */
function flatten(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function shorten(text: string, max: number): string {
  const flat = flatten(text);
  if (flat.length <= max) return flat;
  return max < 2 ? '' : `${flat.slice(0, max - 1).trimEnd()}…`;
}

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

// ---------------------------------------------------------------- the document

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

/** The words of every "Adjust plan" link, and the table column that holds them. */
export const ADJUST_LABEL = 'Adjust plan';
const ADJUST_COLUMN = 'Plan';

type Links = ReadonlyMap<string, string> | undefined;

/** A table row's link to the plan's adjustment page, when the summary has one for it. */
function rowLink(links: Links, planId: string): { link?: { label: string; url: string } } {
  const url = links?.get(planId);
  return url ? { link: { label: ADJUST_LABEL, url } } : {};
}

/** The same link as a block under a card. */
function cardLink(links: Links, planId: string): Block[] {
  const url = links?.get(planId);
  return url ? [{ type: 'links', links: [{ label: ADJUST_LABEL, url }] }] : [];
}

/**
 * One part of the summary. Its rows (table rows, or cards of blocks) are what the size guard
 * counts and cuts; `what` names them in the note that says what was left out.
 */
interface Section {
  readonly heading: string;
  readonly list?: string[];
  readonly table?: {
    columns: readonly string[];
    rows: Array<{ cells: string[]; tone?: 'alert' | 'warning'; link?: { label: string; url: string } }>;
    what: string;
  };
  readonly cards?: { items: Block[][]; what: string };
}

function scoresOfLine(line: CheckInLine) {
  return {
    scores: line.scores,
    isBaseline: line.isBaseline,
    ...(line.baseline ? { baseline: line.baseline } : {}),
    ...(line.previous ? { previous: line.previous } : {}),
  };
}

const SCORE_LABEL: Record<(typeof SCORES)[number], string> = { pain: 'Pain', mobility: 'Mobility', stress: 'Stress', sleep: 'Sleep' };

function answeredText(line: CheckInLine, zone: string): string {
  const session = line.sessionStart ? `session ${when(line.sessionStart, zone)}` : 'session no longer on record';
  return `answered ${when(line.answeredAt, zone)} · ${session}`;
}

/** A flagged check-in in full: what is wrong first, then every score, the trend and the notes. */
function flagCard(line: CheckInLine, zone: string, links: Links): Block[] {
  const rows: Array<readonly [string, string]> = [
    ['Answered', answeredText(line, zone).replace(/^answered /, '')],
    ...SCORES.map((s) => [SCORE_LABEL[s], describeChange(comparisonOf(s, scoresOfLine(line)))] as const),
    ['Trend', trendLine('pain', line.painTrend)],
  ];
  if (line.wantsToRebook) rows.push(['Would like to book', 'yes']);
  if (flatten(line.notes)) rows.push(['Notes', flatten(line.notes)]);
  return [
    { type: 'notice', tone: 'alert', text: `${clientLabel(line.client)}: ${line.flags.join('; ')}` },
    { type: 'details', rows },
    ...cardLink(links, line.planId),
  ];
}

/** An unflagged check-in on one compact row. */
function compactAnswers(line: CheckInLine): string {
  const notes = shorten(line.notes, COMPACT_NOTE_CHARS);
  return [describeCheckIn(scoresOfLine(line)), trendLine('pain', line.painTrend), ...(notes ? [`notes: ${notes}`] : [])].join(' · ');
}

/** A chart as the document refers to it: the inline image's content id and its alt text. */
export interface ChartRef {
  readonly cid: string;
  readonly alt: string;
}

/** `Sam Patel · back pain: pain 7 → 4 since baseline, better; …` — the trend in words. */
function trendWords(trend: PlanTrend): string {
  const words = SCORES.map((s) => scoreTrendWords(s, trend.points)).filter((w): w is string => w !== undefined);
  const goal = trend.goal ? ` · ${goalLabel(trend.goal)}` : '';
  const change = words.length > 0 ? words.join('; ') : trend.points.length === 1 ? 'one check-in so far' : NO_CHECK_INS;
  const baseline = trend.points.length > 0 && !trend.points.some((p) => p.isBaseline) ? ` (${NO_BASELINE_YET})` : '';
  return `${clientLabel(trend.client)}${goal}: ${change}${baseline}`;
}

function trendCard(trend: PlanTrend, chart: ChartRef, links: Links): Block[] {
  return [{ type: 'paragraph', text: trendWords(trend) }, { type: 'image', cid: chart.cid, alt: chart.alt }, ...cardLink(links, trend.planId)];
}

/** `Sam Patel · Back pain: maintenance interval 28 → 21 days — by you from a summary link, Wed 10 Mar 12:00 — “note”` */
function planChangeText(line: PlanChangeLine, therapistId: string, zone: string): string {
  const { change } = line;
  const goal = line.goal ? ` · ${goalLabel(line.goal)}` : '';
  const who =
    change.via === 'email-link'
      ? change.by === therapistId
        ? 'by you, from a summary link'
        : 'from a summary link'
      : `by ${change.by}, from the clinic's CLI`;
  const note = change.note ? ` — “${flatten(change.note)}”` : '';
  return `${clientLabel(line.client)}${goal}: ${planChangeWords(change)} — ${who}, ${when(change.at, zone)}${note}`;
}

// The guard renders one summary several times; its rows are formatted once.
const sectionCache = new WeakMap<SummaryData, { charts: ReadonlyMap<string, ChartRef> | undefined; links: Links; sections: Section[] }>();

function sections(data: SummaryData, charts?: ReadonlyMap<string, ChartRef>, links?: Links): Section[] {
  const cached = sectionCache.get(data);
  if (cached && cached.charts === charts && cached.links === links) return cached.sections;
  const built = buildSections(data, charts, links);
  sectionCache.set(data, { charts, links, sections: built });
  return built;
}

function buildSections(data: SummaryData, charts?: ReadonlyMap<string, ChartRef>, links?: Links): Section[] {
  const zone = data.therapist.timezone;
  const flagged = data.checkIns.filter((c) => c.flags.length > 0);
  const others = data.checkIns.filter((c) => c.flags.length === 0);
  const out: Section[] = [];

  if (flagged.length > 0) {
    out.push({ heading: 'Red flags', cards: { what: 'flagged check-ins', items: flagged.map((c) => flagCard(c, zone, links)) } });
  }
  const suggested = data.trends.filter((t) => t.suggestions.length > 0);
  if (suggested.length > 0) {
    out.push({
      heading: 'Suggestions for your judgement',
      list: suggested.flatMap((t) => t.suggestions.map((x) => `${clientLabel(t.client)}: ${x.text} — ${x.because}`)),
    });
  }
  if (data.requests.length > 0) {
    out.push({
      heading: 'Reschedule requests',
      table: {
        what: 'reschedule requests',
        columns: ['Client', 'Session', 'Their message'],
        rows: data.requests.map((r) => ({
          tone: 'warning',
          cells: [clientLabel(r.client), r.sessionStart ? when(r.sessionStart, zone) : 'session no longer on record', flatten(r.message) || '(no message)'],
          ...rowLink(links, r.planId),
        })),
      },
    });
  }
  if (data.rebook.length > 0) {
    out.push({ heading: 'Would like to book', list: data.rebook.map((r) => `${clientLabel(r.client)} (said so ${when(r.answeredAt, zone)})`) });
  }
  if (data.unanswered.length > 0) {
    out.push({
      heading: 'Check-ins not answered',
      table: {
        what: 'unanswered check-ins',
        columns: ['Client', 'Session', 'Check-in sent'],
        rows: data.unanswered.map((u) => ({ cells: [clientLabel(u.client), when(u.sessionStart, zone), when(u.dueAt, zone)], ...rowLink(links, u.planId) })),
      },
    });
  }
  if (data.maintenance.length > 0) {
    out.push({
      heading: 'Maintenance due or lapsed',
      table: {
        what: 'maintenance plans',
        columns: ['Client', 'Plan', 'Status', 'Due since'],
        rows: data.maintenance.map((m) => ({
          ...(m.state === 'lapsed' ? { tone: 'warning' as const } : {}),
          cells: [
            clientLabel(m.client),
            goalLabel(m.goal),
            m.state === 'lapsed' ? 'lapsed' : 'due',
            `${day(m.dueAt, zone)} (${plural(m.daysSinceDue, 'day')})`,
          ],
          ...rowLink(links, m.planId),
        })),
      },
    });
  }
  if (others.length > 0) {
    out.push({
      heading: flagged.length > 0 ? 'Other check-ins' : 'Check-ins',
      table: {
        what: 'check-ins',
        columns: ['Client', 'Answers'],
        rows: others.map((c) => ({ cells: [`${clientLabel(c.client)} · ${answeredText(c, zone)}`, compactAnswers(c)], ...rowLink(links, c.planId) })),
      },
    });
  }
  // Drawn plans only: the check-in rows above already give every answer in words.
  const charted = data.trends.filter((t) => charts?.has(t.planId));
  if (charted.length > 0) {
    out.push({
      heading: 'Trends since baseline',
      list: [CHART_LEGEND],
      cards: { what: 'trend charts', items: charted.map((t) => trendCard(t, charts!.get(t.planId)!, links)) },
    });
  }
  if (data.planChanges.length > 0) {
    out.push({ heading: 'Plan changes', list: data.planChanges.map((c) => planChangeText(c, data.therapist.id, zone)) });
  }
  if (data.coming.length > 0) {
    out.push({
      heading: data.period.cadence === 'daily' ? 'Coming up before your next summary' : 'Coming up this week',
      table: {
        what: 'coming sessions',
        columns: ['When', 'Client', 'Session', 'Where'],
        rows: data.coming.map((s) => ({
          cells: [
            `${when(s.start, zone)} (${s.durationMinutes} min)`,
            clientLabel(s.client),
            s.number !== undefined ? `session ${s.number}${s.phase ? ` · ${s.phase}${s.ofPhase ? ` (of ${s.ofPhase})` : ''}` : ''}` : 'session',
            s.location,
          ],
        })),
      },
    });
  }
  return out;
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

// ---------------------------------------------------------------- the CSV

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
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
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

// ---------------------------------------------------------------- the size guard

/**
 * A safe upper estimate of a part's size once encoded in a MIME message: the larger of base64
 * (4/3, with a CRLF every 76 characters) and quoted-printable (each non-ASCII byte ×3), so the
 * guard holds whichever encoding the mailer picks.
 */
export function encodedSize(content: string): number {
  const bytes = Buffer.byteLength(content, 'utf8');
  const base64 = Math.ceil(bytes / 3) * 4 * (78 / 76);
  // Printable ASCII but "=", and line feeds, stay one character each; every other byte takes three.
  const plain = content.length - (content.match(/[^\x20-\x3c\x3e-\x7e\n]/g)?.length ?? 0);
  const quotedPrintable = (plain + (bytes - plain) * 3) * (76 / 75);
  return Math.ceil(Math.max(base64, quotedPrintable));
}

export interface ComposedSummary {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachments: readonly EmailAttachment[];
  /** The trend charts the email shows, attached inline. */
  readonly inlineImages: readonly InlineImage[];
  /** Set when the guard shortened the email: how many table rows it kept, of how many. */
  readonly truncated?: { readonly shownRows: number; readonly totalRows: number; readonly notesShortenedTo?: number };
  readonly estimatedBytes: number;
}

/** Base64 with line breaks, as MIME carries a binary attachment. */
const base64Size = (bytes: number) => Math.ceil(bytes / 3) * 4 * (78 / 76);

function estimate(subject: string, parts: { html: string; text: string }, csv: string | undefined, images: readonly InlineImage[]): number {
  const pictures = images.reduce((n, image) => n + base64Size(image.content.length) + 200, 0);
  return (
    ENVELOPE_ALLOWANCE_BYTES + Buffer.byteLength(subject) * 3 + encodedSize(parts.html) + encodedSize(parts.text) + (csv ? encodedSize(csv) : 0) + pictures
  );
}

/** The largest n in 0..max with fits(n), for a `fits` that holds up to some n and fails above it. */
function largestThatFits(max: number, fits: (n: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function totalRows(data: SummaryData, charts?: ReadonlyMap<string, ChartRef>, links?: Links): number {
  return sections(data, charts, links).reduce((n, s) => n + (s.table?.rows.length ?? 0) + (s.cards?.items.length ?? 0), 0);
}

/**
 * Content ids for the charts: a counter, never a plan or client id, so nothing in the MIME
 * structure names anyone.
 */
function chartRefs(charts: ReadonlyMap<string, RenderedChart> | undefined): { refs: Map<string, ChartRef>; images: Map<string, InlineImage> } {
  const refs = new Map<string, ChartRef>();
  const images = new Map<string, InlineImage>();
  let n = 0;
  for (const [planId, chart] of charts ?? []) {
    n += 1;
    const cid = `trend-${n}@keepwell`;
    refs.set(planId, { cid, alt: chart.alt });
    images.set(cid, { filename: `trend-${n}.png`, contentType: 'image/png', content: chart.png, contentId: cid });
  }
  return { refs, images };
}

/** The inline images a document shows: those its image blocks name. */
function shownImages(doc: EmailDocument, images: ReadonlyMap<string, InlineImage>): InlineImage[] {
  return doc.blocks.flatMap((b) => (b.type === 'image' && images.has(b.cid) ? [images.get(b.cid)!] : []));
}

/**
 * Subject, HTML, text, CSV and inline trend charts of one summary, kept under `maxBytes` by the
 * guard. `charts` holds each charted plan's picture by plan id; the guard cuts chart cards like
 * any other rows, least urgent first. `adjustLinks` holds each plan's "Adjust plan" link.
 */
export function composeSummary(
  data: SummaryData,
  brand: Brand,
  options: { maxBytes?: number; charts?: ReadonlyMap<string, RenderedChart>; adjustLinks?: ReadonlyMap<string, string> } = {},
): ComposedSummary {
  const maxBytes = options.maxBytes ?? MAX_RAW_MESSAGE_BYTES;
  const subject = summarySubject(data);
  const { refs, images } = chartRefs(options.charts);
  const charts = refs.size > 0 ? refs : undefined;
  const attach = (csv: string) => (data.isEmpty ? [] : [{ filename: CSV_FILENAME, contentType: CSV_TYPE, content: csv }]);
  const build = (rowBudget: number | undefined, csv: string, csvNoteChars?: number) => {
    const doc = summaryDocument(data, {
      ...(charts ? { charts } : {}),
      ...(options.adjustLinks ? { adjustLinks: options.adjustLinks } : {}),
      ...(rowBudget !== undefined ? { rowBudget } : {}),
      ...(csvNoteChars !== undefined ? { csvNoteChars } : {}),
    });
    const parts = renderDocument(doc, brand);
    const inlineImages = shownImages(doc, images);
    return { parts, inlineImages, bytes: estimate(subject, parts, data.isEmpty ? undefined : csv, inlineImages) };
  };

  const csv = checkInsCsv(data);
  const full = build(undefined, csv);
  if (full.bytes <= maxBytes) return { subject, ...full.parts, attachments: attach(csv), inlineImages: full.inlineImages, estimatedBytes: full.bytes };

  // Keep as many rows as fit: the largest budget whose email is under the limit.
  const total = totalRows(data, charts, options.adjustLinks);
  let keptCsv = csv;
  let notesShortenedTo: number | undefined;
  // The red flags are the last thing to give up: if they and the whole CSV do not fit together,
  // the CSV's notes are shortened (as little as will do) before a flag leaves the email.
  const flaggedRows = data.checkIns.filter((c) => c.flags.length > 0).length;
  if (build(flaggedRows, csv).bytes > maxBytes) {
    const longest = Math.max(0, ...data.checkIns.map((c) => c.notes.length));
    notesShortenedTo = largestThatFits(longest, (chars) => build(flaggedRows, checkInsCsv(data, { maxNoteChars: chars }), chars).bytes <= maxBytes);
    keptCsv = checkInsCsv(data, { maxNoteChars: notesShortenedTo });
  }
  const rows = largestThatFits(total, (budget) => build(budget, keptCsv, notesShortenedTo).bytes <= maxBytes);
  const kept = build(rows, keptCsv, notesShortenedTo);
  return {
    subject,
    ...kept.parts,
    attachments: attach(keptCsv),
    inlineImages: kept.inlineImages,
    truncated: { shownRows: rows, totalRows: total, ...(notesShortenedTo !== undefined ? { notesShortenedTo } : {}) },
    estimatedBytes: kept.bytes,
  };
}
