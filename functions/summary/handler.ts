/**
 * The summary sweep's Lambda: invoked every 15 minutes by a recurring schedule, it sends each
 * therapist's follow-up summary that has fallen due (shared/use-cases/send-summaries.ts).
 * A sweep in which any summary failed ends in an error, so the function's error alarm sees it;
 * the failure itself is already recorded in the ledger, and retries are the next sweeps' job.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { fromEnv as tokenSignerFromEnv } from '../../shared/adapters/token-key.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import { sendDueSummaries, type SendSummariesDeps, type SweepReport } from '../../shared/use-cases/send-summaries.js';

/** `maxBytes` @default 1 MB (MAX_RAW_MESSAGE_BYTES); `signer` signs the summary's "Adjust plan" links. */
export type SummaryHandlerDeps = Omit<SendSummariesDeps, 'logger' | 'concurrency'> & {
  readonly clock: Clock;
  readonly logger?: SendSummariesDeps['logger'];
};

/** The recurring schedule sends `{}`; anything else it may carry is ignored, but it must be an object. */
const sweepEventSchema = z.union([z.looseObject({}), z.null(), z.undefined()]);

/** Some summaries of the sweep failed; their ledger entries say which and why. */
export class SummarySweepError extends Error {
  override readonly name = 'SummarySweepError';
  constructor(readonly report: SweepReport) {
    const reportFailed = report.clinicReport?.outcome === 'failed' ? '; the clinic report failed' : '';
    super(`${report.counts.failed} of ${report.therapists} therapists' summaries failed in the sweep at ${report.at}${reportFailed}`);
  }
}

export function createHandler(deps: SummaryHandlerDeps): (event: unknown) => Promise<SweepReport> {
  const logger = deps.logger ?? new Logger({ serviceName: 'keepwell-summary' });
  return async (event) => {
    parseOrThrow(sweepEventSchema, event, 'summary sweep event');
    const report = await sendDueSummaries({ ...deps, logger }, deps.clock.now());
    logger.info('summary sweep', {
      at: report.at,
      therapists: report.therapists,
      ...report.counts,
      ...(report.clinicReport ? { clinicReport: report.clinicReport.outcome } : {}),
    });
    if (report.counts.failed > 0 || report.clinicReport?.outcome === 'failed') throw new SummarySweepError(report);
    return report;
  };
}

/** The Lambda entry point (shared/adapters/lambda/entry.ts); the token key comes from SSM at start. */
export const handler = lambdaEntry('summary', async ({ env, log }) => {
  const store = storeFromEnv(env);
  const clinic = clinicFromEnv(env);
  return createHandler({ store, ledger: store, mailer: mailerFromEnv(env), clinic, clock: systemClock, signer: await tokenSignerFromEnv(env), logger: log });
});
