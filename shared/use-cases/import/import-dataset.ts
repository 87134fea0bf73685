/**
 * Imports a whole dataset, as the simulation and the twin's seed do (and tests): the domain's
 * shapes, validated all together, safe to import again. Step by step:
 * 1. look up what the table holds of its ids and addresses (existing.ts);
 * 2. refuse, before anything is written, an erased client (when `records` is given) and an
 *    address another client holds (table-checks.ts, the rules a file import keeps too);
 * 3. validate it with the dataset rules, references to records in the table included;
 * 4. write it with the one import writer, updating what is there already (write.ts).
 * Bad input writes nothing.
 */
import { parseDataset } from '../../domain/dataset.js';
import { ValidationError } from '../../domain/validation.js';
import type { ClientRecords } from '../../ports/erasure.js';
import type { ClinicStore } from '../../ports/store.js';
import { lookUpExisting } from './existing.js';
import { rowsOfLists } from './rows.js';
import { checkAgainstTable } from './table-checks.js';
import { writeDataset, type ImportCounts } from './write.js';

export interface ImportDatasetOptions {
  readonly onProgress?: (done: number, total: number) => void;
  /** Where erasures are recorded; given, an erased client is refused. */
  readonly records?: Pick<ClientRecords, 'tombstonesFor'>;
}

export async function importDataset(store: ClinicStore, input: unknown, options: ImportDatasetOptions = {}): Promise<ImportCounts> {
  const { rows } = typeof input === 'object' && input !== null ? rowsOfLists(input) : { rows: [] };
  const existing = await lookUpExisting(store, rows, undefined, options.records);
  const verdict = checkAgainstTable(rows, existing, 'update');
  if (verdict.problems.length > 0)
    throw new ValidationError(
      'dataset',
      verdict.problems.map((p) => ({ path: p.where, reason: p.reason })),
    );
  const data = parseDataset(input, 'dataset', { clients: existing.clients, therapists: existing.therapists, plans: existing.plans });
  return writeDataset(store, data, { existing: 'update', ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
}
