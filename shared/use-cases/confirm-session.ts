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
import { idSchema } from '../domain/model.js';
import { NotFoundError } from '../domain/errors.js';
import { parseOrThrow } from '../domain/validation.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { ClinicStore, StoredSession } from '../ports/store.js';
import { sendTherapistAlert, type AlertDeps, type AlertOutcome } from './delivery/therapist-alert.js';

/** Why a session cannot take a confirmation or a reschedule request any more. */
export type ClosedReason = 'cancelled' | 'started';

export type ConfirmSessionResult =
  | { readonly status: 'confirmed'; readonly session: StoredSession; readonly alert: AlertOutcome }
  | { readonly status: 'already-confirmed'; readonly session: StoredSession }
  | { readonly status: 'closed'; readonly reason: ClosedReason; readonly session: StoredSession };

/** The client's session, or NotFoundError when the client has no such session. */
export async function clientSession(store: ClinicStore, clientId: string, sessionId: string): Promise<StoredSession> {
  const context = await store.getMessageContext({
    clientId: parseOrThrow(idSchema, clientId, 'client id'),
    sessionId: parseOrThrow(idSchema, sessionId, 'session id'),
  });
  if (!context.session || !context.client) throw new NotFoundError('session', sessionId);
  return context.session;
}

/** Whether a session still takes confirmations and reschedule requests, and if not, why. */
export function closedReason(session: StoredSession, now: Instant): ClosedReason | undefined {
  if (session.status === 'cancelled') return 'cancelled';
  if (session.status !== 'booked' || session.start <= now) return 'started';
  return undefined;
}

export async function confirmSession(deps: AlertDeps, input: { clientId: string; sessionId: string; now: Date | Instant }): Promise<ConfirmSessionResult> {
  const now = toInstant(input.now);
  const session = await clientSession(deps.store, input.clientId, input.sessionId);
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
