/**
 * Redrives dead letters (`keepwell dlq redrive`): all of them, or the ids given. Step by step:
 * 1. list the queue; an id that is not in it is refused before anything is done;
 * 2. a dead-lettered SES event is handled again (the SES redriver finds the recipient through
 *    the message's ledger entry: the letter holds no address), then taken off the queue;
 * 3. a dead-lettered message gets its one-time schedule again, same name, due a minute from now,
 *    then is taken off the queue: dispatch re-reads the data and the ledger, so a message already
 *    sent is not sent twice and a cancelled session's reminder is skipped;
 * 4. anything else (a failed reconcile or summary run) is left: those jobs run again on their own.
 * Each letter's outcome is reported as it is reached, so a failure part-way says how far it got.
 */
import { dispatchPayloadSchema } from '../domain/dispatch-payload.js';
import { NotFoundError } from '../domain/errors.js';
import { sesDeadLetterSchema, type SesDeadLetter } from '../domain/ses-dead-letter.js';
import { messageName } from '../domain/message.js';
import { toInstant, type Instant } from '../domain/time.js';
import type { DeadLetterItem, DeadLetterQueue } from '../ports/dead-letters.js';
import type { MessageScheduler } from '../ports/scheduler.js';

export type RedriveOutcome =
  | { readonly status: 'handled'; readonly item: DeadLetterItem; readonly detailType: string; readonly result: string }
  | { readonly status: 'scheduled'; readonly item: DeadLetterItem; readonly name: string; readonly at: Instant }
  | { readonly status: 'left'; readonly item: DeadLetterItem };

export interface RedriveDeps {
  readonly deadLetters: DeadLetterQueue;
  messageScheduler(): Promise<MessageScheduler>;
  /** Handles a dead-lettered SES event again; answers what it did (suppressed, recorded, ignored). */
  redriveSes(letter: SesDeadLetter): Promise<{ readonly status: string }>;
  now(): Date;
}

const REDRIVE_DELAY_MS = 60_000;

async function redriveOne(deps: RedriveDeps, item: DeadLetterItem, scheduler: MessageScheduler | undefined): Promise<RedriveOutcome> {
  const ses = sesDeadLetterSchema.safeParse(item.payload);
  if (ses.success) {
    const outcome = await deps.redriveSes(ses.data);
    await deps.deadLetters.remove(item);
    return { status: 'handled', item, detailType: ses.data.detailType, result: outcome.status };
  }
  const payload = dispatchPayloadSchema.safeParse(item.payload);
  if (!payload.success || !scheduler) return { status: 'left', item };
  const { message, clientId, planId, sessionId, therapistId } = payload.data;
  const name = messageName(message);
  const at = toInstant(deps.now().getTime() + REDRIVE_DELAY_MS);
  await scheduler.upsert({
    name,
    at,
    payload: { message, clientId, ...(planId ? { planId } : {}), ...(sessionId ? { sessionId } : {}), ...(therapistId ? { therapistId } : {}) },
  });
  await deps.deadLetters.remove(item);
  return { status: 'scheduled', item, name, at };
}

export async function redriveDeadLetters(
  deps: RedriveDeps,
  ids: readonly string[],
  onOutcome: (outcome: RedriveOutcome) => void,
): Promise<{ readonly chosen: number; readonly redriven: number }> {
  const items = await deps.deadLetters.list();
  const unknown = ids.filter((id) => !items.some((i) => i.id === id));
  if (unknown.length > 0) throw new NotFoundError('dead letter', unknown.join(', '));
  const chosen = ids.length > 0 ? items.filter((i) => ids.includes(i.id)) : items;
  const scheduler = chosen.length > 0 ? await deps.messageScheduler() : undefined;
  let redriven = 0;
  for (const item of chosen) {
    const outcome = await redriveOne(deps, item, scheduler);
    if (outcome.status !== 'left') redriven++;
    onOutcome(outcome);
  }
  return { chosen: chosen.length, redriven };
}
