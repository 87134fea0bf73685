/**
 * dispatch: the target of every one-time message schedule. Validates the payload, sends the one
 * message it names (shared/use-cases/send-message.ts) and returns the outcome.
 *
 * - An invalid payload is a permanent failure: logged with the field paths, no retry (it would
 *   fail the same way every time).
 * - The Scheduler invokes this function asynchronously: a thrown error never reaches the
 *   schedule's retry policy, and Lambda retries it only twice before the on-failure destination.
 *   So throttling and other retryable errors are not thrown: the use case releases the claim and
 *   creates its own one-time retry schedule (`retry-scheduled`). Only a claim in flight, or a retry
 *   schedule that could not be created, is thrown, for Lambda's two retries to look again.
 * - Everything else (sent, skipped, deferred, duplicate, failed, retry-scheduled) is recorded in
 *   the ledger and returned normally.
 * - Each outcome, and the lateness of each email sent (send time minus the time it was meant
 *   for), is reported as an embedded metric (shared/adapters/metrics/powertools.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { schedulingDepsFromEnv } from '../../shared/adapters/scheduler/scheduling-deps.js';
import { fromEnv as tokenSignerFromEnv, type TokenKeyring } from '../../shared/adapters/token-key.js';
import { DISPATCH_METRICS_SERVICE, PowertoolsDeliveryMetrics } from '../../shared/adapters/metrics/powertools.js';
import { reasonCode } from '../../shared/domain/reason-code.js';
import { issuesFromZod, type FieldIssue } from '../../shared/domain/validation.js';
import type { DeliveryMetrics } from '../../shared/ports/metrics.js';
import { dispatchRequestSchema, sendMessage, type DispatchRequest, type SendMessageDeps, type SendOutcome } from '../../shared/use-cases/send-message.js';

export type DispatchDeps = SendMessageDeps & {
  /** Where outcomes and lateness are reported. @default none */
  readonly metrics?: DeliveryMetrics;
};

export type DispatchResult = SendOutcome | { readonly status: 'invalid'; readonly issues: readonly FieldIssue[] };

export function createHandler(deps: DispatchDeps): (event: unknown) => Promise<DispatchResult> {
  const log = deps.log ?? new Logger({ serviceName: 'keepwell-dispatch' });
  return async (event) => {
    const parsed = dispatchRequestSchema.safeParse(event);
    if (!parsed.success) {
      // Paths and reasons only: the schema's messages never echo the input.
      const issues = issuesFromZod(parsed.error);
      log.error('invalid dispatch payload: not retried', { issues: issues.map((i) => `${i.path || '(root)'}: ${i.reason}`).join('; ') });
      return { status: 'invalid', issues };
    }
    const outcome = await sendMessage({ ...deps, log }, parsed.data);
    if (deps.metrics) report(deps.metrics, parsed.data, outcome, deps.clock.now());
    return outcome;
  };
}

function report(metrics: DeliveryMetrics, payload: DispatchRequest, outcome: SendOutcome, now: Date): void {
  const kind = payload.message.kind;
  metrics.outcome(kind, outcome.status, outcome.status === 'skipped' || outcome.status === 'failed' ? reasonCode(outcome.reason) : undefined);
  const meantFor = payload.redelivery?.intendedAt ?? payload.scheduledTime;
  if (outcome.status === 'sent' && meantFor !== undefined && !Number.isNaN(Date.parse(meantFor))) metrics.lateness(kind, now.getTime() - Date.parse(meantFor));
}

interface Built {
  readonly run: (event: unknown) => Promise<DispatchResult>;
  readonly keys: TokenKeyring;
}

async function build(): Promise<Built> {
  const { store, ledger, scheduler, clinic, clock } = schedulingDepsFromEnv();
  const keys = await tokenSignerFromEnv();
  return {
    keys,
    run: createHandler({
      store,
      ledger,
      scheduler,
      clinic,
      clock,
      mailer: mailerFromEnv(),
      tokens: keys,
      metrics: new PowertoolsDeliveryMetrics(DISPATCH_METRICS_SERVICE),
    }),
  };
}

let built: Promise<Built> | undefined;

/**
 * Built once per container, on the first invocation, from the environment the stack sets. The
 * token key is re-read once it is an hour old, so links are issued under a rotated key within
 * the hour.
 */
export const handler = async (event: unknown): Promise<DispatchResult> => {
  built ??= build().catch((error: unknown) => {
    // A failed start (a missing variable, SSM unreachable) is retried by the next invocation.
    built = undefined;
    throw error;
  });
  const { run, keys } = await built;
  await keys.refresh();
  return run(event);
};
