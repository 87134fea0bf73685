/**
 * How SES's configuration-set events reach ses-events: SES publishes each to Keepwell's own SNS
 * topic, and SNS invokes the function with one record whose Message is SES's event JSON. This
 * unwraps that record into the SES event the use case reads, validated with zod.
 */
import * as z from 'zod';
import { detailTypeOf, sesEventSchema, type SesEvent } from '../../use-cases/handle-ses-event.js';

/** SNS invokes with one record; its Message is SES's event JSON (at most SNS's 256 KiB). */
const snsEventSchema = z.object({
  Records: z
    .array(z.object({ Sns: z.object({ Message: z.string().max(262_144), Timestamp: z.string().optional() }) }))
    .length(1, 'must hold exactly one record'),
});

/** The SES event inside an SNS delivery, with the detail type the use case reads (a failed parse when unreadable). */
export function sesEventFromSns(event: unknown): z.ZodSafeParseResult<SesEvent> {
  const envelope = snsEventSchema.safeParse(event);
  if (!envelope.success) return envelope as z.ZodSafeParseResult<never>;
  const record = envelope.data.Records[0]!.Sns;
  let ses: unknown;
  try {
    ses = JSON.parse(record.Message);
  } catch {
    ses = undefined;
  }
  const eventType = (ses as { eventType?: unknown } | undefined)?.eventType;
  return sesEventSchema.safeParse({
    'detail-type': typeof eventType === 'string' && eventType !== '' ? detailTypeOf(eventType) : undefined,
    ...(record.Timestamp ? { time: record.Timestamp } : {}),
    detail: ses,
  });
}
