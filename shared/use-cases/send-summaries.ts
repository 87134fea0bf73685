/**
 * The summary sweep, run every 15 minutes: each therapist gets their follow-up summary once per
 * period, at their local hour. Step by step, for each therapist:
 * 1. Find the latest period whose summary instant (local hour on a summary day) has passed —
 *    a late sweep still finds it, and a long outage sends only the newest period.
 * 2. Look the period's message up in the ledger: sent, skipped or failed means done; a live claim
 *    means another attempt is at work. The first look at a new period also closes the latest
 *    earlier period's entry if a retry had left it open, so nothing stays pending for ever.
 * 3. Claim it, build the summary from the store, and either record "nothing new" (therapists who
 *    want no empty summaries) or render and send it. A claim whose attempt died (older than
 *    STALE_CLAIM_MS) follows the crash policy every sender shares (resolveHeldClaim): it may have
 *    died after SES accepted the email, so it is marked failed "outcome unknown", never resent
 *    blind — a second copy of a summary full of health data is worse than an alarm ops can redrive.
 * 4. Record the outcome: sent (with the SES message id); released on a retryable error so the
 *    next sweep tries again; failed on anything a retry cannot fix.
 * The same sweep sends the clinic's monthly report (counts and averages, no client names) to the
 * owner address on the 1st of each month, by the same claim and settle rules.
 * Logs carry only opaque ids (therapist id, message name) and error names, never names,
 * addresses or answers.
 */
import type { OpsLog } from '../ports/log.js';
import { composeEmail } from '../email/email.js';
import { NotFoundError, PermanentError, RetryableError } from '../domain/errors.js';
import { messageName } from '../domain/message.js';
import type { Clinic, Therapist } from '../domain/model.js';
import { latestDuePeriod, previousPeriod, summaryIdentity, type SummaryPeriod } from '../domain/summary-period.js';
import { toInstant, type Instant } from '../domain/time.js';
import { ValidationError } from '../domain/validation.js';
import { composeSummary } from '../email/summary.js';
import { brandOf } from '../email/render.js';
import { renderChangeChart, renderTrendChart, type RenderedChart } from '../email/chart.js';
import { composeClinicReport } from '../email/clinic-report.js';
import { goalLabel } from '../email/texts.js';
import { clinicReportIdentity, latestDueMonth } from '../domain/report-month.js';
import { buildClinicReport } from './build-clinic-report.js';
import type { Mailer } from '../ports/mailer.js';
import { LedgerConflictError, SendOutcomeUnknownError, type ClaimRequest, type ClinicStore, type Ledger } from '../ports/store.js';
import { buildSummary, mapWithConcurrency, type SummaryData } from './build-summary.js';
import { pagePaths, type TokenSigner } from '../security/tokens.js';
import { OUTCOME_UNKNOWN, resolveHeldClaim } from './claim-lease.js';

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

/** An attempt that has held its claim this long died (the function times out after 5 minutes). */
export const STALE_CLAIM_MS = 15 * 60_000;
/** Why a summary was not sent, as recorded in the ledger. */
export const SUMMARY_SKIP_REASON = 'nothing new';
const SUPERSEDED_REASON = 'not sent before the next summary fell due';

/**
 * Retry, fail or keep the claim, decided here and nowhere else. Before the email is handed to the
 * mailer nothing has gone out, so an unexpected error is worth another try; once the mailer was
 * called, only an error that says the email was not accepted (RetryableError) may be retried, or
 * it could go twice. When SES may have the email but the ledger cannot say so (no answer from SES,
 * or a send it could not record) the claim is kept: the crash policy records "outcome unknown".
 */
export function errorOutcome(error: unknown, stage: 'before-send' | 'send'): 'retry' | 'fail' | 'keep' {
  if (error instanceof SendOutcomeUnknownError || error instanceof SentButUnrecordedError) return 'keep';
  if (error instanceof RetryableError) return 'retry';
  if (error instanceof PermanentError || error instanceof ValidationError || error instanceof NotFoundError) return 'fail';
  return stage === 'before-send' ? 'retry' : 'fail';
}

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
        deps.logger.warn('summary period closed unsent', { therapistId: therapist.id, message: name });
      } catch (error) {
        // Settled meanwhile by the attempt that held it: that outcome stands.
        if (!(error instanceof LedgerConflictError)) throw error;
      }
    }
    return;
  }
}

