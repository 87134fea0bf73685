/**
 * What the clinic's monthly report says: the figures the summary sweep computes
 * (shared/use-cases/send-summaries/build-clinic-report.ts) and the email renders
 * (shared/email/clinic-report.ts). Counts and averages only: nothing in them names or identifies
 * a client.
 */
import type { Score } from './model.js';
import type { ReportMonth } from './report-month.js';

export interface GoalChange {
  readonly goal: string;
  /** Check-ins averaged (answered in the month, compared with a baseline). */
  readonly checkIns: number;
  /** Mean answer − baseline per score, one decimal. */
  readonly change: Readonly<Record<Score, number>>;
}

export interface ClinicReportFigures {
  readonly month: ReportMonth;
  readonly plans: { readonly active: number; readonly paused: number; readonly started: number; readonly completed: number; readonly lapsed: number };
  readonly checkIns: { readonly sent: number; readonly answered: number /** answered ÷ sent, 0–1; undefined when none was sent. */; readonly rate?: number };
  readonly changeByGoal: readonly GoalChange[];
  readonly maintenance: { readonly planned: number; readonly attended: number; readonly missed: number; readonly rate?: number };
  readonly redFlags: { readonly raised: number; readonly alerted: number; readonly medianMinutes?: number; readonly longestMinutes?: number };
}
