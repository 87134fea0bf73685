/**
 * Records a client's intake questionnaire (the answers before treatment) as the plan's baseline;
 * the intake page comes here.
 *
 * 1. Find the plan in the client's own records; another client's plan does not exist here.
 * 2. A plan that has a baseline already is answered: `already-answered`, before any validation,
 *    so a back-and-resend never sees "Pain is required" as if the answers were lost.
 * 3. Validate the answers (intakeAnswersSchema); bad ones come back as field issues, nothing stored.
 * 4. Store them as the plan's baseline in one conditional write (ClinicStore.recordBaseline): the
 *    first answers win whole, and a second submit racing the first is told `already-answered`.
 *
 * No therapist alert: the state before treatment is why the client comes, not news for today. The
 * check-ins after each session are compared with it (domain/baseline.ts, domain/red-flags.ts).
 */
import { idSchema, intakeAnswersSchema } from '../domain/model.js';
import { NotFoundError } from '../domain/errors.js';
import { issuesFromZod, parseOrThrow, type FieldIssue } from '../domain/validation.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { ClinicStore } from '../ports/store.js';

export type RecordIntakeResult =
  | { readonly status: 'recorded' }
  | { readonly status: 'already-answered' }
  | { readonly status: 'invalid'; readonly issues: FieldIssue[] };

export async function recordIntake(
  deps: { readonly store: Pick<ClinicStore, 'getMessageContext' | 'recordBaseline'> },
  input: { clientId: string; planId: string; answers: unknown; now: Date | Instant },
): Promise<RecordIntakeResult> {
  const clientId = parseOrThrow(idSchema, input.clientId, 'client id');
  const planId = parseOrThrow(idSchema, input.planId, 'plan id');
  const { plan } = await deps.store.getMessageContext({ clientId, planId });
  if (!plan || plan.clientId !== clientId) throw new NotFoundError('plan', planId);
  if (plan.baseline) return { status: 'already-answered' };
  const parsed = intakeAnswersSchema.safeParse(input.answers);
  if (!parsed.success) return { status: 'invalid', issues: issuesFromZod(parsed.error) };
  const stored = await deps.store.recordBaseline({ clientId, planId, answers: parsed.data, at: toInstant(input.now) });
  return { status: stored };
}
