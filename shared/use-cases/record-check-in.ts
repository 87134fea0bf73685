/**
 * Records a client's check-in answers; the web form and the simulation's `check-in-response`
 * event both come here.
 *
 * 1. Validate the answers (checkInAnswersSchema); bad ones come back as field issues, nothing
 *    stored — unless the check-in is already answered, which is then what the client is told
 *    (a back-and-resend never sees "Mobility is required" as if the answers were lost).
 * 2. Store them once per session, with the plan's baseline (the intake questionnaire's answers)
 *    and the previous check-in as they stand (domain/baseline.ts). A second submit finds them
 *    stored and reports `already-answered`.
 * 3. Look for red flags against the plan's baseline (shared/domain/red-flags.ts): until the intake
 *    is answered there is none, and only the absolute levels are flagged.
 * 4. If there are any, alert the therapist at once, exactly once per check-in: the alert's
 *    message identity is claimed in the ledger before sending and marked sent after.
 *
 * An alert failure a retry can fix (throttling, a storage error) gives the claim back and is thrown
 * as RetryableError after the answers are stored; the caller's retry finds them `already-answered`
 * and sends the alert still owed, so neither the answers nor the alert are lost, nor doubled.
 * A permanent refusal is recorded as failed in the ledger (where the outbox and alarms see it);
 * the answers stand.
 */
import { checkInAnswersSchema, idSchema, type CheckInAnswers, type Clinic } from '../domain/model.js';
import { issuesFromZod, parseOrThrow, type FieldIssue } from '../domain/validation.js';
import { RetryableError, PermanentError } from '../domain/errors.js';
import { messageName, type MessageIdentity } from '../domain/message.js';
import { redFlags } from '../domain/red-flags.js';
import { comparedBaseline } from '../domain/baseline.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { Mailer } from '../ports/mailer.js';
import type { DeliveryMetrics } from '../ports/metrics.js';
import { LedgerConflictError, SendOutcomeUnknownError, type ClinicStore, type Ledger, type Scores, type StoredCheckIn } from '../ports/store.js';
import { composeEmail } from '../email/email.js';
import { renderTherapistAlert } from '../email/templates.js';
import { resolveHeldClaim } from './claim-lease.js';
import { DEFAULT_CLAIM_LEASE_MS } from './send-message.js';

export interface AlertDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly mailer: Mailer;
  readonly clinic: Clinic;
  /** Where a red-flag alert's delay (sent minus the answers' time) is reported. @default none */
  readonly metrics?: Pick<DeliveryMetrics, 'lateness'>;
}

export type RecordCheckInDeps = AlertDeps;

/**
 * What became of a therapist alert: `none` when nothing called for one; `pending` when it is owed
 * but another attempt holds it (or a fresh read has not caught up), to be settled by a retry.
 */
export type AlertOutcome = 'none' | 'sent' | 'already-sent' | 'pending' | 'failed';

export type RecordCheckInResult =
  | { readonly status: 'recorded'; readonly checkIn: StoredCheckIn; readonly flags: string[]; readonly alert: AlertOutcome }
  | { readonly status: 'already-answered'; readonly alert: AlertOutcome }
  | { readonly status: 'invalid'; readonly issues: FieldIssue[] };

export async function recordCheckIn(
  deps: RecordCheckInDeps,
  input: { clientId: string; sessionId: string; answers: unknown; now: Date | Instant },
): Promise<RecordCheckInResult> {
  const clientId = parseOrThrow(idSchema, input.clientId, 'client id');
  const sessionId = parseOrThrow(idSchema, input.sessionId, 'session id');
  const parsed = checkInAnswersSchema.safeParse(input.answers);
  const at = toInstant(input.now);
  if (!parsed.success) {
    const stored = await storedCheckIn(deps, clientId, sessionId);
    if (stored) return { status: 'already-answered', alert: await alertOnFlags(deps, stored, flagsOf(stored), at) };
    return { status: 'invalid', issues: issuesFromZod(parsed.error) };
  }

  const checkIn = await deps.store.recordCheckIn({ clientId, sessionId, answers: parsed.data, at });
  if (checkIn) {
    const flags = flagsOf(checkIn);
    return { status: 'recorded', checkIn, flags, alert: await alertOnFlags(deps, checkIn, flags, at) };
  }
  // Already stored, by a double submit or by an attempt whose alert failed: settle the alert it owes.
  const stored = await storedCheckIn(deps, clientId, sessionId);
  if (!stored) return { status: 'already-answered', alert: 'pending' };
  return { status: 'already-answered', alert: await alertOnFlags(deps, stored, flagsOf(stored), at) };
}

async function storedCheckIn(deps: RecordCheckInDeps, clientId: string, sessionId: string): Promise<StoredCheckIn | undefined> {
  const bundle = await deps.store.getClientBundle(clientId);
  return bundle?.checkIns.find((c) => c.sessionId === sessionId);
}

/** The red flags a stored check-in raised, as its alert listed them. */
export function flagsOf(checkIn: StoredCheckIn): string[] {
  return redFlags(checkIn, comparedBaseline(checkIn));
}

export type AlertOffset = 'checkin' | 'resched' | 'confirm';

