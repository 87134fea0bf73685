/**
 * The summary sweep, run every 15 minutes: each therapist gets their follow-up summary once per
 * period, at their local hour. Step by step, for each therapist:
 * 1. Find the latest period whose summary instant (local hour on a summary day) has passed —
 *    a late sweep still finds it, and a long outage sends only the newest period.
 * 2. Look the period's message up in the ledger: sent, skipped or failed means done; a live claim
 *    means another attempt is at work. The first look at a new period also closes the latest
 *    earlier period's entry if a retry had left it open, so nothing stays pending for ever.
 * 3. Send it through the delivery pipeline (delivery/pipeline.ts): claim it, build the summary
 *    from the store (send-summaries/build-summary.ts), and either record "nothing new" (therapists
 *    who want no empty summaries) or render and send it. A claim whose attempt died (older than the summary lease, twice the
 *    function's timeout) follows the crash policy every sender shares: it may have died after SES
 *    accepted the email, so it is marked failed "outcome unknown", never resent blind — a second
 *    copy of a summary full of health data is worse than an alarm ops can redrive.
 * 4. The outcome, settled by the pipeline: sent (with the SES message id); released on a
 *    retryable error, the sweep's retry strategy being the next sweep; failed on anything a retry
 *    cannot fix; the claim kept when SES may have the email.
 * The same sweep sends the clinic's monthly report (counts and averages, no client names) to the
 * owner address on the 1st of each month, by the same claim and settle rules; its figures are
 * built by send-summaries/build-clinic-report.ts.
 * Logs carry only opaque ids (therapist id, message name) and error names, never names,
 * addresses or answers.
 */
import type { OpsLog } from '../ports/log.js';
import { composeEmail } from '../email/email.js';
import { errorName, LedgerConflictError, PermanentError } from '../domain/errors.js';
import { messageName } from '../domain/message.js';
import type { Clinic, Therapist } from '../domain/model.js';
import { latestDuePeriod, previousPeriod, summaryIdentity, type SummaryPeriod } from '../domain/summary-period.js';
import { toInstant, type Instant } from '../domain/time.js';
import { composeSummary } from '../email/summary.js';
import { brandOf } from '../email/render.js';
import { renderChangeChart, renderTrendChart, type RenderedChart } from '../email/chart.js';
import { composeClinicReport } from '../email/clinic-report.js';
import { goalLabel } from '../email/texts.js';
import { clinicReportIdentity, latestDueMonth } from '../domain/report-month.js';
import { buildClinicReport } from './send-summaries/build-clinic-report.js';
import type { Mailer } from '../ports/mailer.js';
import type { ClaimRequest, ClinicStore, Ledger } from '../ports/store.js';
import { buildSummary } from './send-summaries/build-summary.js';
import type { SummaryData } from '../domain/summary.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { pagePaths, type TokenSigner } from '../security/tokens.js';
import { CLAIM_LEASE_MS, OUTCOME_UNKNOWN } from './delivery/lease.js';
import { deliver, type Built, type Sender } from './delivery/pipeline.js';

/** Where the sweep logs (Powertools' Logger in Lambda); attributes hold opaque ids only. */
export type SummaryLogger = OpsLog;

export interface SendSummariesDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly mailer: Mailer;
  readonly clinic: Clinic;
  readonly logger: SummaryLogger;
  /** Therapists handled at once. @default 4 */
  readonly concurrency?: number;
  /** Size limit for one raw summary message. @default MAX_RAW_MESSAGE_BYTES */
  readonly maxBytes?: number;
  /** Signs each client row's "Adjust plan" link; without it the summary has none. */
  readonly signer?: Pick<TokenSigner, 'issue'>;
}

export type SummaryOutcome =
  /** Sent now. */
  | 'sent'
  /** Nothing new, and the therapist asked for no empty summaries. */
  | 'skipped'
  /** The period's summary was already sent, skipped or failed. */
  | 'done'
  /** Another attempt holds the claim. */
  | 'in-progress'
  /** A retryable error: the claim was released and the next sweep tries again. */
  | 'retry'
  | 'failed';

export interface TherapistResult {
  readonly therapistId: string;
  readonly message?: string;
  readonly outcome: SummaryOutcome;
  /** Error name (and code), for failures and retries. */
  readonly reason?: string;
}

