/**
 * `POST /intake/<source>`: from the raw request to the documented answer.
 *   200 accepted (also a duplicate, answered as before)   202 ignored, with the reason
 *   400 not JSON / not the source's format (recorded as refused)   401 missing, wrong or stale signature (nothing written)
 *   404 unknown source   405 not POST   413 body over 32 KB
 * The signature is checked over the raw bytes before anything is parsed; the log gets the source,
 * the status and the reason, never the body.
 */
import { createHash } from 'node:crypto';
import type { Clinic } from '../domain/model.js';
import { issuesFromZod } from '../domain/validation.js';
import type { IntakeStore } from '../ports/intake.js';
import type { OpsLog } from '../ports/log.js';
import { MAX_BODY_BYTES } from '../web/http.js';
import { receiveBookingChange } from '../use-cases/intake.js';
import { calEnvelopeSchema, fromCalEnvelope } from './cal-com.js';
import type { IntakeConfig } from './config.js';
import { UnmappableEventError, type IntakeEvent } from './event.js';
import { fromKeepwellEvent, keepwellEventSchema } from './keepwell-format.js';
import { checkCalSignature, checkKeepwellSignature, withinReplayWindow } from './signature.js';
import { instantOf } from '../domain/time.js';

export const KEEPWELL_SIGNATURE_HEADER = 'keepwell-signature';
export const CAL_SIGNATURE_HEADER = 'x-cal-signature-256';
export const INTAKE_BODY_LIMIT_BYTES = MAX_BODY_BYTES;

export interface IntakeRequest {
  readonly method: string;
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface IntakeResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface ReceiveDeps {
  readonly config: IntakeConfig;
  readonly clinic: Clinic;
  readonly store: IntakeStore;
  readonly secret: (source: string) => Promise<string>;
  readonly now: () => Date;
  readonly log: OpsLog;
}

const PATH = /^\/intake\/([a-z][a-z0-9-]{0,30})\/?$/;

export type ReadDelivery =
  | { readonly kind: 'event'; readonly event: IntakeEvent }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'stale' }
  | { readonly kind: 'unmappable'; readonly reason: string; readonly deliveryId: string };

/**
 * An authentic body in the source's format, as an IntakeEvent (or why not). `checkAge`: refuse a
 * Cal.com body whose signed createdAt is outside the replay window (Cal.com signs no timestamp);
 * an operator's deliberate `keepwell intake replay` passes false.
 */
export function readDelivery(
  format: IntakeConfig['sources'][string]['format'],
  json: unknown,
  rawBody: Buffer,
  now: Date,
  options: { checkAge: boolean },
): ReadDelivery {
  try {
    if (format === 'cal.com') {
      const parsed = calEnvelopeSchema.safeParse(json);
      if (!parsed.success)
        return {
          kind: 'refused',
          reason: `not a Cal.com webhook: ${issuesFromZod(parsed.error)
            .map((i) => `${i.path}: ${i.reason}`)
            .join('; ')}`,
        };
      if (options.checkAge && !withinReplayWindow(new Date(parsed.data.createdAt), now)) return { kind: 'stale' };
      return { kind: 'event', event: fromCalEnvelope(parsed.data, rawBody) };
    }
    const parsed = keepwellEventSchema.safeParse(json);
    if (!parsed.success)
      return {
        kind: 'refused',
        reason: `not a Keepwell intake event: ${issuesFromZod(parsed.error)
          .map((i) => `${i.path}: ${i.reason}`)
          .join('; ')}`,
      };
    return { kind: 'event', event: fromKeepwellEvent(parsed.data) };
  } catch (error) {
    if (!(error instanceof UnmappableEventError)) throw error;
    return { kind: 'unmappable', reason: error.reason, deliveryId: error.deliveryId };
  }
}

export async function receiveIntake(deps: ReceiveDeps, request: IntakeRequest): Promise<IntakeResponse> {
  const match = PATH.exec(request.path);
  const sourceName = match?.[1];
  const source = sourceName ? deps.config.sources[sourceName] : undefined;
  if (!sourceName || !source || source.format === 'ical') return { status: 404, body: { error: 'unknown intake source' } };
  if (request.method !== 'POST') return { status: 405, body: { error: 'use POST' } };
  if (request.body.length > INTAKE_BODY_LIMIT_BYTES) {
    deps.log.warn('intake refused', { source: sourceName, reason: 'body too large' });
    return { status: 413, body: { error: `body over ${INTAKE_BODY_LIMIT_BYTES} bytes` } };
  }
  const now = deps.now();
  const secret = await deps.secret(sourceName);
  const problem =
    source.format === 'cal.com'
      ? checkCalSignature(secret, request.body, request.headers[CAL_SIGNATURE_HEADER])
      : checkKeepwellSignature(secret, request.body, request.headers[KEEPWELL_SIGNATURE_HEADER], now);
  if (problem) {
    deps.log.warn('intake refused', { source: sourceName, reason: problem });
    return { status: 401, body: { error: problem } };
  }

  // Authentic from here on: a body Keepwell cannot read is recorded as refused, so ops see it.
  const refuse = async (reason: string, status = 400): Promise<IntakeResponse> => {
    const deliveryId = `sha256-${createHash('sha256').update(request.body).digest('hex').slice(0, 32)}`;
    await deps.store.recordIntakeDelivery({ source: sourceName, deliveryId, status: 'refused', reason: reason.slice(0, 300), at: instantOf(now) });
    deps.log.warn('intake refused', { source: sourceName, reason: reason.slice(0, 300) });
    return { status, body: { error: reason } };
  };
  let json: unknown;
  try {
    json = JSON.parse(request.body.toString('utf8'));
  } catch {
    return refuse('body is not valid JSON');
  }

  const read = readDelivery(source.format, json, request.body, now, { checkAge: true });
  if (read.kind === 'refused') return refuse(read.reason);
  if (read.kind === 'stale') {
    deps.log.warn('intake refused', { source: sourceName, reason: 'stale timestamp' });
    return { status: 401, body: { error: 'stale timestamp' } };
  }
  if (read.kind === 'unmappable') {
    const fresh = await deps.store.recordIntakeDelivery({
      source: sourceName,
      deliveryId: read.deliveryId,
      status: 'ignored',
      reason: read.reason,
      at: instantOf(now),
    });
    deps.log.info('intake ignored', { source: sourceName, reason: read.reason, duplicate: !fresh });
    return { status: 202, body: { status: 'ignored', reason: read.reason } };
  }
  const event = read.event;

  const outcome = await receiveBookingChange({ store: deps.store, clinic: deps.clinic, now: deps.now }, sourceName, source, event);
  if (outcome.status === 'ignored') {
    deps.log.info('intake ignored', { source: sourceName, reason: outcome.reason, duplicate: outcome.duplicate });
    return { status: 202, body: { status: 'ignored', reason: outcome.reason, duplicate: outcome.duplicate } };
  }
  deps.log.info('intake accepted', {
    source: sourceName,
    action: event.action,
    duplicate: outcome.duplicate,
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
  });
  return { status: 200, body: { status: 'accepted', duplicate: outcome.duplicate, ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}) } };
}
