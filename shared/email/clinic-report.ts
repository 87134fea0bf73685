/**
 * The clinic's monthly report email: the month's figures (shared/domain/clinic-report.ts)
 * as a short document, one change-since-baseline chart per goal attached inline, and a CSV of the
 * same figures. Counts and averages only: nothing in it names or identifies a client.
 */
import { DateTime } from 'luxon';
import type { Score } from '../domain/model.js';
import { SCORES } from '../domain/model.js';
import type { ClinicReportFigures } from '../domain/clinic-report.js';
import { changeWords, SERIES, type RenderedChart } from './chart.js';
import type { Block, Brand, EmailDocument } from './document.js';
import type { InlineImage, RenderedEmail } from './email.js';
import { renderDocument } from './render.js';
import { toCsv } from './summary.js';
import { goalLabel } from './texts.js';

const percent = (rate: number | undefined) => (rate === undefined ? '' : ` (${Math.round(rate * 100)}%)`);
const minutes = (n: number) => `${n} minute${n === 1 ? '' : 's'}`;

export function monthName(figures: Pick<ClinicReportFigures, 'month'>): string {
  return DateTime.fromISO(figures.month.start, { zone: figures.month.zone }).toFormat('LLLL yyyy');
}

export function clinicReportSubject(figures: ClinicReportFigures): string {
  const flags = figures.redFlags.raised > 0 ? `, ${figures.redFlags.raised} red flag${figures.redFlags.raised === 1 ? '' : 's'}` : '';
  return `Clinic report for ${monthName(figures)}: ${figures.plans.active} active plan${figures.plans.active === 1 ? '' : 's'}${flags}`;
}

/** The figures as label / value pairs, shared by the email and its CSV. */
export function figureRows(f: ClinicReportFigures): Array<[string, string]> {
  const { redFlags: r } = f;
  const delay = r.medianMinutes === undefined ? '' : `; alert sent after ${minutes(r.medianMinutes)} (median), ${minutes(r.longestMinutes!)} at most`;
  return [
    ['Active plans', `${f.plans.active}${f.plans.paused > 0 ? ` (and ${f.plans.paused} paused)` : ''}`],
    ['Plans started', String(f.plans.started)],
    ['Plans completed', String(f.plans.completed)],
    ['Plans lapsed', String(f.plans.lapsed)],
    ['Check-ins answered', f.checkIns.sent === 0 ? 'none sent' : `${f.checkIns.answered} of ${f.checkIns.sent}${percent(f.checkIns.rate)}`],
    [
      'Maintenance attended',
      f.maintenance.planned === 0
        ? 'none planned'
        : `${f.maintenance.attended} of ${f.maintenance.planned}${percent(f.maintenance.rate)}${f.maintenance.missed > 0 ? `, ${f.maintenance.missed} missed` : ''}`,
    ],
    ['Red flags', r.raised === 0 ? 'none' : `${r.raised} raised, ${r.alerted} alerted${delay}`],
  ];
}

export const CLINIC_REPORT_CSV_COLUMNS = ['section', 'measure', 'value'] as const;

/** The report's figures as CSV: one row per figure, then one per goal and score. */
export function clinicReportCsv(f: ClinicReportFigures): string {
  const rows: Array<Array<string | number | undefined>> = [[...CLINIC_REPORT_CSV_COLUMNS]];
  const rate = f.checkIns.rate === undefined ? undefined : Math.round(f.checkIns.rate * 1000) / 1000;
  const figures: Record<string, Record<string, number | undefined>> = {
    plans: { ...f.plans },
    'check-ins': { sent: f.checkIns.sent, answered: f.checkIns.answered, 'response rate': rate },
    maintenance: { planned: f.maintenance.planned, attended: f.maintenance.attended, missed: f.maintenance.missed },
    'red flags': {
      raised: f.redFlags.raised,
      alerted: f.redFlags.alerted,
      'median alert minutes': f.redFlags.medianMinutes,
      'longest alert minutes': f.redFlags.longestMinutes,
    },
  };
  for (const [section, measures] of Object.entries(figures)) for (const [measure, value] of Object.entries(measures)) rows.push([section, measure, value]);
  for (const g of f.changeByGoal) {
    rows.push([`change since baseline: ${g.goal}`, 'check-ins', g.checkIns]);
    for (const s of SCORES) rows.push([`change since baseline: ${g.goal}`, s, g.change[s]]);
  }
  return toCsv(rows);
}

export function clinicReportCsvName(f: Pick<ClinicReportFigures, 'month'>): string {
  return `clinic-report-${f.month.key}.csv`;
}

/** `looks` is e.g. 'dashed blue': a bar has no dash, only the colour word. */
export const CHANGE_LEGEND = `Charts: one bar per score (${SCORES.map((s: Score) => `${s} ${SERIES[s].looks.split(' ').at(-1)}`).join(', ')}), drawn as improvement: above the line is better, below is worse.`;

/** The email, with `charts` (one per goal, by goal) attached inline under counter content ids. */
export function composeClinicReport(f: ClinicReportFigures, brand: Brand, charts: ReadonlyMap<string, RenderedChart> = new Map()): RenderedEmail {
  const month = monthName(f);
  const images: InlineImage[] = [];
  const blocks: Block[] = [
    { type: 'heading', text: `Your clinic in ${month}` },
    { type: 'paragraph', text: 'Counts and averages across every therapist; no client is named.' },
    { type: 'details', rows: figureRows(f) },
  ];
  if (f.changeByGoal.length === 0) {
    blocks.push({ type: 'paragraph', text: 'No check-ins to compare with a baseline this month.' });
  } else {
    // One paragraph per goal, not a six-column table: it reads on a phone, and the CSV has the grid.
    blocks.push({ type: 'heading', text: 'Change since baseline, by goal' });
    if (charts.size > 0) blocks.push({ type: 'paragraph', text: CHANGE_LEGEND });
    for (const g of f.changeByGoal) {
      blocks.push({ type: 'paragraph', text: `${goalLabel(g.goal)} (${g.checkIns} check-in${g.checkIns === 1 ? '' : 's'}): ${changeWords(g.change)}.` });
      const chart = charts.get(g.goal);
      if (!chart) continue;
      const cid = `change-${images.length + 1}@keepwell`;
      images.push({ filename: `change-${images.length + 1}.png`, contentType: 'image/png', content: chart.png, contentId: cid });
      blocks.push({ type: 'image', cid, alt: chart.alt });
    }
  }
  const doc: EmailDocument = {
    preheader: `${f.plans.active} active plans; check-ins answered ${f.checkIns.answered} of ${f.checkIns.sent}`,
    blocks,
    footer: [`Sent by Keepwell for ${brand.clinicName}. The attached CSV holds the same figures.`],
  };
  const { html, text } = renderDocument(doc, brand);
  return {
    subject: clinicReportSubject(f),
    html,
    text,
    headers: {},
    attachments: [{ filename: clinicReportCsvName(f), contentType: 'text/csv; charset=utf-8', content: clinicReportCsv(f) }],
    inlineImages: images,
  };
}
