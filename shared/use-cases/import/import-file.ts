/**
 * A file import's check (`keepwell import`): the rows the CLI read from a CSV or JSON file are
 * looked up in the table and planned (plan-import.ts) before anything is written; the CLI prints
 * the problems and, unless it was a dry run, writes the plan with `writeImport`.
 */
import type { ClientRecords } from '../../ports/erasure.js';
import type { ClinicStore } from '../../ports/store.js';
import { lookUpExisting } from './existing.js';
import { planImport, type ImportPlan } from './plan-import.js';
import type { ImportRow, RowProblem } from './rows.js';

export interface CheckImportDeps {
  readonly store: ClinicStore;
  readonly records?: Pick<ClientRecords, 'tombstonesFor'>;
}

export async function checkImport(
  deps: CheckImportDeps,
  file: { readonly rows: readonly ImportRow[]; readonly problems: readonly RowProblem[] },
  options: { readonly skipInvalid: boolean; readonly onProgress?: (done: number, total: number) => void },
): Promise<ImportPlan> {
  const existing = await lookUpExisting(deps.store, file.rows, options.onProgress, deps.records);
  return planImport(file.rows, existing, file.problems, options.skipInvalid);
}
