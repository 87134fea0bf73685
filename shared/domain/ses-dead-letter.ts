/**
 * What an SES event ses-events could not store leaves in the failed-invocations queue: ids and
 * types only, never an address or a header. The SES-event use case writes it (deadLetterOf) and
 * handles it again (redriveSesDeadLetter); the redrive of dead letters tells it from the other
 * letters by this schema. Like the dispatch payload (dispatch-payload.ts), a format more than one
 * use case reads, so it is the domain's.
 */
import * as z from 'zod';

/** A message name as the email's `message` tag carries it (`<kind>.<subject>.<offset>.v<n>`, ≤ 64 characters). */
export const TAGGED_MESSAGE_NAME = /^[0-9A-Za-z_.-]{1,64}$/;

/** What a failed SES event leaves in the failed-invocations queue: enough to redrive it, nothing personal. */
export const sesDeadLetterSchema = z
  .object({
    kind: z.literal('ses-event'),
    detailType: z.string().min(1).max(64),
    message: z.string().regex(TAGGED_MESSAGE_NAME).optional(),
    sesMessageId: z.string().min(1).max(128).optional(),
    at: z.string().max(40).optional(),
    bounceType: z.string().max(32).optional(),
    bounceSubType: z.string().max(32).optional(),
    complaintFeedbackType: z.string().max(32).optional(),
  })
  .strict();
export type SesDeadLetter = z.output<typeof sesDeadLetterSchema>;
