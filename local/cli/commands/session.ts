/** `keepwell session book|cancel|reschedule`: the session use cases, on the target. */
import type { Command } from 'commander';
import { bookSession, cancelSession, rescheduleSession } from '../../../shared/use-cases/manage-sessions.js';
import { positiveInt, type CliContext } from '../context.js';

export function addSessionCommands(program: Command, ctx: CliContext): void {
  const { io, withTarget } = ctx;
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
}
