/**
 * Booking, cancelling, moving and marking sessions, for the CLI, the intake and the simulation.
 * Each validates its input, refuses references to things that do not exist, and writes through
 * the store; the table's stream then brings the schedules in line (sync-schedules), so nothing
 * here talks to the Scheduler.
 */
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { idSchema, instantSchema, sessionSchema, type Session } from '../domain/model.js';
import { parseOrThrow, ValidationError } from '../domain/validation.js';
import type { ClinicStore, StoredSession } from '../ports/store.js';

/** Books a new session on an existing plan. */
export async function bookSession(store: ClinicStore, input: unknown): Promise<StoredSession> {
  const session = parseOrThrow(sessionSchema, input, 'session');
  if (await store.findSession(session.id)) throw new ConflictError(`session "${session.id}" already exists; reschedule or cancel it instead`);
  if (!(await store.findPlan(session.planId)))
    throw new ValidationError('session', [{ path: 'planId', reason: `refers to a missing plan "${session.planId}"` }]);
  return store.saveSession({ ...session, status: 'booked', version: 1 });
}

async function existingSession(store: ClinicStore, sessionId: string): Promise<StoredSession> {
  parseOrThrow(idSchema, sessionId, 'session id');
  const session = await store.findSession(sessionId);
  if (!session) throw new NotFoundError('session', sessionId);
  return session;
}

function bookingOf(s: StoredSession): Session {
  return { id: s.id, planId: s.planId, start: s.start, durationMinutes: s.durationMinutes, location: s.location, status: s.status, version: s.version };
}

/** Cancels a session; its pending reminders and check-in go with it. */
export async function cancelSession(store: ClinicStore, sessionId: string): Promise<StoredSession> {
  const session = await existingSession(store, sessionId);
  if (session.status === 'cancelled') return session;
  return store.saveSession({ ...bookingOf(session), status: 'cancelled' });
}

/** Moves a session; the version rises so every message about the old time is void. */
export async function rescheduleSession(
  store: ClinicStore,
  sessionId: string,
  start: string,
  changes: { durationMinutes?: number; location?: string } = {},
): Promise<StoredSession> {
  const session = await existingSession(store, sessionId);
  const newStart = parseOrThrow(instantSchema, start, 'start');
  const next = parseOrThrow(sessionSchema, { ...bookingOf(session), ...changes, start: newStart, status: 'booked', version: session.version + 1 }, 'session');
  return store.saveSession(next);
}

/** Records what happened at a session: completed or no-show. */
export async function markSession(store: ClinicStore, sessionId: string, status: 'completed' | 'no-show'): Promise<StoredSession> {
  const session = await existingSession(store, sessionId);
  return store.saveSession({ ...bookingOf(session), status });
}
