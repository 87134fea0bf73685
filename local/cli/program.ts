/**
 * The `keepwell` operator CLI (commander). Every command works on the running local twin by
 * default and on a deployed stage with --stage NAME; writes go through the same use cases the
 * system uses, so the table's stream brings the schedules in line exactly as for any other writer.
 *
 * `runCli` is the one entry point: bin/keepwell.mjs and `npm run keepwell` call it through main.ts,
 * tests call it in-process with their own output; it returns the exit code and turns every error
 * into one line on stderr.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EmailInUseError, NotFoundError } from '../../shared/domain/errors.js';
import { dispatchPayloadSchema } from '../../shared/domain/dispatch-payload.js';
import { messageName } from '../../shared/domain/message.js';
import { toInstant } from '../../shared/domain/time.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { adjustPlan, bookSession, cancelSession, ConflictError, planHistory, rescheduleSession } from '../../shared/use-cases/manage-plans.js';
import { planChangeWords, type PlanChange } from '../../shared/domain/plan-change.js';
import type { LedgerEntry } from '../../shared/ports/store.js';
import { redriveSesDeadLetter, sesDeadLetterSchema } from '../../shared/use-cases/handle-ses-event.js';
import { describeProblem, ImportFileError, IMPORT_FORMAT_HELP, interruptible, lookUpExisting, planImport, readImportFile, writeImport } from './import.js';
import { addIntakeCommands } from './intake.js';
import { addClientCommands } from './client.js';
import { formatPreview, previewMessages } from './preview.js';
import { formatOutboxStats, outboxStats } from './outbox-stats.js';
import { progressBar } from './progress.js';
import { NoTwinError } from './state.js';
import { resolveTarget, TargetError, type DeadLetterItem, type Target } from './target.js';

/** The use cases' log, silent: the CLI prints its own one line per letter. */
const quietLog = { info: () => {}, warn: () => {}, error: () => {} };

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env?: NodeJS.ProcessEnv;
  /** Show progress bars even when stderr is not a terminal. */
  readonly stderr?: NodeJS.WriteStream;
}

/** Errors an operator can act on: their message is the whole story. */
const EXPECTED = [ValidationError, NotFoundError, ConflictError, NoTwinError, TargetError, ImportFileError, InvalidArgumentError, EmailInUseError];

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, '; ');
}

interface GlobalOptions {
  stage?: string;
  region?: string;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
}