/** Claims the period's message; 'in-progress', 'done' or 'failed' (outcome unknown) when someone else had it. */
async function acquire(deps: SendSummariesDeps, request: ClaimRequest): Promise<'claimed' | 'in-progress' | 'done' | 'failed'> {
  const result = await deps.ledger.claim(request);
  if (result.claimed) return 'claimed';
  const held = await resolveHeldClaim(deps.ledger, result.existing, request.now, STALE_CLAIM_MS);
  return held.state === 'in-flight' ? 'in-progress' : held.state === 'settled' ? 'done' : 'failed';
}

/** Makes sure one therapist's latest due summary has been sent (or skipped), at most once. */
export async function sendSummary(deps: SendSummariesDeps, therapist: Therapist, nowInput: Instant | Date): Promise<TherapistResult> {
  const now = toInstant(nowInput);
  const period = latestDuePeriod(therapist.summary, therapist.timezone, now);
  const name = messageName(summaryIdentity(therapist.id, period));
  const result = (outcome: SummaryOutcome, reason?: string): TherapistResult => ({
    therapistId: therapist.id,
    message: name,
    outcome,
    ...(reason ? { reason } : {}),
  });

  const existing = await deps.ledger.get(name);
  if (existing && existing.status !== 'claimed' && existing.status !== 'released') return result('done');
  if (!existing) await closeEarlierPeriod(deps, therapist, period, now);

  const request: ClaimRequest = { name, kind: 'summary', therapistId: therapist.id, dueAt: period.end, now };
  const acquired = await acquire(deps, request);
  if (acquired === 'failed')
    deps.logger.error('summary outcome unknown: an earlier attempt stopped after its claim', { therapistId: therapist.id, message: name });
  if (acquired !== 'claimed') return result(acquired, acquired === 'failed' ? OUTCOME_UNKNOWN : undefined);

  return result(
    ...(await settleAttempt(
      deps,
      name,
      { therapistId: therapist.id, message: name },
      'summary',
      async (sending) => {
        const data = await buildSummary({ store: deps.store, therapist, period, clinic: deps.clinic });
        if (data.isEmpty && therapist.summary.whenEmpty === 'none') {
          await deps.ledger.settleSkipped(name, SUMMARY_SKIP_REASON, now);
          deps.logger.info('summary skipped', { therapistId: therapist.id, message: name, reason: SUMMARY_SKIP_REASON });
          return 'skipped';
        }
        const charts = await trendCharts(data.trends, deps.logger, therapist.id);
        const adjustLinks = deps.signer ? adjustLinksFor(data, deps.signer, deps.clinic, now) : undefined;
        const email = composeSummary(data, brandOf(deps.clinic), {
          charts,
          ...(adjustLinks ? { adjustLinks } : {}),
          ...(deps.maxBytes === undefined ? {} : { maxBytes: deps.maxBytes }),
        });
        sending();
        // The same envelope as every other email: the clinic's display name, header-safe values.
        const { messageId } = await deps.mailer.send(
          composeEmail({
            clinic: deps.clinic,
            to: therapist.email,
            rendered: {
              subject: email.subject,
              html: email.html,
              text: email.text,
              headers: {},
              attachments: email.attachments,
              inlineImages: email.inlineImages,
            },
            tags: { message: name, kind: 'summary' },
          }),
        );
        await markSentPersistently(deps.ledger, name, messageId, now);
        deps.logger.info('summary sent', {
          therapistId: therapist.id,
          message: name,
          // How many check-ins raised a red flag is a health signal: it stays in the email, not the log.
          checkIns: data.counts.checkIns,
          ...(email.truncated ? { truncatedRows: email.truncated.totalRows - email.truncated.shownRows } : {}),
        });
        return 'sent';
      },
      now,
    )),
  );
}

/**
 * Runs a claimed send and settles its claim by what went wrong, if anything: the one place the
 * sweep's summaries and the monthly report map errors to outcomes (errorOutcome). `work` calls
 * `sending()` just before it hands the email to the mailer.
 */
