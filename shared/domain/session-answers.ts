/**
 * A client can answer a reminder twice: confirm, then ask for a new time, or the reverse. Both
 * stay on record; the later one is the client's current word, which the next reminder follows.
 */
import type { Instant } from './time.js';

export function latestAnswer(session: {
  readonly confirmedAt?: Instant;
  readonly rescheduleRequestedAt?: Instant;
}): 'confirmed' | 'reschedule-requested' | undefined {
  const { confirmedAt, rescheduleRequestedAt } = session;
  if (rescheduleRequestedAt && (!confirmedAt || rescheduleRequestedAt > confirmedAt)) return 'reschedule-requested';
  return confirmedAt ? 'confirmed' : undefined;
}
