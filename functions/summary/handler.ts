/**
 * The summary sweep's Lambda: invoked every 15 minutes by a recurring schedule, it sends each
 * therapist's follow-up summary that has fallen due (shared/use-cases/send-summaries.ts).
 * A sweep in which any summary failed ends in an error, so the function's error alarm sees it;
 * the failure itself is already recorded in the ledger, and retries are the next sweeps' job.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { readEnv } from '../../shared/config/env.js';
import type { Clinic } from '../../shared/domain/model.js';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { fromEnv as tokenSignerFromEnv } from '../../shared/adapters/token-key.js';
import { parseOrThrow } from '../../shared/domain/validation.js';
import type { Mailer } from '../../shared/ports/mailer.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { ClinicStore, Ledger } from '../../shared/ports/store.js';
import { sendDueSummaries, type SendSummariesDeps, type SweepReport } from '../../shared/use-cases/send-summaries.js';

export interface SummaryHandlerDeps {
  readonly store: ClinicStore;
  readonly ledger: Ledger;
  readonly mailer: Mailer;
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly logger?: SendSummariesDeps['logger'];
  /** @default 1 MB (MAX_RAW_MESSAGE_BYTES) */
  readonly maxBytes?: number;
  /** Signs the summary's "Adjust plan" links. */
  readonly signer?: SendSummariesDeps['signer'];
}

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
    const report = await sendDueSummaries(
      {
        store: deps.store,
        ledger: deps.ledger,
        mailer: deps.mailer,
        clinic: deps.clinic,
        logger,
        ...(deps.signer ? { signer: deps.signer } : {}),
        ...(deps.maxBytes !== undefined ? { maxBytes: deps.maxBytes } : {}),
      },
      deps.clock.now(),
    );
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

async function depsFromEnv(): Promise<SummaryHandlerDeps> {
  // Name every missing variable at once, before any adapter reads its own.
  readEnv(['TABLE_NAME', 'CLINIC_CONFIG', 'CONFIGURATION_SET']);
  const store = storeFromEnv();
  return { store, ledger: store, mailer: mailerFromEnv(), clinic: clinicFromEnv(), clock: systemClock, signer: await tokenSignerFromEnv() };
}

let built: Promise<(event: unknown) => Promise<SweepReport>> | undefined;

/** Built once per container, on the first invocation, from the environment the stack sets (the token key from SSM). */
export const handler = async (event: unknown): Promise<SweepReport> => {
  built ??= depsFromEnv().then(createHandler);
  // A failed build (SSM unreachable) is not cached: the next sweep tries again.
  const ready = await built.catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return ready(event);
};
