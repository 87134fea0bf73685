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
 * 4. If there are any, alert the therapist at once, exactly once per check-in, through the
 *    delivery pipeline (delivery/therapist-alert.ts).
 *
 * An alert failure a retry can fix (throttling, a storage error) gives the claim back and is thrown
 * as RetryableError after the answers are stored; the caller's retry finds them `already-answered`
 * and sends the alert still owed, so neither the answers nor the alert are lost, nor doubled.
 * A permanent refusal is recorded as failed in the ledger (where the outbox and alarms see it);
 * the answers stand.
 */
import { checkInAnswersSchema, idSchema, type CheckInAnswers } from '../domain/model.js';
import { issuesFromZod, parseOrThrow, type FieldIssue } from '../domain/validation.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { StoredCheckIn } from '../ports/store.js';
import { comparedBaseline, flagsOf, sendTherapistAlert, type AlertDeps, type AlertOutcome } from './delivery/therapist-alert.js';

export type RecordCheckInDeps = AlertDeps;

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