export interface ClinicReportResult {
  readonly message: string;
  readonly outcome: SummaryOutcome;
  readonly reason?: string;
  /** When the next month's report falls due. */
  readonly nextDueAt: Instant;
}

export interface SweepReport {
  readonly at: Instant;
  readonly therapists: number;
  readonly counts: Readonly<Record<SummaryOutcome, number>>;
  readonly results: readonly TherapistResult[];
  /** The clinic's monthly report, when the clinic has one configured. */
  readonly clinicReport?: ClinicReportResult;
}

/** An attempt that has held its claim this long died: the summary function's lease (twice its timeout). */
export const STALE_CLAIM_MS = CLAIM_LEASE_MS.summary;
/** Why a summary was not sent, as recorded in the ledger. */
export const SUMMARY_SKIP_REASON = 'nothing new';
const SUPERSEDED_REASON = 'not sent before the next summary fell due';

/** The error's class name and code: never its message, which may quote an address. */
export function errorReason(error: unknown): string {
  if (error instanceof PermanentError) return `${error.name} (${error.code})`;
  if (error instanceof Error) return error.name;
  return 'non-error thrown';
}

/** How many earlier periods the first look at a new period searches for an entry left open. */
export const OPEN_PERIOD_LOOKBACK = 7;

/**
 * A retry may have left an earlier period open (released, or a claim whose attempt died), and an
 * outage may have skipped the periods since: the newest earlier entry found is closed as failed,
 * so no summary stays pending for ever.
 */
async function closeEarlierPeriod(deps: SendSummariesDeps, therapist: Therapist, period: SummaryPeriod, now: Instant): Promise<void> {
  let earlier = period;
  for (let back = 0; back < OPEN_PERIOD_LOOKBACK; back++) {
    earlier = previousPeriod(therapist.summary, earlier);
    const name = messageName(summaryIdentity(therapist.id, earlier));
    const entry = await deps.ledger.get(name);
    if (!entry) continue;
    if (entry.status === 'released' || entry.status === 'claimed') {
      try {
        await deps.ledger.markFailed(name, SUPERSEDED_REASON, now);
        deps.logger.warn('summary period closed unsent', { therapistId: therapist.id, messageName: name });
      } catch (error) {
        // Settled meanwhile by the attempt that held it: that outcome stands.
        if (!(error instanceof LedgerConflictError)) throw error;
      }
    }
    return;
  }
}

type Settled = [SummaryOutcome, string?];
/** Notes counts for the "sent" log line (opaque numbers only). */
type Facts = (facts: Record<string, number>) => void;

/** Whether the ledger already holds this message's outcome: sent, skipped or failed. */
async function alreadySettled(ledger: Ledger, name: string): Promise<'settled' | 'open' | 'new'> {
  const existing = await ledger.get(name);
  if (!existing) return 'new';
  return existing.status === 'claimed' || existing.status === 'released' ? 'open' : 'settled';
}

/**
 * The sweep's part of the pipeline for one summary or report: its building (`build`, which returns
 * the email or settles "nothing new"), and its retry strategy — the next sweep: a retryable error
 * releases the claim for it, one that may have sent the email keeps the claim for the lease rule.
 */
function sweepDelivery(
  deps: SendSummariesDeps,
  claim: ClaimRequest,
  what: string,
  ids: Record<string, string>,
  build: (facts: Facts) => Promise<Built<Settled>>,
) {
  const { logger } = deps;
  const facts: Record<string, number> = {};
  const sender: Sender<Settled> = {
    build: () => build((more) => Object.assign(facts, more)),
    held: (held) => {
      if (held.state === 'in-flight') return ['in-progress'];
      if (held.state === 'settled') return ['done'];
      logger.error(`${what} outcome unknown: an earlier attempt stopped after its claim`, ids);
      return ['failed', OUTCOME_UNKNOWN];
    },
    sent: () => {
      logger.info(`${what} sent`, { ...ids, ...facts });
      return ['sent'];
    },
    failureReason: errorReason,
    failed: (reason) => {
      logger.error(`${what} failed`, { ...ids, error: reason });
      return ['failed', reason];
    },
    settledElsewhere: () => ['done'],
    retry: {
      // The email went out; the ledger must say so or the next attempt would send it again.
      recordAttempts: 3,
      retry: async (error) => {
        logger.warn(`${what} will be retried`, { ...ids, error: errorReason(error) });
        return ['retry', errorReason(error)];
      },
      keep: async (error) => {
        // Releasing or failing it would misstate what happened; the live claim keeps others off.
        const cause = error instanceof Error && error.cause !== undefined ? errorReason(error.cause) : errorReason(error);
        logger.error(`${what} may have been sent; claim kept`, { ...ids, error: cause });
        return ['failed', errorReason(error)];
      },
    },
  };
  return deliver({ ledger: deps.ledger, mailer: deps.mailer, claim, leaseMs: STALE_CLAIM_MS, log: logger, ids, sender });
}

