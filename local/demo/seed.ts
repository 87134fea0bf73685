/**
 * Loads the demo clinic into a twin: its data through the import use case, then the intake
 * questionnaires and check-ins its clients answered before the demo starts, through the same use
 * cases the web forms use.
 */
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { importDataset } from '../../shared/use-cases/manage-plans.js';
import type { Mailer } from '../../shared/ports/mailer.js';
import { answerCheckIn, answerIntake } from '../simulation/actions.js';
import type { Twin } from '../twin.js';
import type { Demo } from './clinic.js';

export async function seedDemo(twin: Twin, demo: Demo): Promise<{ mailer: Mailer }> {
  const mailer = mailerFromEnv();
  await importDataset(twin.store, demo.dataset);
  await twin.settle();
  for (const intake of demo.intakes) await answerIntake(twin, intake, intake.answeredAt);
  for (const past of demo.history) await answerCheckIn(twin, mailer, past, past.answeredAt);
  await twin.settle();
  return { mailer };
}
