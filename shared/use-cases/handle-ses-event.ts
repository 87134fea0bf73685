/**
 * Acts on one SES configuration-set event (SES's own JSON, with the detail type EventBridge would
 * give it: functions/ses-events unwraps it from the topic SES publishes to).
 *
 * 1. Read the detail type and the SES event; find the ledger entry by the `message` tag (the
 *    message name dispatch put on the email) and the SES message id.
 * 2. Hard bounce (bounceType Permanent) or complaint: suppress every affected address for every
 *    category (store.suppressByEmail, reason recorded), then note the event on the ledger entry.
 * 3. Delivered, transient bounce, rejected, delayed: note the event on the ledger entry.
 * 4. Anything else (sent, opened, clicked, a type SES adds later): ignore, with a log line.
 * Log lines carry the detail type, the message name and counts: never an address.
 *
 * A failure to store what the event says leaves a dead letter of ids alone (deadLetterOf: the
 * type, the message name, the SES message id, the bounce type): no address, no header. Redriving
 * it (eventFromDeadLetter) finds the recipient again through the message's ledger entry.
 */
import * as z from 'zod';
import { normalizeEmail } from '../domain/email-address.js';
import { TAGGED_MESSAGE_NAME, type SesDeadLetter } from '../domain/ses-dead-letter.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { ClinicStore, Ledger } from '../ports/store.js';
import type { OpaqueLog } from '../ports/log.js';

const recipients = z.array(z.looseObject({ emailAddress: z.string().min(1) })).default([]);

/** The parts of the SES event JSON this use case reads; the rest is allowed and ignored. */
const sesDetailSchema = z.looseObject({
  mail: z.looseObject({
    messageId: z.string().min(1).optional(),
    timestamp: z.string().optional(),
    tags: z.record(z.string(), z.array(z.string())).default({}),
  }),
  bounce: z
    .looseObject({ bounceType: z.string(), bounceSubType: z.string().optional(), bouncedRecipients: recipients, timestamp: z.string().optional() })
    .optional(),
  complaint: z.looseObject({ complainedRecipients: recipients, complaintFeedbackType: z.string().optional(), timestamp: z.string().optional() }).optional(),
  delivery: z.looseObject({ timestamp: z.string().optional() }).optional(),
  reject: z.looseObject({ reason: z.string().optional() }).optional(),
  deliveryDelay: z.looseObject({ delayType: z.string().optional(), timestamp: z.string().optional() }).optional(),
});

export const sesEventSchema = z.looseObject({
  'detail-type': z.string().min(1),
  time: z.string().optional(),
  detail: sesDetailSchema,
});
export type SesEvent = z.output<typeof sesEventSchema>;

/** SES's `eventType` as the detail type this use case reads (the names EventBridge gives them). */
export function detailTypeOf(eventType: string): string {
  switch (eventType) {
    case 'Bounce':
      return 'Email Bounced';
    case 'Complaint':
      return 'Email Complaint Received';
    case 'Delivery':
      return 'Email Delivered';
    case 'Reject':
      return 'Email Rejected';
    case 'DeliveryDelay':
      return 'Email Delivery Delayed';
    case 'Send':
      return 'Email Sent';
    case 'Open':
      return 'Email Opened';
    case 'Click':
      return 'Email Clicked';
    // A type SES adds later: named, then ignored (as sent, opened and clicked are).
    default:
      return `Email ${eventType}`;
  }
}

const short = (value: string | undefined, max: number) => (value ? value.slice(0, max) : undefined);

/** The dead letter of an event: ids and types only (an address or a header never goes in). */
export function deadLetterOf(event: SesEvent): SesDeadLetter {
  const d = event.detail;
  const tagged = d.mail.tags.message?.[0];
  const fields = {
    message: tagged && TAGGED_MESSAGE_NAME.test(tagged) ? tagged : undefined,
    sesMessageId: short(d.mail.messageId, 128),
    at: short(d.bounce?.timestamp ?? d.complaint?.timestamp ?? d.delivery?.timestamp ?? d.deliveryDelay?.timestamp ?? event.time, 40),
    bounceType: short(d.bounce?.bounceType, 32),
    bounceSubType: short(d.bounce?.bounceSubType, 32),
    complaintFeedbackType: short(d.complaint?.complaintFeedbackType, 32),
  };
  return { kind: 'ses-event', detailType: event['detail-type'].slice(0, 64), ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
}

/**
 * The event a dead letter stands for, for a redrive: `recipients` are the addresses the caller
 * found again (the client of the message's ledger entry); without them a bounce or complaint
 * suppresses nobody and only notes the event on the ledger entry.
 */
export function eventFromDeadLetter(letter: SesDeadLetter, recipients: readonly string[]): SesEvent {
  const listed = recipients.map((emailAddress) => ({ emailAddress }));
  return sesEventSchema.parse({
    'detail-type': letter.detailType,
    ...(letter.at ? { time: letter.at } : {}),
    detail: {
      mail: { ...(letter.sesMessageId ? { messageId: letter.sesMessageId } : {}), tags: letter.message ? { message: [letter.message] } : {} },
      ...(letter.detailType === 'Email Bounced'
        ? {
            bounce: {
              bounceType: letter.bounceType ?? 'Undetermined',
              ...(letter.bounceSubType ? { bounceSubType: letter.bounceSubType } : {}),
              bouncedRecipients: listed,
              ...(letter.at ? { timestamp: letter.at } : {}),
            },
          }
        : {}),
      ...(letter.detailType === 'Email Complaint Received'
        ? {
            complaint: {
              complainedRecipients: listed,
              ...(letter.complaintFeedbackType ? { complaintFeedbackType: letter.complaintFeedbackType } : {}),
              ...(letter.at ? { timestamp: letter.at } : {}),
            },
          }
        : {}),
      ...(letter.detailType === 'Email Delivered' ? { delivery: { ...(letter.at ? { timestamp: letter.at } : {}) } } : {}),
      ...(letter.detailType === 'Email Delivery Delayed' ? { deliveryDelay: { ...(letter.at ? { timestamp: letter.at } : {}) } } : {}),
      ...(letter.detailType === 'Email Rejected' ? { reject: {} } : {}),
    },
  });
}

/**
 * Redrives a dead letter: the recipient is the client of the message's ledger entry (its address
 * now), then the event is handled as it would have been.
 */
export async function redriveSesDeadLetter(
  deps: HandleSesEventDeps & { readonly store: Pick<ClinicStore, 'suppressByEmail' | 'getClient'>; readonly ledger: Pick<Ledger, 'recordDelivery' | 'get'> },
  letter: SesDeadLetter,
): Promise<SesEventOutcome> {
  const entry = letter.message ? await deps.ledger.get(letter.message) : undefined;
  const client = entry?.clientId ? await deps.store.getClient(entry.clientId) : undefined;
  return handleSesEvent(deps, eventFromDeadLetter(letter, client ? [client.email] : []));
}

export type SesEventOutcome =
  | { readonly status: 'suppressed'; readonly addresses: number; readonly clients: number; readonly message?: string }
  | { readonly status: 'recorded'; readonly event: string; readonly message: string }
  | { readonly status: 'ignored'; readonly detailType: string };

export interface HandleSesEventDeps {
  readonly store: Pick<ClinicStore, 'suppressByEmail'>;
  readonly ledger: Pick<Ledger, 'recordDelivery'>;
  readonly clock: { now(): Date };
  readonly log: OpaqueLog;
}

function instantOr(fallback: Instant, ...candidates: Array<string | undefined>): Instant {
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      return toInstant(candidate);
    } catch {
      // SES writes ISO instants; anything else falls through to the next candidate.
    }
  }
  return fallback;
}

