/**
 * The therapist alert, sent at once (never scheduled) through the delivery pipeline, exactly once
 * per session and reason: `checkin` for a check-in's red flags, `resched` for a reschedule
 * request, `confirm` for a confirmation that follows one. The name (the ledger key and the SES
 * tag) never says "flag" or what was flagged: that is in the email only.
 *
 * Its parts of the pipeline: the decision is "always send"; the rendering reads the client,
 * session and therapist (one gone is a permanent failure); the retry strategy is the caller's
 * retry — a failure a retry can fix gives the claim back and is thrown as RetryableError, one that
 * may have sent the alert keeps the claim and is thrown too, so the retry after the lease records
 * "outcome unknown". A claim found held is `pending` while in flight, else `already-sent` or
 * `failed`.
 */
import { PermanentError, RetryableError } from '../../domain/errors.js';
import { messageName, type MessageIdentity } from '../../domain/message.js';
import type { CheckInAnswers, Clinic, ScoreSet } from '../../domain/model.js';
import { comparedBaseline } from '../../domain/baseline.js';
import { redFlags } from '../../domain/red-flags.js';
import { msBetween, type Instant } from '../../domain/time.js';
import { composeEmail } from '../../email/email.js';
import { renderTherapistAlert } from '../../email/templates.js';
import { silentLog } from '../../ports/log.js';
import type { Mailer } from '../../ports/mailer.js';
import type { DeliveryMetrics } from '../../ports/metrics.js';
import type { ClinicStore, Ledger, LedgerStatus, StoredCheckIn } from '../../ports/store.js';
import { refusalReason } from '../../domain/errors.js';
import { CLAIM_LEASE_MS, type HeldClaim } from './lease.js';
import { deliver, type Sender } from './pipeline.js';

export interface AlertDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly mailer: Mailer;
  readonly clinic: Clinic;
  /** Where a red-flag alert's delay (sent minus the answers' time) is reported. @default none */
  readonly metrics?: Pick<DeliveryMetrics, 'lateness'>;
}

/**
 * What became of a therapist alert: `none` when nothing called for one; `pending` when it is owed
 * but another attempt holds it (or a fresh read has not caught up), to be settled by a retry.
 */
export type AlertOutcome = 'none' | 'sent' | 'already-sent' | 'pending' | 'failed';

export type AlertOffset = 'checkin' | 'resched' | 'confirm';

/** The therapist alert's identity: one per session and reason. */
export function alertIdentity(sessionId: string, offset: AlertOffset): MessageIdentity {
  return { kind: 'therapist-alert', subjectId: sessionId, offset, version: 1 };
}

export const redFlagAlertIdentity = (sessionId: string): MessageIdentity => alertIdentity(sessionId, 'checkin');

export { comparedBaseline };

/** The red flags a stored check-in raised, as its alert listed them. */
export function flagsOf(checkIn: StoredCheckIn): string[] {
  return redFlags(checkIn, comparedBaseline(checkIn));
}

/** What the alert says, beyond who and which session. */
export type AlertContent =
  | { readonly reason: 'red-flag'; readonly flags: string[]; readonly answers: CheckInAnswers; readonly baseline?: ScoreSet }
  | { readonly reason: 'reschedule-request'; readonly message: string }
  | { readonly reason: 'confirmed-after-request' };

export interface AlertInput {
  readonly offset: AlertOffset;
  readonly clientId: string;
  readonly sessionId: string;
  readonly therapistId: string;
  readonly now: Instant;
  readonly content: AlertContent;
  /** When the answers that raised it were stored: a red-flag alert's delay is measured from it. */
  readonly answeredAt?: Instant;
}

const afterSettled = (status: LedgerStatus): AlertOutcome => (status === 'sent' ? 'already-sent' : 'failed');

/** Sends the therapist one alert about a session, exactly once. */
export async function sendTherapistAlert(deps: AlertDeps, input: AlertInput): Promise<AlertOutcome> {
  const identity = alertIdentity(input.sessionId, input.offset);
  const name = messageName(identity);
  const retryLater = (error: unknown) => {
    throw error instanceof RetryableError ? error : new RetryableError(`sending ${name} failed; it will be retried`, { cause: error });
  };
  const sender: Sender<AlertOutcome> = {
    build: async () => {
      const { client, session, therapist } = await deps.store.getMessageContext({
        clientId: input.clientId,
        sessionId: input.sessionId,
        therapistId: input.therapistId,
      });
      if (!client || !session || !therapist)
        throw new PermanentError(`the alert's ${!client ? 'client' : !session ? 'session' : 'therapist'} no longer exists`, 'MissingSubject');
      const rendered = renderTherapistAlert({ clinic: deps.clinic, therapist, client, session, ...input.content });
      return { email: composeEmail({ clinic: deps.clinic, to: therapist.email, rendered, tags: { message: name, kind: identity.kind } }) };
    },
    held: (held: HeldClaim) => (held.state === 'in-flight' ? 'pending' : held.state === 'settled' ? afterSettled(held.status) : 'failed'),
    sent: () => {
      // A red-flag alert's delay after the answers were stored (a retry by the client's resend included).
      if (input.answeredAt) deps.metrics?.lateness(identity.kind, msBetween(input.answeredAt, input.now));
      return 'sent';
    },
    failureReason: refusalReason,
    failed: () => 'failed',
    settledElsewhere: afterSettled,
    retry: { retry: async (error) => retryLater(error), keep: async (error) => retryLater(error) },
  };
  const claim = {
    name,
    kind: identity.kind,
    clientId: input.clientId,
    sessionId: input.sessionId,
    therapistId: input.therapistId,
    dueAt: input.now,
    now: input.now,
  };
  return deliver({ ledger: deps.ledger, mailer: deps.mailer, claim, leaseMs: CLAIM_LEASE_MS.alert, log: silentLog, ids: { messageName: name }, sender });
}
