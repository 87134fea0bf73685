/** `keepwell dlq list|redrive`: failed invocations that exhausted their retries, and the redrive use case. */
import type { Command } from 'commander';
import { dispatchPayloadSchema } from '../../../shared/domain/dispatch-payload.js';
import { messageName } from '../../../shared/domain/message.js';
import { sesDeadLetterSchema } from '../../../shared/domain/ses-dead-letter.js';
import type { DeadLetterItem } from '../../../shared/ports/dead-letters.js';
import { redriveSesDeadLetter } from '../../../shared/use-cases/handle-ses-event.js';
import { redriveDeadLetters, type RedriveOutcome } from '../../../shared/use-cases/redrive-dead-letters.js';
import { oneLine, quietLog, type CliContext } from '../context.js';
import type { Target } from '../target.js';

const DLQ_HELP = `
Locally these are the twin's Scheduler dead letters; on a stage, the messages in the schedule
dead-letter queue and the failed-invocations queue (SQS). Redrive re-creates the message's one-time
schedule (same name, due a minute from now), so dispatch runs again exactly as it would have: it
re-reads the current data and the ledger, so a message already sent is not sent twice, and a
cancelled session's reminder is skipped. An SES event ses-events could not store holds only ids;
its redrive finds the recipient again through the message's ledger entry and handles the event
(suppression, delivery note). The letter is then removed from the queue. Letters that are neither
(a failed reconcile or summary run) are left in place: those jobs run again on their own schedule.`;

function describeLetter(item: DeadLetterItem): string {
  const payload = dispatchPayloadSchema.safeParse(item.payload);
  const ses = sesDeadLetterSchema.safeParse(item.payload);
  const what = payload.success
    ? `${messageName(payload.data.message)} (client ${payload.data.clientId})`
    : ses.success
      ? `SES ${ses.data.detailType}${ses.data.message ? ` for ${ses.data.message}` : ''}`
      : 'not a message';
  return `${item.id}  ${item.source}  ${what}  failed ${item.failedAt ?? '?'} after ${item.attempts ?? '?'} attempt(s)${item.error ? ` — ${oneLine(item.error).slice(0, 200)}` : ''}`;
}

function outcomeLine(outcome: RedriveOutcome): string {
  switch (outcome.status) {
    case 'handled':
      return `redrove ${outcome.item.id}: SES ${outcome.detailType} ${outcome.result}`;
    case 'scheduled':
      return `redrove ${outcome.item.id}: ${outcome.name} scheduled for ${outcome.at}`;
    case 'left':
      return `left ${outcome.item.id}: not a message (its job runs again on its own schedule)`;
  }
}

function redriveDeps(target: Target) {
  return {
    deadLetters: target.deadLetters,
    messageScheduler: () => target.messageScheduler(),
    now: () => target.now(),
    // The recipient is found again through the message's ledger entry: the letter holds no address.
    redriveSes: (letter: Parameters<typeof redriveSesDeadLetter>[1]) =>
      redriveSesDeadLetter({ store: target.store, ledger: target.store, clock: { now: () => target.now() }, log: quietLog }, letter),
  };
}

export function addDlqCommands(program: Command, ctx: CliContext): void {
  const { io, withTarget } = ctx;
  const dlq = program.command('dlq').description('failed invocations that exhausted their retries').addHelpText('after', DLQ_HELP);
  dlq
    .command('list')
    .description('list dead letters')
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, o: { json?: boolean }) {
      await withTarget(this, async (target) => {
        const items = await target.deadLetters.list();
        if (o.json) io.out(JSON.stringify(items, null, 2));
        else {
          io.out(`${items.length} dead letter${items.length === 1 ? '' : 's'} (${target.label})`);
          for (const item of items) io.out(`  ${describeLetter(item)}`);
        }
      });
    });
  dlq
    .command('redrive')
    .description('re-create the one-time schedule of dead-lettered messages, or handle dead-lettered SES events again (all, or the ids given)')
    .argument('[ids...]', 'dead letter ids from `dlq list` (default: all)')
    .action(async function (this: Command, ids: string[]) {
      await withTarget(this, async (target) => {
        const { chosen, redriven } = await redriveDeadLetters(redriveDeps(target), ids, (outcome) => io.out(outcomeLine(outcome)));
        io.out(`${redriven} of ${chosen} dead letter(s) redriven (${target.label})`);
      });
    });
}
