/**
 * The answers a session's links take (the "confirm" and "reschedule" links of a reminder): which
 * session a link names, whether that session still takes an answer, and, since a client can answer
 * twice (confirm, then ask for a new time, or the reverse), which answer is their current word.
 * Both answers stay on record; the later one is the one the next reminder follows.
 */
import { NotFoundError } from './errors.js';
import { idSchema, type Session } from './model.js';
import type { Instant } from './time.js';
import { parseOrThrow } from './validation.js';

/** Why a session cannot take a confirmation or a reschedule request any more. */
export type ClosedReason = 'cancelled' | 'started';

/** The client and session a link names, checked as ids before the client's records are read with them. */
export function sessionLinkKeys(clientId: string, sessionId: string): { readonly clientId: string; readonly sessionId: string } {
  return { clientId: parseOrThrow(idSchema, clientId, 'client id'), sessionId: parseOrThrow(idSchema, sessionId, 'session id') };
}

/**
 * The session a link names and its client, from what was read in the client's own partition:
 * NotFoundError when the client has no such session (another client's session does not exist there).
 */
export function linkedSession<C, S>(context: { readonly client?: C; readonly session?: S }, sessionId: string): { readonly client: C; readonly session: S } {
  const { client, session } = context;
  if (!session || !client) throw new NotFoundError('session', sessionId);
  return { client, session };
}

/** Whether a session still takes confirmations and reschedule requests, and if not, why. */
export function closedReason(session: Pick<Session, 'status' | 'start'>, now: Instant): ClosedReason | undefined {
  if (session.status === 'cancelled') return 'cancelled';
  if (session.status !== 'booked' || session.start <= now) return 'started';
  return undefined;
}

export function latestAnswer(session: {
  readonly confirmedAt?: Instant;
  readonly rescheduleRequestedAt?: Instant;
}): 'confirmed' | 'reschedule-requested' | undefined {
  const { confirmedAt, rescheduleRequestedAt } = session;
  if (rescheduleRequestedAt && (!confirmedAt || rescheduleRequestedAt > confirmedAt)) return 'reschedule-requested';
  return confirmedAt ? 'confirmed' : undefined;
}
