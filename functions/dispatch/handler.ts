/**
 * dispatch: the target of every one-time message schedule. Validates the payload (an invalid one is
 * logged by field path, not retried), sends the message it names (use-cases/send-message.ts) and
 * returns the outcome. Scheduler invokes asynchronously, so the use case schedules its own retries;
 * only a claim in flight, or a retry schedule not created, is thrown, for Lambda's two retries.
 * Each outcome, and each email's lateness (sent minus meant-for time), is an embedded metric.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { DISPATCH_METRICS_SERVICE, PowertoolsDeliveryMetrics } from '../../shared/adapters/metrics/powertools.js';
import { schedulingDepsFromEnv } from '../../shared/adapters/scheduler/scheduling-deps.js';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { fromEnv as tokenSignerFromEnv } from '../../shared/adapters/token-key.js';
import { reasonCode } from '../../shared/domain/reason-code.js';
import { issuesFromZod, type FieldIssue } from '../../shared/domain/validation.js';
import type { DeliveryMetrics } from '../../shared/ports/metrics.js';
import { dispatchRequestSchema, sendMessage, type DispatchRequest, type SendMessageDeps, type SendOutcome } from '../../shared/use-cases/send-message.js';

/** `metrics`: where outcomes and lateness are reported (@default none). */
export type DispatchDeps = SendMessageDeps & { readonly metrics?: DeliveryMetrics };

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

/** The token key is re-read once it is an hour old, so links are issued under a rotated key within the hour. */
export const handler = lambdaEntry('dispatch', async ({ env, log }) => {
  const keys = await tokenSignerFromEnv(env);
  const metrics = new PowertoolsDeliveryMetrics(DISPATCH_METRICS_SERVICE);
  const run = createHandler({ ...schedulingDepsFromEnv(env), mailer: mailerFromEnv(env), tokens: keys, metrics, log });
  return async (event: unknown) => {
    await keys.refresh();
    return run(event);
  };
});
