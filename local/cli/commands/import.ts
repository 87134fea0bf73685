/**
 * `keepwell import <file>`: the file is read into rows (../import.ts), checked against the table
 * and planned by the import use case, its problems printed; then, unless it is a dry run or a row
 * is bad without --skip-invalid, written by the one import writer, stoppable between two records.
 */
import type { Command } from 'commander';
import { ImportFileError } from '../../../shared/domain/errors.js';
import { checkImport } from '../../../shared/use-cases/import/import-file.js';
import type { ImportPlan } from '../../../shared/use-cases/import/plan-import.js';
import { describeProblem } from '../../../shared/use-cases/import/rows.js';
import { writeImport } from '../../../shared/use-cases/import/write.js';
import type { CliContext } from '../context.js';
import { IMPORT_FORMAT_HELP, interruptible, readImportFile } from '../import.js';

interface ImportOptions {
  skipInvalid?: boolean;
  dryRun?: boolean;
  progress?: boolean;
}

/** Prints every problem and warning; refuses the import when a row is bad and --skip-invalid is off. */
function report(ctx: CliContext, plan: ImportPlan, file: string, skipInvalid: boolean): void {
  for (const problem of plan.problems) ctx.io.err(describeProblem(problem));
  for (const warning of plan.warnings) ctx.io.err(`warning: ${describeProblem(warning)}`);
  const badRows = new Set(plan.problems.map((p) => p.where)).size;
  if (plan.problems.length > 0 && !skipInvalid) {
    throw new ImportFileError(
      `import refused: ${badRows} bad row${badRows === 1 ? '' : 's'} in ${file}; nothing written (fix them, or pass --skip-invalid to import the good rows)`,
    );
  }
}

function countsOf(plan: ImportPlan): string {
  const { therapists, clients, plans, sessions } = plan.dataset;
  return `${therapists.length} therapist(s), ${clients.length} client(s), ${plans.length} plan(s), ${sessions.length} session(s)${plan.unchanged ? ` (${plan.unchanged} record(s) already in the table as the file has them)` : ''}`;
}

export function addImportCommand(program: Command, ctx: CliContext): void {
  program
    .command('import')
    .description('import therapists, clients, plans and sessions from a CSV or JSON file')
    .argument('<file>', 'a .csv or .json file')
    .option('--skip-invalid', 'write the good rows even when some are bad (bad rows are reported and left out)')
    .option('--dry-run', 'validate only; write nothing')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .addHelpText('after', IMPORT_FORMAT_HELP)
    .action(async function (this: Command, file: string, options: ImportOptions) {
      const read = readImportFile(file);
      await ctx.withTarget(this, async (target) => {
        const skipInvalid = Boolean(options.skipInvalid);
        const checking = ctx.bar('checking', Boolean(options.progress));
        const plan = await checkImport({ store: target.store, records: target.records }, read, { skipInvalid, onProgress: (d, t) => checking.update(d, t) });
        checking.stop();
        report(ctx, plan, file, skipInvalid);
        const left = plan.skipped ? `; ${plan.skipped} row(s) left out` : '';
        if (options.dryRun) {
          ctx.io.out(`dry run: ${countsOf(plan)} would be imported into ${target.label}${left}`);
          return;
        }
        const writing = ctx.bar('importing', Boolean(options.progress));
        await interruptible((signal) => writeImport(target.store, plan.dataset, (d, t) => writing.update(d, t), signal)).finally(() => writing.stop());
        ctx.io.out(`imported ${countsOf(plan)} into ${target.label}${left}`);
      });
    });
}