const DURATION = /^(\d+)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `24h`, `7d`, `90m`, `2w` before `now`, or an instant with its offset. */
export function parseSince(value: string, now: Date): string {
  const match = DURATION.exec(value.trim());
  if (match) return toInstant(now.getTime() - Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
  try {
    return toInstant(value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is neither a duration like 24h, 7d, 90m or 2w nor an instant like 2027-02-01T00:00:00Z`);
  }
}

function statusLabel(entry: LedgerEntry): string {
  return entry.status === 'claimed' || entry.status === 'released' ? 'pending' : entry.status;
}

/** One outbox line: times, outcome and opaque ids; never answers or notes (the ledger holds none). */
export function formatOutboxEntry(entry: LedgerEntry): string {
  const subject = [
    entry.clientId && `client ${entry.clientId}`,
    entry.sessionId && `session ${entry.sessionId}`,
    !entry.sessionId && entry.planId && `plan ${entry.planId}`,
    entry.therapistId && !entry.clientId && `therapist ${entry.therapistId}`,
  ]
    .filter(Boolean)
    .join(', ');
  const detail = entry.reason ? `  — ${entry.reason}` : entry.delivery ? `  — ${entry.delivery.event} ${entry.delivery.at}` : '';
  return `${entry.updatedAt.slice(0, 16).replace('T', ' ')}Z  ${statusLabel(entry).padEnd(7)}  ${entry.kind.padEnd(17)}  ${entry.name.padEnd(30)}  ${subject}${detail}`;
}

/** One history line: when, what, who and how, and the note. */
export function formatPlanChange(change: PlanChange): string {
  const who = change.via === 'email-link' ? `therapist ${change.by}, from the summary email` : `${change.by}, from the CLI`;
  return `${change.at.slice(0, 16).replace('T', ' ')}Z  ${planChangeWords(change)}  — ${who}${change.note ? `  — “${change.note}”` : ''}`;
}

export function buildProgram(io: CliIo): Command {
  const env = io.env ?? process.env;
  const program = new Command('keepwell');
  program
    .description(
      "Operate Keepwell: import a clinic's data, change sessions and plans, preview and inspect emails, redrive failures.\nWorks on the running local twin (`npm start`) unless --stage names a deployed stage.",
    )
    .option('--stage <name>', 'work on a deployed stage (found through its CloudFormation outputs) instead of the local twin')
    .option('--region <region>', 'AWS region of the stage (default: the AWS SDK configuration)')
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      outputError: (s, write) => write(`keepwell: ${oneLine(s.replace(/^error: /, ''))}`),
    })
    .exitOverride()
    .showHelpAfterError(false);

  const withTarget = async <T>(command: Command, run: (target: Target) => Promise<T>): Promise<T> => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const target = await resolveTarget({ ...(globals.stage ? { stage: globals.stage } : {}), ...(globals.region ? { region: globals.region } : {}), env });
    try {
      return await run(target);
    } finally {
      target.close();
    }
  };
  const bar = (label: string, force: boolean) => progressBar(label, { force, ...(io.stderr ? { stream: io.stderr } : {}) });

  program
    .command('import')
    .description('import therapists, clients, plans and sessions from a CSV or JSON file')
    .argument('<file>', 'a .csv or .json file')
    .option('--skip-invalid', 'write the good rows even when some are bad (bad rows are reported and left out)')
    .option('--dry-run', 'validate only; write nothing')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .addHelpText('after', IMPORT_FORMAT_HELP)
    .action(async function (this: Command, file: string, options: { skipInvalid?: boolean; dryRun?: boolean; progress?: boolean }) {
      const { rows, problems: fileProblems } = readImportFile(file);
      await withTarget(this, async (target) => {
        const checking = bar('checking', Boolean(options.progress));
        const existing = await lookUpExisting(target.store, rows, (d, t) => checking.update(d, t), target.records);
        checking.stop();
        const plan = planImport(rows, existing, fileProblems, Boolean(options.skipInvalid));
        for (const problem of plan.problems) io.err(describeProblem(problem));
        for (const warning of plan.warnings) io.err(`warning: ${describeProblem(warning)}`);
        const badRows = new Set(plan.problems.map((p) => p.where)).size;
        if (plan.problems.length > 0 && !options.skipInvalid) {
          throw new ImportFileError(
            `import refused: ${badRows} bad row${badRows === 1 ? '' : 's'} in ${file}; nothing written (fix them, or pass --skip-invalid to import the good rows)`,
          );
        }
        const { therapists, clients, plans, sessions } = plan.dataset;
        const counts = `${therapists.length} therapist(s), ${clients.length} client(s), ${plans.length} plan(s), ${sessions.length} session(s)${plan.unchanged ? ` (${plan.unchanged} record(s) already in the table as the file has them)` : ''}`;
        if (options.dryRun) {
          io.out(`dry run: ${counts} would be imported into ${target.label}${plan.skipped ? `; ${plan.skipped} row(s) left out` : ''}`);
          return;
        }
        const writing = bar('importing', Boolean(options.progress));
        await interruptible((signal) => writeImport(target.store, plan.dataset, (d, t) => writing.update(d, t), signal)).finally(() => writing.stop());
        io.out(`imported ${counts} into ${target.label}${plan.skipped ? `; ${plan.skipped} row(s) left out` : ''}`);
      });
    });

  const session = program.command('session').description('book, cancel or reschedule a session');
  session
    .command('book')
    .description('book a new session on an existing plan')
    .requiredOption('--id <sessionId>', 'the new session id')
    .requiredOption('--plan <planId>', 'the plan it belongs to')
    .requiredOption('--start <instant>', 'start, with its offset: 2027-02-01T14:00:00Z')
    .requiredOption('--duration <minutes>', 'length in minutes', positiveInt)
    .requiredOption('--location <text>', 'where it takes place')
    .action(async function (this: Command, o: { id: string; plan: string; start: string; duration: number; location: string }) {
      await withTarget(this, async (target) => {
        const saved = await bookSession(target.store, { id: o.id, planId: o.plan, start: o.start, durationMinutes: o.duration, location: o.location });
        io.out(`booked session ${saved.id} on plan ${saved.planId} at ${saved.start} (${target.label})`);
      });
    });
  session
    .command('cancel')
    .description('cancel a session; its pending reminders and check-in go with it')
    .argument('<sessionId>')
    .action(async function (this: Command, sessionId: string) {
      await withTarget(this, async (target) => {
        const saved = await cancelSession(target.store, sessionId);
        io.out(`cancelled session ${saved.id} (${target.label})`);
      });
    });
  session
    .command('reschedule')
    .description('move a session; messages about the old time are void')
    .argument('<sessionId>')
    .argument('<start>', 'the new start, with its offset: 2027-02-01T14:00:00Z')
    .option('--duration <minutes>', 'a new length in minutes', positiveInt)
    .option('--location <text>', 'a new location')
    .action(async function (this: Command, sessionId: string, start: string, o: { duration?: number; location?: string }) {
      await withTarget(this, async (target) => {
        const saved = await rescheduleSession(target.store, sessionId, start, {
          ...(o.duration ? { durationMinutes: o.duration } : {}),
          ...(o.location ? { location: o.location } : {}),
        });
        io.out(`rescheduled session ${saved.id} to ${saved.start} (version ${saved.version}, ${target.label})`);
      });
    });

  const plan = program.command('plan').description('pause, resume or complete a plan, change its maintenance interval, show its history');
  /** Runs one adjustment through the use case the summary email's page uses, and says what changed. */
  const adjustFromCli = async (command: Command, planId: string, adjustment: Record<string, unknown>, o: { note?: string; by: string }) =>
    withTarget(command, async (target) => {
      const result = await adjustPlan(target.store, {
        planId,
        adjustment: { ...adjustment, ...(o.note !== undefined ? { note: o.note } : {}) },
        by: o.by,
        via: 'cli',
        now: target.now(),
      });
      switch (result.status) {
        case 'invalid':
          throw new ValidationError('plan change', result.issues);
        case 'refused':
          throw new ConflictError(`plan ${planId}: ${result.reason}`);
        case 'already-done':
          throw new ConflictError(`plan ${planId}: this change was already recorded`);
        case 'unchanged':
          io.out(`plan ${planId} unchanged: ${result.reason} (${target.label})`);
          return;
        case 'adjusted': {
          const { status, maintenanceEveryDays } = result.change.after;
          const verb = {
            interval: `changed the maintenance interval of plan ${planId} to ${maintenanceEveryDays} days`,
            pause: `paused plan ${planId}`,
            resume: `resumed plan ${planId}`,
            complete: `completed plan ${planId}`,
          }[result.change.action];
          io.out(`${verb} (status ${status}, ${target.label})`);
        }
      }
    });
  const noteOption = () => new Option('--note <text>', "a one-line note for the plan's history");
  const byOption = () => new Option('--by <name>', "who makes the change, for the plan's history").default('operator');
  for (const [name, action, description] of [
    ['pause', 'pause', 'pause a plan: no reminders, check-ins or nudges until it is resumed'],
    ['resume', 'resume', 'resume a paused plan (or a completed one)'],
    ['complete', 'complete', 'complete a plan: it ends, and nothing more is sent for it'],
  ] as const) {
    plan
      .command(name)
      .description(description)
      .argument('<planId>')
      .addOption(noteOption())
      .addOption(byOption())
      .action(async function (this: Command, planId: string, o: { note?: string; by: string }) {
        await adjustFromCli(this, planId, { action }, o);
      });
  }
  plan
    .command('interval')
    .description("change a plan's maintenance interval; the next maintenance due date follows")
    .argument('<planId>')
    .argument('<days>', 'the new interval in days (1–365)', positiveInt)
    .addOption(noteOption())
    .addOption(byOption())
    .action(async function (this: Command, planId: string, days: number, o: { note?: string; by: string }) {
      await adjustFromCli(this, planId, { action: 'interval', days }, o);
    });
  plan
    .command('history')
    .description('every change to a plan: when, what, who (or from which summary link) and the note')
    .argument('<planId>')
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, planId: string, o: { json?: boolean }) {
      await withTarget(this, async (target) => {
        const { plan: found, changes } = await planHistory(target.store, planId);
        if (o.json) {
          io.out(JSON.stringify({ planId, status: found.status, changes }, null, 2));
          return;
        }
        io.out(`history of plan ${planId} (status ${found.status}, ${target.label}): ${changes.length} change${changes.length === 1 ? '' : 's'}`);
        for (const change of changes) io.out(formatPlanChange(change));
      });
    });

  program
    .command('preview')
    .description("dry run: every message a client would be sent from now on, and when, in the client's local time")
    .argument('<clientId>')
    .option('--weeks <n>', 'how far ahead to look', positiveInt, 4)
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, clientId: string, o: { weeks: number; json?: boolean }) {
      await withTarget(this, async (target) => {
        const bundle = await target.store.getClientBundle(clientId);
        if (!bundle) throw new NotFoundError('client', clientId);
        const clinic = await target.clinic();
        const now = target.now().toISOString();
        const candidates = previewMessages({ bundle, clinic, now, weeks: o.weeks });
        // Only what the rules would send is looked up: a handful of reads, never the whole ledger.
        const done = new Set<string>();
        for (const item of candidates) {
          const entry = await target.store.get(item.name);
          if (entry && entry.status !== 'released') done.add(item.name);
        }
        const items = candidates.filter((i) => !done.has(i.name));
        if (o.json) io.out(JSON.stringify({ clientId, now, weeks: o.weeks, timezone: bundle.client.timezone, messages: items }, null, 2));
        else
          for (const line of formatPreview(items, `${bundle.client.name} (${clientId}, ${bundle.client.email})`, bundle.client.timezone, o.weeks)) io.out(line);
      });
    });

  program
    .command('outbox')
    .description('what was sent, skipped and failed (with reasons), from the ledger')
    .option('--since <when>', 'a duration back from now (24h, 7d) or an instant', '24h')
    .option('--until <instant>', 'up to this instant (default: now)')
    .addOption(new Option('--status <status>', 'only entries with this outcome').choices(['sent', 'skipped', 'failed', 'pending', 'all']).default('all'))
    .option('--stats', 'per kind: sent, skipped and failed by reason, deferred, pending, and how late the sent ones went')
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, o: { since: string; until?: string; status: string; stats?: boolean; json?: boolean }) {
      await withTarget(this, async (target) => {
        const now = target.now();
        const since = parseSince(o.since, now);
        const until = o.until ? parseSince(o.until, now) : now.toISOString();
        const entries = (await target.store.listSince(since, until)).filter((e) => o.status === 'all' || statusLabel(e) === o.status);
        if (o.stats) {
          const stats = outboxStats(entries);
          if (o.json) io.out(JSON.stringify({ since, until, stats }, null, 2));
          else for (const line of [`outbox statistics of ${target.label}, ${since} – ${until}`, ...formatOutboxStats(stats)]) io.out(line);
          return;
        }
        if (o.json) {
          io.out(JSON.stringify({ since, until, entries }, null, 2));
          return;
        }
        const counts = ['sent', 'skipped', 'failed', 'pending'].map((s) => `${entries.filter((e) => statusLabel(e) === s).length} ${s}`).join(', ');
        io.out(`outbox of ${target.label}, ${since} – ${until}: ${counts}`);
        for (const entry of entries) io.out(formatOutboxEntry(entry));
      });
    });

  const dlq = program
    .command('dlq')
    .description('failed invocations that exhausted their retries')
    .addHelpText(
      'after',
      `
Locally these are the twin's Scheduler dead letters; on a stage, the messages in the schedule
dead-letter queue and the failed-invocations queue (SQS). Redrive re-creates the message's one-time
schedule (same name, due a minute from now), so dispatch runs again exactly as it would have: it
re-reads the current data and the ledger, so a message already sent is not sent twice, and a
cancelled session's reminder is skipped. An SES event ses-events could not store holds only ids;
its redrive finds the recipient again through the message's ledger entry and handles the event
(suppression, delivery note). The letter is then removed from the queue. Letters that are neither
(a failed reconcile or summary run) are left in place: those jobs run again on their own schedule.`,
    );
  const describeLetter = (item: DeadLetterItem): string => {
    const payload = dispatchPayloadSchema.safeParse(item.payload);
    const ses = sesDeadLetterSchema.safeParse(item.payload);
    const what = payload.success
      ? `${messageName(payload.data.message)} (client ${payload.data.clientId})`
      : ses.success
        ? `SES ${ses.data.detailType}${ses.data.message ? ` for ${ses.data.message}` : ''}`
        : 'not a message';
    return `${item.id}  ${item.source}  ${what}  failed ${item.failedAt ?? '?'} after ${item.attempts ?? '?'} attempt(s)${item.error ? ` — ${oneLine(item.error).slice(0, 200)}` : ''}`;
  };
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
        const items = await target.deadLetters.list();
        const unknown = ids.filter((id) => !items.some((i) => i.id === id));
        if (unknown.length > 0) throw new NotFoundError('dead letter', unknown.join(', '));
        const chosen = ids.length > 0 ? items.filter((i) => ids.includes(i.id)) : items;
        const scheduler = chosen.length > 0 ? await target.messageScheduler() : undefined;
        let redriven = 0;
        for (const item of chosen) {
          const ses = sesDeadLetterSchema.safeParse(item.payload);
          if (ses.success) {
            // The recipient is found again through the message's ledger entry: the letter holds no address.
            const outcome = await redriveSesDeadLetter(
              { store: target.store, ledger: target.store, clock: { now: () => target.now() }, log: quietLog },
              ses.data,
            );
            await target.deadLetters.remove(item);
            redriven++;
            io.out(`redrove ${item.id}: SES ${ses.data.detailType} ${outcome.status}`);
            continue;
          }
          const payload = dispatchPayloadSchema.safeParse(item.payload);
          if (!payload.success || !scheduler) {
            io.out(`left ${item.id}: not a message (its job runs again on its own schedule)`);
            continue;
          }
          const { message, clientId, planId, sessionId, therapistId } = payload.data;
          const name = messageName(message);
          const at = toInstant(target.now().getTime() + 60_000);
          await scheduler.upsert({
            name,
            at,
            payload: { message, clientId, ...(planId ? { planId } : {}), ...(sessionId ? { sessionId } : {}), ...(therapistId ? { therapistId } : {}) },
          });
          await target.deadLetters.remove(item);
          redriven++;
          io.out(`redrove ${item.id}: ${name} scheduled for ${at}`);
        }
        io.out(`${redriven} of ${chosen.length} dead letter(s) redriven (${target.label})`);
      });
    });

  addIntakeCommands(program, withTarget, io, parseSince);
  addClientCommands(program, withTarget, io);

  return program;
}

/** Runs the CLI; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const expected = EXPECTED.some((type) => error instanceof type);
    const message = error instanceof Error ? error.message : String(error);
    io.err(`keepwell: ${oneLine(expected ? message : `${error instanceof Error ? error.name : 'error'}: ${message}`)}`);
    return 1;
  }
}
