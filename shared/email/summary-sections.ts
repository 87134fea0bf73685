/**
 * The summary's sections in the order the therapist reads them: red flags first, then who needs a
 * reply, who is slipping on maintenance, the other check-ins (compact), the trends, plan changes,
 * and what is coming up. Each section's rows (table rows, or cards) are what the size guard
 * counts and cuts, least urgent (last) first.
 */
import { SCORES } from '../domain/model.js';
import { planChangeWords } from '../domain/plan-change.js';
import type { CheckInLine, PlanChangeLine, PlanTrend, SummaryData } from '../domain/summary.js';
import { comparisonOf, describeChange, describeCheckIn, NO_BASELINE_YET, trendLine } from '../domain/trends.js';
import { CHART_LEGEND, scoreTrendWords } from './chart.js';
import type { Block } from './document.js';
import { clientLabel, day, flatten, plural, shorten, when } from './summary-format.js';
import { goalLabel, NO_CHECK_INS } from './texts.js';

/** Notes of unflagged check-ins are cut to this many characters in the email (the CSV has them whole). */
export const COMPACT_NOTE_CHARS = 140;

/** The words of every "Adjust plan" link, and the table column that holds them. */
export const ADJUST_LABEL = 'Adjust plan';
export const ADJUST_COLUMN = 'Plan';

export type Links = ReadonlyMap<string, string> | undefined;

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
export interface Section {
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

export function sections(data: SummaryData, charts?: ReadonlyMap<string, ChartRef>, links?: Links): Section[] {
  const cached = sectionCache.get(data);
  if (cached && cached.charts === charts && cached.links === links) return cached.sections;
  const built = buildSections(data, charts, links);
  sectionCache.set(data, { charts, links, sections: built });
  return built;
}

type SectionOf = (data: SummaryData, charts: ReadonlyMap<string, ChartRef> | undefined, links: Links) => Section | undefined;

const zoneOf = (data: SummaryData) => data.therapist.timezone;
const flaggedOf = (data: SummaryData) => data.checkIns.filter((c) => c.flags.length > 0);

const redFlags: SectionOf = (data, _charts, links) => {
  const flagged = flaggedOf(data);
  if (flagged.length === 0) return undefined;
  return { heading: 'Red flags', cards: { what: 'flagged check-ins', items: flagged.map((c) => flagCard(c, zoneOf(data), links)) } };
};

const suggestions: SectionOf = (data) => {
  const suggested = data.trends.filter((t) => t.suggestions.length > 0);
  if (suggested.length === 0) return undefined;
  return {
    heading: 'Suggestions for your judgement',
    list: suggested.flatMap((t) => t.suggestions.map((x) => `${clientLabel(t.client)}: ${x.text} — ${x.because}`)),
  };
};

const requests: SectionOf = (data, _charts, links) => {
  if (data.requests.length === 0) return undefined;
  const zone = zoneOf(data);
  return {
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
  };
};

const rebook: SectionOf = (data) =>
  data.rebook.length === 0
    ? undefined
    : { heading: 'Would like to book', list: data.rebook.map((r) => `${clientLabel(r.client)} (said so ${when(r.answeredAt, zoneOf(data))})`) };

const unanswered: SectionOf = (data, _charts, links) => {
  if (data.unanswered.length === 0) return undefined;
  const zone = zoneOf(data);
  return {
    heading: 'Check-ins not answered',
    table: {
      what: 'unanswered check-ins',
      columns: ['Client', 'Session', 'Check-in sent'],
      rows: data.unanswered.map((u) => ({ cells: [clientLabel(u.client), when(u.sessionStart, zone), when(u.dueAt, zone)], ...rowLink(links, u.planId) })),
    },
  };
};

const maintenance: SectionOf = (data, _charts, links) => {
  if (data.maintenance.length === 0) return undefined;
  const zone = zoneOf(data);
  return {
    heading: 'Maintenance due or lapsed',
    table: {
      what: 'maintenance plans',
      columns: ['Client', 'Plan', 'Status', 'Due since'],
      rows: data.maintenance.map((m) => ({
        ...(m.state === 'lapsed' ? { tone: 'warning' as const } : {}),
        cells: [clientLabel(m.client), goalLabel(m.goal), m.state === 'lapsed' ? 'lapsed' : 'due', `${day(m.dueAt, zone)} (${plural(m.daysSinceDue, 'day')})`],
        ...rowLink(links, m.planId),
      })),
    },
  };
};

const otherCheckIns: SectionOf = (data, _charts, links) => {
  const others = data.checkIns.filter((c) => c.flags.length === 0);
  if (others.length === 0) return undefined;
  const zone = zoneOf(data);
  return {
    heading: flaggedOf(data).length > 0 ? 'Other check-ins' : 'Check-ins',
    table: {
      what: 'check-ins',
      columns: ['Client', 'Answers'],
      rows: others.map((c) => ({ cells: [`${clientLabel(c.client)} · ${answeredText(c, zone)}`, compactAnswers(c)], ...rowLink(links, c.planId) })),
    },
  };
};

const trends: SectionOf = (data, charts, links) => {
  // Drawn plans only: the check-in rows above already give every answer in words.
  const charted = data.trends.filter((t) => charts?.has(t.planId));
  if (charted.length === 0) return undefined;
  return {
    heading: 'Trends since baseline',
    list: [CHART_LEGEND],
    cards: { what: 'trend charts', items: charted.map((t) => trendCard(t, charts!.get(t.planId)!, links)) },
  };
};

const planChanges: SectionOf = (data) =>
  data.planChanges.length === 0
    ? undefined
    : { heading: 'Plan changes', list: data.planChanges.map((c) => planChangeText(c, data.therapist.id, zoneOf(data))) };

const coming: SectionOf = (data) => {
  if (data.coming.length === 0) return undefined;
  const zone = zoneOf(data);
  return {
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
  };
};

/** The sections in document order: the guard cuts from the end. */
const SECTIONS: readonly SectionOf[] = [redFlags, suggestions, requests, rebook, unanswered, maintenance, otherCheckIns, trends, planChanges, coming];

function buildSections(data: SummaryData, charts?: ReadonlyMap<string, ChartRef>, links?: Links): Section[] {
  return SECTIONS.flatMap((section) => section(data, charts, links) ?? []);
}

/** Every row the full document has, for the guard. */
export function totalRows(data: SummaryData, charts?: ReadonlyMap<string, ChartRef>, links?: Links): number {
  return sections(data, charts, links).reduce((n, s) => n + (s.table?.rows.length ?? 0) + (s.cards?.items.length ?? 0), 0);
}
