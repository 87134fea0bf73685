/**
 * The figures of the clinic's monthly report, the build step of its send in the summary sweep
 * (send-summaries.ts; their type is the domain's clinic-report.ts): how the practice's plans are
 * doing, in counts and averages only — no client is named or identifiable. Step by step:
 * 1. Read, per therapist, the plans and the activity from the month's start until now (the
 *    month's sessions, and the check-ins answered since it began), and the ledger entries settled
 *    in the month (the outbox-by-day index).
 * 2. Compute the figures (clinicReportFigures, pure):
 *    - active plans: plans active now (and paused ones, counted apart);
 *    - check-in response rate: check-in emails sent in the month, and how many of those sessions
 *      have been answered by now;
 *    - change since baseline per goal: the mean of (answer − baseline) per score over the month's
 *      answered check-ins that were compared with a baseline (the intake answered before them);
 *    - plans started (their first session took place in the month), completed (marked completed
 *      and seen in the month) and lapsed (maintenance lapsed in the month);
 *    - maintenance adherence: maintenance sessions in the month, attended against planned
 *      (booked, attended or missed; cancelled ones are not planned any more);
 *    - red flags: check-ins of the month whose answers raised one, how many alerts were sent and
 *      how long after the answers (median and longest, in minutes).
 */
import { SCORES, type Score, type ScoreSet } from '../../domain/model.js';
import type { ReportMonth } from '../../domain/report-month.js';
import type { ClinicReportFigures } from '../../domain/clinic-report.js';
import { messageName } from '../../domain/message.js';
import type { ClinicStore, Ledger, LedgerEntry, StoredCheckIn, StoredPlan, StoredSession } from '../../ports/store.js';
import { comparedBaseline } from '../../domain/baseline.js';
import { mapWithConcurrency } from '../../util/concurrency.js';
import { flagsOf, redFlagAlertIdentity } from '../delivery/therapist-alert.js';
import type { Instant } from '../../domain/time.js';

export interface ClinicReportInput {
  readonly month: ReportMonth;
  readonly plans: readonly StoredPlan[];
  /** Sessions that started in the month. */
  readonly sessions: readonly StoredSession[];
  /** Check-ins answered from the month's start until the report is built. */
  readonly answered: readonly StoredCheckIn[];
  /** Check-in emails sent in the month, by session id. */
  readonly checkInsSent: readonly string[];
  /** The red-flag alert's ledger entry for each flagged check-in of the month that has one, by session id. */
  readonly alerts: ReadonlyMap<string, LedgerEntry>;
}

const oneDecimal = (n: number) => Math.round(n * 10) / 10;
const within = (at: string, month: ReportMonth) => at >= month.start && at < month.end;

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Check-ins answered in the month whose answers raised a red flag against their baseline. */
export function flaggedCheckIns(answered: readonly StoredCheckIn[], month: ReportMonth): StoredCheckIn[] {
  return answered.filter((c) => within(c.answeredAt, month) && flagsOf(c).length > 0);
}

export function clinicReportFigures(input: ClinicReportInput): ClinicReportFigures {
  const { month } = input;
  const planById = new Map(input.plans.map((p) => [p.id, p]));
  const monthCheckIns = input.answered.filter((c) => within(c.answeredAt, month));

  const answeredSessions = new Set(input.answered.map((c) => c.sessionId));
  const sent = new Set(input.checkInsSent);
  const answered = [...sent].filter((id) => answeredSessions.has(id)).length;

  // Only check-ins that had a baseline (the intake answered before them) count towards the change.
  const byGoal = new Map<string, Array<{ readonly answers: StoredCheckIn; readonly baseline: ScoreSet }>>();
  for (const c of monthCheckIns) {
    const goal = planById.get(c.planId)?.goal;
    const baseline = comparedBaseline(c);
    if (!goal || !baseline) continue;
    byGoal.set(goal, [...(byGoal.get(goal) ?? []), { answers: c, baseline }]);
  }
  const changeByGoal = [...byGoal.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([goal, checkIns]) => ({
      goal,
      checkIns: checkIns.length,
      change: Object.fromEntries(
        SCORES.map((s) => [s, oneDecimal(checkIns.reduce((sum, c) => sum + c.answers[s] - c.baseline[s], 0) / checkIns.length)]),
      ) as Record<Score, number>,
    }));

  const live = input.sessions.filter((s) => s.status !== 'cancelled');
  const plansSeen = new Set(live.map((s) => s.planId));
  const maintenance = live.filter((s) => s.maintenance);
  const attended = maintenance.filter((s) => s.status === 'completed').length;

  const flagged = flaggedCheckIns(input.answered, month);
  const delays = flagged.flatMap((c) => {
    const alert = input.alerts.get(c.sessionId);
    return alert?.status === 'sent' ? [Math.max(0, Math.round((Date.parse(alert.updatedAt) - Date.parse(c.answeredAt)) / 60_000))] : [];
  });

  return {
    month,
    plans: {
      active: input.plans.filter((p) => p.status === 'active').length,
      paused: input.plans.filter((p) => p.status === 'paused').length,
      started: new Set(live.filter((s) => s.number === 1).map((s) => s.planId)).size,
      completed: input.plans.filter((p) => p.status === 'completed' && plansSeen.has(p.id)).length,
      lapsed: input.plans.filter((p) => p.maintenanceMark?.state === 'lapsed' && within(p.maintenanceMark.lapsedAt, month)).length,
    },
    checkIns: { sent: sent.size, answered, ...(sent.size > 0 ? { rate: answered / sent.size } : {}) },
    changeByGoal,
    maintenance: {
      planned: maintenance.length,
      attended,
      missed: maintenance.filter((s) => s.status === 'no-show').length,
      ...(maintenance.length > 0 ? { rate: attended / maintenance.length } : {}),
    },
    redFlags: {
      raised: flagged.length,
      alerted: delays.length,
      ...(delays.length > 0 ? { medianMinutes: median(delays)!, longestMinutes: Math.max(...delays) } : {}),
    },
  };
}

/** Reads what the month's figures need and computes them. */
export async function buildClinicReport(
  deps: { readonly store: ClinicStore; readonly ledger: Ledger },
  month: ReportMonth,
  now: Instant,
): Promise<ClinicReportFigures> {
  const therapists = await deps.store.listTherapists();
  const per = await mapWithConcurrency(therapists, 4, async (t) => {
    // One read from the month's start to now covers the month's sessions and every answer since.
    const [plans, activity] = await Promise.all([deps.store.therapistPlans(t.id), deps.store.therapistActivity(t.id, month.start, now)]);
    return { plans, sessions: activity.sessions.filter((s) => within(s.start, month)), answered: activity.checkIns };
  });
  const plans = per.flatMap((p) => p.plans);
  const sessions = per.flatMap((p) => p.sessions);
  const answered = per.flatMap((p) => p.answered);

  const settled = await deps.ledger.listSince(month.start, month.end);
  const checkInsSent = settled
    .filter((e) => e.kind === 'check-in' && e.status === 'sent' && within(e.updatedAt, month) && e.sessionId)
    .map((e) => e.sessionId!);
  const byName = new Map(settled.map((e) => [e.name, e]));
  const alerts = new Map<string, LedgerEntry>();
  for (const c of flaggedCheckIns(answered, month)) {
    const name = messageName(redFlagAlertIdentity(c.sessionId));
    // An alert answered late in the month may have gone out in the next one.
    const entry = byName.get(name) ?? (await deps.ledger.get(name));
    if (entry) alerts.set(c.sessionId, entry);
  }
  return clinicReportFigures({ month, plans, sessions, answered, checkInsSent, alerts });
}