/** Makes sure one therapist's latest due summary has been sent (or skipped), at most once. */
export async function sendSummary(deps: SendSummariesDeps, therapist: Therapist, nowInput: Instant | Date): Promise<TherapistResult> {
  const now = toInstant(nowInput);
  const period = latestDuePeriod(therapist.summary, therapist.timezone, now);
  const name = messageName(summaryIdentity(therapist.id, period));
  const ids = { therapistId: therapist.id, messageName: name };
  const result = ([outcome, reason]: Settled): TherapistResult => ({ ...ids, outcome, ...(reason ? { reason } : {}) });

  const standing = await alreadySettled(deps.ledger, name);
  if (standing === 'settled') return result(['done']);
  if (standing === 'new') await closeEarlierPeriod(deps, therapist, period, now);

  const claim: ClaimRequest = { name, kind: 'summary', therapistId: therapist.id, dueAt: period.end, now };
  return result(await sweepDelivery(deps, claim, 'summary', ids, (facts) => buildSummaryEmail(deps, therapist, period, name, now, facts)));
}

/** The summary's email, or "nothing new" settled for a therapist who wants no empty summaries. */
async function buildSummaryEmail(
  deps: SendSummariesDeps,
  therapist: Therapist,
  period: SummaryPeriod,
  name: string,
  now: Instant,
  facts: Facts,
): Promise<Built<Settled>> {
  const data = await buildSummary({ store: deps.store, therapist, period, clinic: deps.clinic });
  if (data.isEmpty && therapist.summary.whenEmpty === 'none') {
    await deps.ledger.settleSkipped(name, SUMMARY_SKIP_REASON, now);
    deps.logger.info('summary skipped', { therapistId: therapist.id, messageName: name, reason: SUMMARY_SKIP_REASON });
    return { settled: ['skipped'] };
  }
  const charts = await trendCharts(data.trends, deps.logger, therapist.id);
  const adjustLinks = deps.signer ? adjustLinksFor(data, deps.signer, deps.clinic, now) : undefined;
  const email = composeSummary(data, brandOf(deps.clinic), {
    charts,
    ...(adjustLinks ? { adjustLinks } : {}),
    ...(deps.maxBytes === undefined ? {} : { maxBytes: deps.maxBytes }),
  });
  facts({
    // How many check-ins raised a red flag is a health signal: it stays in the email, not the log.
    checkIns: data.counts.checkIns,
    ...(email.truncated ? { truncatedRows: email.truncated.totalRows - email.truncated.shownRows } : {}),
  });
  // The same envelope as every other email: the clinic's display name, header-safe values.
  const { subject, html, text, attachments, inlineImages } = email;
  return {
    email: composeEmail({
      clinic: deps.clinic,
      to: therapist.email,
      rendered: { subject, html, text, headers: {}, attachments, inlineImages },
      tags: { message: name, kind: 'summary' },
    }),
  };
}

/**
 * Makes sure the clinic's latest due monthly report has been sent, at most once, by the same
 * pipeline as a summary; undefined when the clinic has no report configured.
 */
