/**
 * ses-events: SES configuration-set events (bounces, complaints, deliveries …) that SES publishes
 * to Keepwell's own SNS topic (not the account's default event bus). Unwraps the one record SNS
 * delivers (shared/adapters/ses/sns-event.ts) and hands it to shared/use-cases/handle-ses-event.ts.
 * A malformed event is logged by field path and dropped: retrying it cannot make it valid.
 * When storing what it says fails, only its ids go to the failed-invocations queue (deadLetterOf:
 * no address, no header), for `keepwell dlq redrive`; the invocation then succeeds, so Lambda's
 * own failure record, which would hold the whole event, is never written. Without a queue (the
 * twin), or when even that send fails, the error is thrown and Lambda retries the invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { sesEventFromSns } from '../../shared/adapters/ses/sns-event.js';
import { fromEnv as deadLettersFromEnv, type DeadLetterSender } from '../../shared/adapters/sqs/dead-letters.js';
import { issuesFromZod, type FieldIssue } from '../../shared/domain/validation.js';
import { systemClock } from '../../shared/ports/clock.js';
import { deadLetterOf, handleSesEvent, type HandleSesEventDeps, type SesEventOutcome } from '../../shared/use-cases/handle-ses-event.js';

export type SesEventsDeps = Omit<HandleSesEventDeps, 'log'> & {
  readonly log?: HandleSesEventDeps['log'];
  /** Where a failed event's ids go. @default none: the error is thrown */
  readonly deadLetters?: DeadLetterSender;
};

export type SesEventsResult =
  | SesEventOutcome
  | { readonly status: 'invalid'; readonly issues: readonly FieldIssue[] }
  | { readonly status: 'dead-lettered'; readonly detailType: string };

export function createHandler(deps: SesEventsDeps): (event: unknown) => Promise<SesEventsResult> {
  const log = deps.log ?? new Logger({ serviceName: 'keepwell-ses-events' });
  return async (event) => {
    const parsed = sesEventFromSns(event);
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

/** The Lambda entry point (shared/adapters/lambda/entry.ts). */
export const handler = lambdaEntry('ses-events', ({ env, log }) => {
  const store = storeFromEnv(env);
  const deadLetters = deadLettersFromEnv(env);
  return createHandler({ store, ledger: store, clock: systemClock, log, ...(deadLetters ? { deadLetters } : {}) });
});
