/**
 * A deployed stage's clinic settings, for the commands that compute times (preview): read from
 * the stage's entry in cdk.json, through the same loader and schema the CDK app uses, so the
 * CLI's quiet hours and grace days are the ones the stage was deployed with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadStageConfig } from '../../infra/config.js';
import type { ClinicTimes } from './target.js';
import { PROJECT_ROOT } from './state.js';

export function stageClinic(stage: string, cdkJsonPath = join(PROJECT_ROOT, 'cdk.json')): ClinicTimes {
  let context: { stages?: unknown } | undefined;
  try {
    context = (JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: { stages?: unknown } }).context;
  } catch (error) {
    throw new Error(`could not read ${cdkJsonPath} for stage "${stage}"'s clinic settings`, { cause: error });
  }
  const { quietHours, maintenanceGraceDays } = loadStageConfig(context?.stages, stage).clinic;
  return { quietHours, maintenanceGraceDays };
}