export async function sendClinicReport(deps: SendSummariesDeps, nowInput: Instant | Date): Promise<ClinicReportResult | undefined> {
  const settings = deps.clinic.monthlyReport;
  if (!settings) return undefined;
  const now = toInstant(nowInput);
  const month = latestDueMonth(deps.clinic.timezone, settings.hour, now);
  const name = messageName(clinicReportIdentity(month));
  const result = ([outcome, reason]: Settled): ClinicReportResult => ({ message: name, outcome, ...(reason ? { reason } : {}), nextDueAt: month.nextDueAt });

  if ((await alreadySettled(deps.ledger, name)) === 'settled') return result(['done']);
  const claim: ClaimRequest = { name, kind: 'clinic-report', dueAt: month.dueAt, now };
  return result(
    await sweepDelivery(deps, claim, 'clinic report', { messageName: name }, async (facts) => {
      const figures = await buildClinicReport({ store: deps.store, ledger: deps.ledger }, month, now);
      const charts = new Map<string, RenderedChart>();
      for (const goal of figures.changeByGoal) charts.set(goal.goal, await renderChangeChart(goalLabel(goal.goal), goal.change));
      const rendered = composeClinicReport(figures, brandOf(deps.clinic), charts);
      facts({ activePlans: figures.plans.active });
      return { email: composeEmail({ clinic: deps.clinic, to: settings.to, rendered, tags: { message: name, kind: 'clinic-report' } }) };
    }),
  );
}

/** One sweep over every therapist; one therapist's trouble never stops the others. */
export async function sendDueSummaries(deps: SendSummariesDeps, nowInput: Instant | Date): Promise<SweepReport> {
  const now = toInstant(nowInput);
  const therapists = await deps.store.listTherapists();
  const results = await mapWithConcurrency(therapists, deps.concurrency ?? 4, async (therapist) => {
    try {
      return await sendSummary(deps, therapist, now);
    } catch (error) {
      deps.logger.error('summary sweep error', { therapistId: therapist.id, error: errorReason(error) });
      return { therapistId: therapist.id, outcome: 'failed' as const, reason: errorReason(error) };
    }
  });
  const counts: Record<SummaryOutcome, number> = { sent: 0, skipped: 0, done: 0, 'in-progress': 0, retry: 0, failed: 0 };
  for (const r of results) counts[r.outcome] += 1;
  const clinicReport = await sendClinicReport(deps, now).catch((error: unknown): ClinicReportResult => {
    deps.logger.error('clinic report sweep error', { error: errorReason(error) });
    return { message: 'clinic-report', outcome: 'failed', reason: errorReason(error), nextDueAt: now };
  });
  return { at: now, therapists: therapists.length, counts, results, ...(clinicReport ? { clinicReport } : {}) };
}

/**
 * One "Adjust plan" link per plan the summary names, shared by all its rows: a signed, encrypted
 * token bound to the therapist and the plan (nothing else in the URL), working for the clinic's
 * `adjustLinkHours` from the send, once.
 */
export function adjustLinksFor(
  data: SummaryData,
  signer: Pick<TokenSigner, 'issue'>,
  clinic: Pick<Clinic, 'baseUrl' | 'adjustLinkHours'>,
  now: Instant,
): Map<string, string> {
  const planIds = new Set([
    ...data.checkIns.map((c) => c.planId),
    ...data.unanswered.map((u) => u.planId),
    ...data.requests.map((r) => r.planId),
    ...data.maintenance.map((m) => m.planId),
    ...data.trends.map((t) => t.planId),
  ]);
  const links = new Map<string, string>();
  for (const planId of planIds) {
    const token = signer.issue({
      purpose: 'adjust-plan',
      clientId: data.therapist.id,
      subject: planId,
      now: new Date(now),
      lifetimeDays: clinic.adjustLinkHours / 24,
    });
    links.set(planId, `${clinic.baseUrl}${pagePaths.adjustPlan(token)}`);
  }
  return links;
}

/**
 * One PNG per plan with at least two check-ins. A chart that cannot be drawn leaves its plan
 * described in words: the summary still goes.
 */
async function trendCharts(trends: SummaryData['trends'], logger: SendSummariesDeps['logger'], therapistId: string): Promise<Map<string, RenderedChart>> {
  const charts = new Map<string, RenderedChart>();
  for (const trend of trends) {
    if (trend.points.length < 2) continue;
    try {
      charts.set(trend.planId, await renderTrendChart(trend.points));
    } catch (error) {
      logger.warn('trend chart not drawn; the summary describes it in words', { therapistId, error: errorName(error) });
      return charts;
    }
  }
  return charts;
}