async function settleAttempt(
  deps: SendSummariesDeps,
  name: string,
  ids: Record<string, string>,
  what: string,
  work: (sending: () => void) => Promise<'sent' | 'skipped'>,
  now: Instant,
): Promise<[SummaryOutcome, string?]> {
  let stage: 'before-send' | 'send' = 'before-send';
  try {
    return [await work(() => (stage = 'send'))];
  } catch (error) {
    const reason = errorReason(error);
    const outcome = errorOutcome(error, stage);
    if (outcome === 'keep') {
      // Releasing or failing it would misstate what happened; the live claim keeps others off.
      deps.logger.error(`${what} may have been sent; claim kept`, {
        ...ids,
        error: error instanceof Error && error.cause !== undefined ? errorReason(error.cause) : reason,
      });
      return ['failed', reason];
    }
    if (outcome === 'retry') {
      await deps.ledger.release(name);
      deps.logger.warn(`${what} will be retried`, { ...ids, error: reason });
      return ['retry', reason];
    }
    await deps.ledger.markFailed(name, reason, now);
    deps.logger.error(`${what} failed`, { ...ids, error: reason });
    return ['failed', reason];
  }
}

/**
 * The email went out; the ledger must say so or the next attempt would send it again. A short
 * retry covers a passing throttle; if it still fails, the error surfaces (the claim stays, and
 * after STALE_CLAIM_MS the crash policy records it as "outcome unknown").
 */
async function markSentPersistently(ledger: Ledger, name: string, messageId: string, now: Instant): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ledger.markSent(name, messageId, now);
      return;
    } catch (error) {
      // A conflict means another attempt settled it (outcome unknown): retrying cannot help.
      if (attempt >= 3 || error instanceof LedgerConflictError) throw new SentButUnrecordedError(name, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/** The summary went out but the ledger could not record it. */
export class SentButUnrecordedError extends Error {
  override readonly name = 'SentButUnrecordedError';
  constructor(
    readonly messageName: string,
    options?: { cause?: unknown },
  ) {
    super(`summary ${messageName} was sent but could not be recorded as sent`, options);
  }
}

/**
 * Makes sure the clinic's latest due monthly report has been sent, at most once, by the same
 * claim and settle rules as a summary; undefined when the clinic has no report configured.
 */
export async function sendClinicReport(deps: SendSummariesDeps, nowInput: Instant | Date): Promise<ClinicReportResult | undefined> {
  const settings = deps.clinic.monthlyReport;
  if (!settings) return undefined;
  const now = toInstant(nowInput);
  const month = latestDueMonth(deps.clinic.timezone, settings.hour, now);
  const name = messageName(clinicReportIdentity(month));
  const result = ([outcome, reason]: [SummaryOutcome, string?]): ClinicReportResult => ({
    message: name,
    outcome,
    ...(reason ? { reason } : {}),
    nextDueAt: month.nextDueAt,
  });

  const existing = await deps.ledger.get(name);
  if (existing && existing.status !== 'claimed' && existing.status !== 'released') return result(['done']);
  const acquired = await acquire(deps, { name, kind: 'clinic-report', dueAt: month.dueAt, now });
  if (acquired === 'failed') deps.logger.error('clinic report outcome unknown: an earlier attempt stopped after its claim', { message: name });
  if (acquired !== 'claimed') return result([acquired, acquired === 'failed' ? OUTCOME_UNKNOWN : undefined]);

  return result(
    await settleAttempt(
      deps,
      name,
      { message: name },
      'clinic report',
      async (sending) => {
        const figures = await buildClinicReport({ store: deps.store, ledger: deps.ledger }, month, now);
        const charts = new Map<string, RenderedChart>();
        for (const goal of figures.changeByGoal) charts.set(goal.goal, await renderChangeChart(goalLabel(goal.goal), goal.change));
        const rendered = composeClinicReport(figures, brandOf(deps.clinic), charts);
        sending();
        const { messageId } = await deps.mailer.send(
          composeEmail({ clinic: deps.clinic, to: settings.to, rendered, tags: { message: name, kind: 'clinic-report' } }),
        );
        await markSentPersistently(deps.ledger, name, messageId, now);
        deps.logger.info('clinic report sent', { message: name, activePlans: figures.plans.active });
        return 'sent';
      },
      now,
    ),
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
      logger.warn('trend chart not drawn; the summary describes it in words', { therapistId, error: error instanceof Error ? error.name : 'unknown' });
      return charts;
    }
  }
  return charts;
}
