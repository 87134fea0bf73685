/**
 * A client confirms they will attend a booked session (the "confirm" link in a reminder).
 *
 * 1. Find the session in the client's own partition; another client's session does not exist here.
 * 2. A cancelled session, or one that has already started, cannot be confirmed.
 * 3. Record the confirmation once (a conditional write): a second confirm reports it was done.
 * 4. A client who had asked for a new time and now confirms this one keeps the booking: the
 *    therapist is told at once, exactly once (ledger identity `ta.<session>.confirm.v1`), so the
 *    request is not acted on unseen. The request stays on record; the later word is the one the
 *    next reminder and the summary follow.
 */
import { closedReason, linkedSession, sessionLinkKeys, type ClosedReason } from '../domain/session-answers.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { StoredSession } from '../ports/store.js';
import { sendTherapistAlert, type AlertDeps, type AlertOutcome } from './delivery/therapist-alert.js';

export type ConfirmSessionResult =
  | { readonly status: 'confirmed'; readonly session: StoredSession; readonly alert: AlertOutcome }
  | { readonly status: 'already-confirmed'; readonly session: StoredSession }
  | { readonly status: 'closed'; readonly reason: ClosedReason; readonly session: StoredSession };

export async function confirmSession(deps: AlertDeps, input: { clientId: string; sessionId: string; now: Date | Instant }): Promise<ConfirmSessionResult> {
  const now = toInstant(input.now);
  const { session } = linkedSession(await deps.store.getMessageContext(sessionLinkKeys(input.clientId, input.sessionId)), input.sessionId);
  if (session.confirmedAt) return { status: 'already-confirmed', session };
  const closed = closedReason(session, now);
  if (closed) return { status: 'closed', reason: closed, session };
  const recorded = await deps.store.recordConfirmation(session.clientId, session.id, now);
  if (!recorded) return { status: 'already-confirmed', session };
  const alert = session.rescheduleRequestedAt
    ? await sendTherapistAlert(deps, {
        offset: 'confirm',
        clientId: session.clientId,
        sessionId: session.id,
        therapistId: session.therapistId,
        now,
        content: { reason: 'confirmed-after-request' },
      })
    : 'none';
  return { status: 'confirmed', session: { ...session, confirmedAt: now }, alert };
}
