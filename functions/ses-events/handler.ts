/**
 * ses-events: SES configuration-set events (bounces, complaints, deliveries …) that SES publishes
 * to Keepwell's own SNS topic (not the account's default event bus). Unwraps the one record SNS
 * delivers, validates SES's JSON and hands it to shared/use-cases/handle-ses-event.ts.
 * A malformed event is logged by field path and dropped: retrying it cannot make it valid.
 * When storing what it says fails, only its ids go to the failed-invocations queue (deadLetterOf:
 * no address, no header), for `keepwell dlq redrive`; the invocation then succeeds, so Lambda's
 * own failure record, which would hold the whole event, is never written. Without a queue (the
 * twin), or when even that send fails, the error is thrown and Lambda retries the invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { issuesFromZod, type FieldIssue } from '../../shared/domain/validation.js';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { systemClock } from '../../shared/ports/clock.js';
import { fromEnv as deadLettersFromEnv, type DeadLetterSender } from '../../shared/adapters/sqs/dead-letters.js';
import {
  deadLetterOf,
  detailTypeOf,
  handleSesEvent,
  sesEventSchema,
  type HandleSesEventDeps,
  type SesEvent,
  type SesEventOutcome,
} from '../../shared/use-cases/handle-ses-event.js';

export type SesEventsDeps = Omit<HandleSesEventDeps, 'log'> & {
  readonly log?: HandleSesEventDeps['log'];
  /** Where a failed event's ids go. @default none: the error is thrown */
  readonly deadLetters?: DeadLetterSender;
};

export type SesEventsResult =
  | SesEventOutcome
  | { readonly status: 'invalid'; readonly issues: readonly FieldIssue[] }
  | { readonly status: 'dead-lettered'; readonly detailType: string };

/** SNS invokes with one record; its Message is SES's event JSON (at most SNS's 256 KiB). */
const snsEventSchema = z.object({
  Records: z
    .array(z.object({ Sns: z.object({ Message: z.string().max(262_144), Timestamp: z.string().optional() }) }))
    .length(1, 'must hold exactly one record'),
});

/** The SES event inside an SNS delivery, with the detail type the use case reads (a failed parse when unreadable). */
function fromSns(event: unknown): z.ZodSafeParseResult<SesEvent> {
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

export function createHandler(deps: SesEventsDeps): (event: unknown) => Promise<SesEventsResult> {
  const log = deps.log ?? new Logger({ serviceName: 'keepwell-ses-events' });
  return async (event) => {
    const parsed = fromSns(event);
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error);
      log.error('invalid SES event: dropped', { issues: issues.map((i) => `${i.path || '(root)'}: ${i.reason}`).join('; ') });
      return { status: 'invalid', issues };
    }
    try {
      return await handleSesEvent({ ...deps, log }, parsed.data);
    } catch (error) {
      if (!deps.deadLetters) throw error;
      await deps.deadLetters.send(deadLetterOf(parsed.data));
      log.error('SES event failed: its ids are in the failed-invocations queue', {
        detailType: parsed.data['detail-type'],
        error: error instanceof Error ? error.name : 'unknown',
      });
      return { status: 'dead-lettered', detailType: parsed.data['detail-type'] };
    }
  };
}

function depsFromEnv(): SesEventsDeps {
  const store = storeFromEnv();
  const deadLetters = deadLettersFromEnv();
  return { store, ledger: store, clock: systemClock, ...(deadLetters ? { deadLetters } : {}) };
}

let built: ((event: unknown) => Promise<SesEventsResult>) | undefined;

/** Built once per container, on the first invocation, from the environment the stack sets. */
export const handler = async (event: unknown): Promise<SesEventsResult> => {
  built ??= createHandler(depsFromEnv());
  return built(event);
};
