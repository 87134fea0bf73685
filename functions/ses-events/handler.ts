/**
 * ses-events: SES configuration-set events (bounces, complaints, deliveries …) delivered by
 * EventBridge. Validates the event and hands it to shared/use-cases/handle-ses-event.ts.
 * A malformed event is logged by field path and dropped: retrying it cannot make it valid.
 * Storage errors are thrown, so EventBridge retries and the event is not lost.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { issuesFromZod, type FieldIssue } from '../../shared/domain/validation.js';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { systemClock } from '../../shared/ports/clock.js';
import { handleSesEvent, sesEventSchema, type HandleSesEventDeps, type SesEventOutcome } from '../../shared/use-cases/handle-ses-event.js';

export type SesEventsDeps = Omit<HandleSesEventDeps, 'log'> & { readonly log?: HandleSesEventDeps['log'] };

export type SesEventsResult = SesEventOutcome | { readonly status: 'invalid'; readonly issues: readonly FieldIssue[] };

export function createHandler(deps: SesEventsDeps): (event: unknown) => Promise<SesEventsResult> {
  const log = deps.log ?? new Logger({ serviceName: 'keepwell-ses-events' });
  return async (event) => {
    const parsed = sesEventSchema.safeParse(event);
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error);
      log.error('invalid SES event: dropped', { issues: issues.map((i) => `${i.path || '(root)'}: ${i.reason}`).join('; ') });
      return { status: 'invalid', issues };
    }
    return handleSesEvent({ ...deps, log }, parsed.data);
  };
}

function depsFromEnv(): SesEventsDeps {
  const store = storeFromEnv();
  return { store, ledger: store, clock: systemClock };
}

let built: ((event: unknown) => Promise<SesEventsResult>) | undefined;

/** Built once per container, on the first invocation, from the environment the stack sets. */
export const handler = async (event: unknown): Promise<SesEventsResult> => {
  built ??= createHandler(depsFromEnv());
  return built(event);
};
