/**
 * A client asks for a booked session to be moved (the "reschedule" link in a reminder), with an
 * optional message for the therapist. Nothing is moved here: the clinic picks the new time.
 *
 * 1. Find the session in the client's own partition. One already requested says so, and a
 *    cancelled or started one takes no request — both before the message is looked at, so a
 *    resend never shows a field error for a request that was made.
 * 2. Validate the message (optional, plain text up to 1,000 characters; HTML is kept as data).
 * 3. Store the request once per session (a conditional write, also marking the session).
 * 4. Alert the therapist at once, exactly once (ledger identity `ta.<session>.resched.v1`).
 *    A second request finds the first stored and only settles an alert still owed by it.
 */
import * as z from 'zod';
import { multilineTextSchema } from '../domain/model.js';
import { issuesFromZod, type FieldIssue } from '../domain/validation.js';
import { closedReason, linkedSession, sessionLinkKeys, type ClosedReason } from '../domain/session-answers.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { RescheduleRequest, StoredSession } from '../ports/store.js';
import { sendTherapistAlert, type AlertDeps, type AlertOutcome } from './delivery/therapist-alert.js';

export const RESCHEDULE_MESSAGE_MAX = 1000;

// A textarea sends CRLF; line breaks are kept (as LF), other control characters are not text.
export const rescheduleInputSchema = z.object({
  message: z
    .string({ error: 'message must be text' })
    .transform((s) => s.replace(/\r\n?/g, '\n').trim())
    .pipe(multilineTextSchema(RESCHEDULE_MESSAGE_MAX, 'message'))
    .default(''),
});

export type RequestRescheduleResult =
  | { readonly status: 'requested'; readonly request: RescheduleRequest; readonly session: StoredSession; readonly alert: AlertOutcome }
  | { readonly status: 'already-requested'; readonly session: StoredSession; readonly alert: AlertOutcome }
  | { readonly status: 'closed'; readonly reason: ClosedReason; readonly session: StoredSession }
  | { readonly status: 'invalid'; readonly issues: FieldIssue[] };

export async function requestReschedule(
  deps: AlertDeps,
  input: { clientId: string; sessionId: string; message: unknown; now: Date | Instant },
): Promise<RequestRescheduleResult> {
  const now = toInstant(input.now);
  const { session } = linkedSession(await deps.store.getMessageContext(sessionLinkKeys(input.clientId, input.sessionId)), input.sessionId);

  const alert = async (request: RescheduleRequest | undefined): Promise<AlertOutcome> =>
    !request
      ? 'pending'
      : sendTherapistAlert(deps, {
          offset: 'resched',
          clientId: request.clientId,
          sessionId: request.sessionId,
          therapistId: request.therapistId,
          now,
          content: { reason: 'reschedule-request', message: request.message },
        });

  if (session.rescheduleRequestedAt) return { status: 'already-requested', session, alert: await alert(await storedRequest(deps, session)) };
  const closed = closedReason(session, now);
  if (closed) return { status: 'closed', reason: closed, session };
  const parsed = rescheduleInputSchema.safeParse({ message: input.message });
  if (!parsed.success) return { status: 'invalid', issues: issuesFromZod(parsed.error) };

  const request: RescheduleRequest = {
    sessionId: session.id,
    clientId: session.clientId,
    planId: session.planId,
    therapistId: session.therapistId,
    message: parsed.data.message,
    at: now,
  };
  if (!(await deps.store.recordRescheduleRequest(request))) {
    // A concurrent submit stored its request first: that one is the request to alert about.
    return { status: 'already-requested', session, alert: await alert(await storedRequest(deps, session)) };
  }
  return { status: 'requested', request, session: { ...session, rescheduleRequestedAt: now }, alert: await alert(request) };
}

/** The request already stored for the session; undefined while an eventually consistent read lags. */
async function storedRequest(deps: AlertDeps, session: StoredSession): Promise<RescheduleRequest | undefined> {
  const bundle = await deps.store.getClientBundle(session.clientId);
  return bundle?.requests.find((r) => r.sessionId === session.id);
}
