/**
 * Step 3 of a therapist's summary (build-summary.ts): each check-in compared with the plan's
 * baseline and the previous check-in and flagged, and each plan's pain trend with the
 * suggestions it supports.
 */
import { scoresOf, type Clinic } from '../../domain/model.js';
import { redFlags } from '../../domain/red-flags.js';
import { checkInDueAt, numberSessions } from '../../domain/schedule-rules.js';
import { suggestionsFor, type AnsweredCheckIn, type Suggestion } from '../../domain/suggestions.js';
import type { SummaryPeriod } from '../../domain/summary-period.js';
import type { ClientBundle, StoredCheckIn, StoredPlan, StoredSession } from '../../ports/store.js';
import type { ChartPoint, CheckInLine, PlanTrend, SummaryClient, UnansweredCheckIn } from '../../domain/summary.js';

/** What of the clinic's settings a summary reads: quiet hours (when check-ins fall due) and its suggestion rules. */
export type SummaryClinic = Pick<Clinic, 'quietHours'> & Partial<Pick<Clinic, 'suggestions'>>;

export function byTime<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => key(a).localeCompare(key(b));
}

const ATTENTION_KINDS: ReadonlySet<Suggestion['kind']> = new Set(['shorter-interval', 'phone']);

/**
 * Each plan with a check-in or an unanswered one in the period: its answered check-ins as chart
 * points (phase by session number) and the suggestions they support; attention first.
 */
export function planTrends(input: {
  lines: readonly CheckInLine[];
  unanswered: readonly UnansweredCheckIn[];
  bundles: ReadonlyMap<string, ClientBundle>;
  planById: ReadonlyMap<string, StoredPlan>;
  period: SummaryPeriod;
  clinic: SummaryClinic;
  who: (clientId: string) => SummaryClient;
}): PlanTrend[] {
  const { lines, unanswered, bundles, planById, period, clinic, who } = input;
  const planOfSession = new Map<string, { clientId: string; planId: string }>();
  for (const bundle of bundles.values()) for (const s of bundle.sessions) planOfSession.set(s.id, { clientId: s.clientId, planId: s.planId });
  const keys = new Map<string, { clientId: string; planId: string }>();
  for (const l of lines) keys.set(l.planId, { clientId: l.client.id, planId: l.planId });
  for (const u of unanswered) {
    const key = planOfSession.get(u.sessionId);
    if (key) keys.set(key.planId, key);
  }
  const flaggedPlans = new Set(lines.filter((l) => l.flags.length > 0).map((l) => l.planId));
  const trends: PlanTrend[] = [];
  for (const { clientId, planId } of keys.values()) {
    const bundle = bundles.get(clientId);
    const plan = planById.get(planId) ?? bundle?.plans.find((p) => p.id === planId);
    if (!bundle || !plan) continue;
    const sessions = bundle.sessions.filter((x) => x.planId === planId);
    const numbers = numberSessions(plan, sessions);
    const answered = bundle.checkIns.filter((c) => c.planId === planId && c.answeredAt < period.end).sort(byTime((c) => `${c.answeredAt}#${c.sessionId}`));
    const history: AnsweredCheckIn[] = answered.map((c) => ({
      scores: scoresOf(c),
      isBaseline: c.baseline,
      maintenance: numbers.get(c.sessionId)?.maintenance ?? false,
    }));
    const points: ChartPoint[] = answered.map((c, i) => ({
      scores: history[i]!.scores,
      isBaseline: c.baseline,
      phaseIndex: numbers.get(c.sessionId)?.phaseIndex ?? 0,
    }));
    // The intake questionnaire's answers come before every check-in: the chart's first, shaded column.
    if (plan.baseline && plan.baseline.sessionId === undefined && plan.baseline.at < period.end) {
      points.unshift({ scores: scoresOf(plan.baseline), isBaseline: true, intake: true, phaseIndex: 0 });
    }
    const baseline = answered.find((c) => c.baseline);
    // A client who opted out of check-ins (or cannot be emailed) was never asked.
    const asked = bundle.client.preferences['check-ins'] && !bundle.client.suppressed;
    const suggestions = suggestionsFor(
      {
        checkIns: history,
        ...(baseline ? { baseline: scoresOf(baseline) } : plan.baseline ? { baseline: scoresOf(plan.baseline) } : {}),
        unansweredStreak: asked ? unansweredStreak(sessions, (x) => checkInDueAt(x, plan, bundle.client.timezone, clinic.quietHours) < period.end) : 0,
      },
      clinic.suggestions,
    );
    trends.push({
      client: who(clientId),
      planId,
      goal: plan.goal,
      points,
      suggestions,
      needsAttention: flaggedPlans.has(planId) || suggestions.some((x) => ATTENTION_KINDS.has(x.kind)),
    });
  }
  return trends.sort(
    (a, b) =>
      Number(b.needsAttention) - Number(a.needsAttention) ||
      (a.client.name ?? a.client.id).localeCompare(b.client.name ?? b.client.id) ||
      a.planId.localeCompare(b.planId),
  );
}

/** How many of the plan's most recent sessions whose check-in went out in a row have no answer. */
function unansweredStreak(sessions: readonly StoredSession[], checkInSent: (s: StoredSession) => boolean): number {
  const past = sessions.filter((s) => (s.status === 'booked' || s.status === 'completed') && checkInSent(s)).sort(byTime((s) => `${s.start}#${s.id}`));
  let streak = 0;
  for (let i = past.length - 1; i >= 0 && !past[i]!.checkInAnsweredAt; i -= 1) streak += 1;
  return streak;
}

export function checkInLine(
  c: StoredCheckIn,
  bundle: ClientBundle | undefined,
  plan: StoredPlan | undefined,
  period: SummaryPeriod,
  client: SummaryClient,
  session: StoredSession | undefined,
): CheckInLine {
  const scores = scoresOf(c);
  // Answers stored before baselines were captured fall back to the plan's baseline, unless these
  // answers are that baseline or came before it (no baseline yet when they were given).
  const planBaseline = plan?.baseline && plan.baseline.sessionId !== c.sessionId && plan.baseline.at <= c.answeredAt ? scoresOf(plan.baseline) : undefined;
  const baseline = c.baseline ? scores : c.baselineScores ? scoresOf(c.baselineScores) : planBaseline;
  // The intake questionnaire's pain comes first, as the chart draws it.
  const intakePain = plan?.baseline && plan.baseline.sessionId === undefined && plan.baseline.at < period.end ? [plan.baseline.pain] : [];
  const painTrend = intakePain.concat(
    (bundle?.checkIns ?? [c])
      .filter((x) => x.planId === c.planId && x.answeredAt < period.end)
      .sort(byTime((x) => `${x.answeredAt}#${x.sessionId}`))
      .map((x) => x.pain),
  );
  return {
    client,
    planId: c.planId,
    ...(plan ? { goal: plan.goal } : {}),
    sessionId: c.sessionId,
    ...(session ? { sessionStart: session.start } : {}),
    answeredAt: c.answeredAt,
    scores,
    ...(baseline ? { baseline } : {}),
    ...(c.previous ? { previous: scoresOf(c.previous) } : {}),
    isBaseline: c.baseline,
    notes: c.notes ?? '',
    wantsToRebook: c.wantsToRebook ?? false,
    flags: redFlags(scores, c.baseline ? undefined : baseline),
    painTrend,
  };
}