/** The therapist alert's identity: one per session and reason. */
export function alertIdentity(sessionId: string, offset: AlertOffset): MessageIdentity {
  return { kind: 'therapist-alert', subjectId: sessionId, offset, version: 1 };
}

export const redFlagAlertIdentity = (sessionId: string): MessageIdentity => alertIdentity(sessionId, 'checkin');

async function alertOnFlags(deps: AlertDeps, checkIn: StoredCheckIn, flags: string[], now: Instant): Promise<AlertOutcome> {
  if (flags.length === 0) return 'none';
  const answers: CheckInAnswers = {
    pain: checkIn.pain,
    mobility: checkIn.mobility,
    stress: checkIn.stress,
    sleep: checkIn.sleep,
    notes: checkIn.notes,
    wantsToRebook: checkIn.wantsToRebook,
  };
  const baseline = comparedBaseline(checkIn);
  return sendTherapistAlert(deps, {
    offset: 'checkin',
    clientId: checkIn.clientId,
    sessionId: checkIn.sessionId,
    therapistId: checkIn.therapistId,
    now,
    answeredAt: checkIn.answeredAt,
    content: { reason: 'red-flag', flags, answers, ...(baseline ? { baseline } : {}) },
  });
}

/** What the alert says, beyond who and which session. */
export type AlertContent =
  | { readonly reason: 'red-flag'; readonly flags: string[]; readonly answers: CheckInAnswers; readonly baseline?: Scores }
  | { readonly reason: 'reschedule-request'; readonly message: string }
  | { readonly reason: 'confirmed-after-request' };

/**
 * Sends the therapist one alert about a session, exactly once: `checkin` for a check-in's red
 * flags, `resched` for a reschedule request, `confirm` for a confirmation that follows one. The
 * name (the ledger key and the SES tag; alerts are sent at once, never scheduled) never says
 * "flag" or what was flagged: that is in the email only. A claim found held follows the crash policy every
 * sender shares (resolveHeldClaim): within the lease an attempt is in flight (`pending`); older,
 * it stopped between SES and the ledger, so it is marked failed "outcome unknown", never resent
 * blind. The one place alert errors map to outcomes: PermanentError → failed in the ledger;
 * SendOutcomeUnknownError (no answer from SES) → the claim kept and a RetryableError thrown;
 * anything else → the claim released and a RetryableError thrown, for the caller's retry.
 */
export async function sendTherapistAlert(
  deps: AlertDeps,
  input: { offset: AlertOffset; clientId: string; sessionId: string; therapistId: string; now: Instant; content: AlertContent; answeredAt?: Instant },
): Promise<AlertOutcome> {
  const identity = alertIdentity(input.sessionId, input.offset);
  const name = messageName(identity);
  const claim = await deps.ledger.claim({
    name,
    kind: identity.kind,
    clientId: input.clientId,
    sessionId: input.sessionId,
    therapistId: input.therapistId,
    dueAt: input.now,
    now: input.now,
  });
  if (!claim.claimed) {
    const held = await resolveHeldClaim(deps.ledger, claim.existing, input.now, DEFAULT_CLAIM_LEASE_MS);
    if (held.state === 'in-flight') return 'pending';
    return held.state === 'settled' && held.status === 'sent' ? 'already-sent' : 'failed';
  }

  // From here the claim is ours: every path ends in sent, failed, a released claim, or a kept one.
  let messageId: string;
  try {
    const { client, session, therapist } = await deps.store.getMessageContext({
      clientId: input.clientId,
      sessionId: input.sessionId,
      therapistId: input.therapistId,
    });
    if (!client || !session || !therapist)
      throw new PermanentError(`the alert's ${!client ? 'client' : !session ? 'session' : 'therapist'} no longer exists`, 'MissingSubject');
    const rendered = renderTherapistAlert({ clinic: deps.clinic, therapist, client, session, ...input.content });
    ({ messageId } = await deps.mailer.send(
      composeEmail({ clinic: deps.clinic, to: therapist.email, rendered, tags: { message: name, kind: identity.kind } }),
    ));
  } catch (error) {
    if (error instanceof PermanentError) {
      await settleOrYield(() => deps.ledger.markFailed(name, `${error.code}: ${error.message}`, input.now));
      return 'failed';
    }
    // SES may have the alert: keep the claim; a retry after the lease records "outcome unknown".
    if (!(error instanceof SendOutcomeUnknownError)) await deps.ledger.release(name);
    throw error instanceof RetryableError ? error : new RetryableError(`sending ${name} failed; it will be retried`, { cause: error });
  }
  // SES has the email: a failure to record it leaves the claim in place, never a second copy.
  await settleOrYield(() => deps.ledger.markSent(name, messageId, input.now));
  // A red-flag alert's delay after the answers were stored (a retry by the client's resend included).
  if (input.answeredAt) deps.metrics?.lateness(identity.kind, Date.parse(input.now) - Date.parse(input.answeredAt));
  return 'sent';
}

/** A settle that lost to another attempt (which recorded "outcome unknown") leaves that outcome standing. */
async function settleOrYield(settle: () => Promise<void>): Promise<void> {
  try {
    await settle();
  } catch (error) {
    if (!(error instanceof LedgerConflictError)) throw error;
  }
}
