/**
 * What a therapist's follow-up summary says about one period: the data build-summary gathers and
 * the summary email (document, CSV) renders. Instants throughout; the email formats them in the
 * therapist's local time.
 */
import type { ScoreSet, Therapist } from './model.js';
import type { PlanChange } from './plan-change.js';
import type { Suggestion } from './suggestions.js';
import type { SummaryPeriod } from './summary-period.js';
import type { Instant } from './time.js';

/** One answered check-in on a plan's trend chart. */
export interface ChartPoint {
  readonly scores: ScoreSet;
  /** These answers are the plan's baseline. */
  readonly isBaseline: boolean;
  /** These are the intake questionnaire's answers (the baseline, before any session), not a check-in. */
  readonly intake?: boolean;
  /** The plan phase of the session the check-in followed. */
  readonly phaseIndex: number;
}

export interface SummaryClient {
  readonly id: string;
  /** Absent when the client is no longer on record. */
  readonly name?: string;
}

export interface CheckInLine {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly goal?: string;
  readonly sessionId: string;
  /** Absent when the session is no longer on record (deleted after the answers came in). */
  readonly sessionStart?: Instant;
  readonly answeredAt: Instant;
  readonly scores: ScoreSet;
  readonly baseline?: ScoreSet;
  readonly previous?: ScoreSet;
  readonly isBaseline: boolean;
  readonly notes: string;
  readonly wantsToRebook: boolean;
  /** Why these answers need attention; empty when they do not. */
  readonly flags: readonly string[];
  /** Pain at each of the plan's check-ins up to the period end, oldest first. */
  readonly painTrend: readonly number[];
}

export interface UnansweredCheckIn {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly sessionId: string;
  readonly sessionStart: Instant;
  readonly dueAt: Instant;
}

export interface RequestLine {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly sessionId: string;
  readonly sessionStart?: Instant;
  readonly message: string;
  readonly at: Instant;
}

export interface RebookLine {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly answeredAt: Instant;
}

export interface MaintenanceLine {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly goal: string;
  readonly state: 'due' | 'lapsed';
  readonly dueAt: Instant;
  readonly lapsedAt: Instant;
  /** Calendar days from the due date to the period end, in the therapist's zone. */
  readonly daysSinceDue: number;
  /** Became due or lapsed during this period. */
  readonly isNew: boolean;
}

/** One plan's course across its check-ins, with what its answers suggest: a chart and a suggestion. */
export interface PlanTrend {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly goal?: string;
  /** Every answered check-in of the plan up to the period end, oldest first. */
  readonly points: readonly ChartPoint[];
  readonly suggestions: readonly Suggestion[];
  /** A check-in of the period raised a red flag, or a suggestion asks for a closer look. */
  readonly needsAttention: boolean;
}

/** A change made to one of the therapist's plans in the period (from a summary link or the CLI). */
export interface PlanChangeLine {
  readonly client: SummaryClient;
  readonly planId: string;
  readonly goal?: string;
  readonly change: PlanChange;
}

export interface ComingSession {
  readonly client: SummaryClient;
  readonly sessionId: string;
  readonly start: Instant;
  readonly durationMinutes: number;
  readonly location: string;
  readonly number?: number;
  readonly phase?: string;
  readonly ofPhase?: number;
}

export interface SummaryCounts {
  readonly checkIns: number;
  readonly flagged: number;
  readonly unanswered: number;
  readonly requests: number;
  readonly wantsToRebook: number;
  readonly maintenanceDue: number;
  readonly maintenanceLapsed: number;
  readonly coming: number;
}

export interface SummaryData {
  readonly therapist: Pick<Therapist, 'id' | 'name' | 'timezone' | 'summary'>;
  readonly period: SummaryPeriod;
  readonly counts: SummaryCounts;
  /** Flagged check-ins first, then the rest; each group in the order the answers came in. */
  readonly checkIns: readonly CheckInLine[];
  readonly unanswered: readonly UnansweredCheckIn[];
  readonly requests: readonly RequestLine[];
  readonly rebook: readonly RebookLine[];
  readonly maintenance: readonly MaintenanceLine[];
  readonly coming: readonly ComingSession[];
  /** Plans with a check-in or an unanswered one in the period: those needing attention first. */
  readonly trends: readonly PlanTrend[];
  /** Changes to the therapist's plans made in the period, oldest first. */
  readonly planChanges: readonly PlanChangeLine[];
  /** Nothing happened in the period: no check-in, unanswered check-in, request, plan change or maintenance change. */
  readonly isEmpty: boolean;
}