/** Which ledger note each detail type makes; `suppress` marks the ones that end a subscription. */
function classify(
  event: SesEvent,
): { event: string; detail?: string; suppress?: { reason: 'bounce' | 'complaint'; addresses: string[] }; at?: string } | undefined {
  const d = event.detail;
  switch (event['detail-type']) {
    case 'Email Delivered':
      return { event: 'delivery', at: d.delivery?.timestamp };
    case 'Email Bounced': {
      const bounce = d.bounce;
      const detail = [bounce?.bounceType, bounce?.bounceSubType].filter(Boolean).join('/');
      if (bounce?.bounceType === 'Permanent') {
        return {
          event: 'bounce',
          detail,
          at: bounce.timestamp,
          suppress: { reason: 'bounce', addresses: bounce.bouncedRecipients.map((r) => r.emailAddress) },
        };
      }
      return { event: 'bounce-transient', detail, at: bounce?.timestamp };
    }
    case 'Email Complaint Received': {
      const complaint = d.complaint;
      return {
        event: 'complaint',
        ...(complaint?.complaintFeedbackType ? { detail: complaint.complaintFeedbackType } : {}),
        at: complaint?.timestamp,
        suppress: { reason: 'complaint', addresses: complaint?.complainedRecipients.map((r) => r.emailAddress) ?? [] },
      };
    }
    case 'Email Rejected':
      return { event: 'reject', ...(d.reject?.reason ? { detail: d.reject.reason } : {}) };
    case 'Email Delivery Delayed':
      return { event: 'delay', ...(d.deliveryDelay?.delayType ? { detail: d.deliveryDelay.delayType } : {}), at: d.deliveryDelay?.timestamp };
    default:
      return undefined;
  }
}

export async function handleSesEvent(deps: HandleSesEventDeps, event: SesEvent): Promise<SesEventOutcome> {
  const detailType = event['detail-type'];
  const action = classify(event);
  if (!action) {
    deps.log.info('SES event ignored', { detailType });
    return { status: 'ignored', detailType };
  }
  const now = toInstant(deps.clock.now());
  const at = instantOr(now, action.at, event.time, event.detail.mail.timestamp);
  const tagged = event.detail.mail.tags.message?.[0];
  const message = tagged && TAGGED_MESSAGE_NAME.test(tagged) ? tagged : undefined;
  const sesMessageId = event.detail.mail.messageId;

  let suppressedClients = 0;
  if (action.suppress) {
    // An address can appear twice in one event (To and a duplicate recipient entry), in any case:
    // suppress once. The store looks the client up by the same normalised address.
    const addresses = [...new Set(action.suppress.addresses.map(normalizeEmail).filter(Boolean))];
    for (const address of addresses) {
      const client = await deps.store.suppressByEmail(address, action.suppress.reason, at, action.detail);
      if (client) suppressedClients += 1;
    }
    deps.log.info('addresses suppressed after SES event', { detailType, messageName: message, addresses: addresses.length, clients: suppressedClients });
  }
  if (message) {
    await deps.ledger.recordDelivery(sesMessageId, message, action.event, at, action.detail);
  } else {
    deps.log.warn('SES event without a message tag: no ledger entry to update', { detailType });
  }
  if (action.suppress)
    return { status: 'suppressed', addresses: action.suppress.addresses.length, clients: suppressedClients, ...(message ? { message } : {}) };
  if (!message) return { status: 'ignored', detailType };
  deps.log.info('SES event recorded', { detailType, messageName: message, event: action.event });
  return { status: 'recorded', event: action.event, message };
}
