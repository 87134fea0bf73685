/**
 * The `keepwell` operator CLI (commander). Every command works on the running local twin by
 * default and on a deployed stage with --stage NAME; writes go through the same use cases the
 * system uses, so the table's stream brings the schedules in line exactly as for any other writer.
 * Each command lives in its own module under commands/; this file only wires them in.
 *
 * `runCli` is the one entry point: bin/keepwell.mjs and `npm run keepwell` call it through main.ts,
 * tests call it in-process with their own output; it returns the exit code and turns every error
 * into one line on stderr.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConflictError, EmailInUseError, ImportFileError, NotFoundError } from '../../shared/domain/errors.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { addClientCommands } from './commands/client.js';
import { addDlqCommands } from './commands/dlq.js';
import { addImportCommand } from './commands/import.js';
import { addIntakeCommands } from './commands/intake.js';
import { addOutboxCommand } from './commands/outbox.js';
import { addPlanCommands } from './commands/plan.js';
import { addPreviewCommand } from './commands/preview.js';
import { addSessionCommands } from './commands/session.js';
import { contextFor, oneLine, targetOpener, type CliIo } from './context.js';
import { NoTwinError } from './state.js';
import { resolveTarget, TargetError } from './target.js';

export { parseSince, type CliIo } from './context.js';

/** Errors an operator can act on: their message is the whole story. */
const EXPECTED = [ValidationError, NotFoundError, ConflictError, NoTwinError, TargetError, ImportFileError, InvalidArgumentError, EmailInUseError];

export function buildProgram(io: CliIo): Command {
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

  const ctx = contextFor(io, targetOpener(io.env ?? process.env, resolveTarget));
  addImportCommand(program, ctx);
  addSessionCommands(program, ctx);
  addPlanCommands(program, ctx);
  addPreviewCommand(program, ctx);
  addOutboxCommand(program, ctx);
  addDlqCommands(program, ctx);
  addIntakeCommands(program, ctx);
  addClientCommands(program, ctx);
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
