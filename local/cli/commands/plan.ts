/**
 * `keepwell plan pause|resume|complete|interval|history`: a plan's changes through the use case
 * the summary email's page uses (adjustPlan), and its history.
 */
import { Option, type Command } from 'commander';
import { ConflictError } from '../../../shared/domain/errors.js';
import { planChangeWords, type PlanChange } from '../../../shared/domain/plan-change.js';
import { ValidationError } from '../../../shared/domain/validation.js';
import { adjustPlan, planHistory, type AdjustPlanOutcome } from '../../../shared/use-cases/adjust-plan.js';
import { positiveInt, type CliContext } from '../context.js';

interface ChangeOptions {
  note?: string;
  by: string;
}

/** One history line: when, what, who and how, and the note. */
export function formatPlanChange(change: PlanChange): string {
  const who = change.via === 'email-link' ? `therapist ${change.by}, from the summary email` : `${change.by}, from the CLI`;
  return `${change.at.slice(0, 16).replace('T', ' ')}Z  ${planChangeWords(change)}  — ${who}${change.note ? `  — “${change.note}”` : ''}`;
}

/** What the operator is told of an adjustment; a refusal is an error. */
function outcomeLine(planId: string, result: AdjustPlanOutcome, label: string): string {
  switch (result.status) {
    case 'invalid':
      throw new ValidationError('plan change', result.issues);
    case 'refused':
      throw new ConflictError(`plan ${planId}: ${result.reason}`);
    case 'already-done':
      throw new ConflictError(`plan ${planId}: this change was already recorded`);
    case 'unchanged':
      return `plan ${planId} unchanged: ${result.reason} (${label})`;
    case 'adjusted': {
      const { status, maintenanceEveryDays } = result.change.after;
      const verb = {
        interval: `changed the maintenance interval of plan ${planId} to ${maintenanceEveryDays} days`,
        pause: `paused plan ${planId}`,
        resume: `resumed plan ${planId}`,
        complete: `completed plan ${planId}`,
      }[result.change.action];
      return `${verb} (status ${status}, ${label})`;
    }
  }
}

const noteOption = () => new Option('--note <text>', "a one-line note for the plan's history");
const byOption = () => new Option('--by <name>', "who makes the change, for the plan's history").default('operator');

function addAdjustCommands(plan: Command, ctx: CliContext): void {
  /** Runs one adjustment through the use case the summary email's page uses, and says what changed. */
  const adjustFromCli = async (command: Command, planId: string, adjustment: Record<string, unknown>, o: ChangeOptions) =>
    ctx.withTarget(command, async (target) => {
      const result = await adjustPlan(target.store, {
        planId,
        adjustment: { ...adjustment, ...(o.note !== undefined ? { note: o.note } : {}) },
        by: o.by,
        via: 'cli',
        now: target.now(),
      });
      ctx.io.out(outcomeLine(planId, result, target.label));
    });
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
      .action(async function (this: Command, planId: string, o: ChangeOptions) {
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
    .action(async function (this: Command, planId: string, days: number, o: ChangeOptions) {
      await adjustFromCli(this, planId, { action: 'interval', days }, o);
    });
}

export function addPlanCommands(program: Command, ctx: CliContext): void {
  const { io, withTarget } = ctx;
  const plan = program.command('plan').description('pause, resume or complete a plan, change its maintenance interval, show its history');
  addAdjustCommands(plan, ctx);
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
}
