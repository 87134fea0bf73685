/**
 * Lets the twin leave out summary sweeps that provably change nothing. The summary sweep fires every
 * 15 minutes; on a quiet day nearly every sweep reads the therapists and each one's latest due period
 * from the ledger, finds it settled, and writes nothing. A sweep at `t` makes the same reads and gets
 * the same answers as the one before it when
 * - the previous sweep settled every therapist's period (sent, skipped or already done),
 * - no write the sweep reads has completed since the previous sweep ended (with `summaryWrites`:
 *   a therapist item, or a summary or clinic-report ledger entry; otherwise any write to the table),
 *   and none to the table is under way, and
 * - `t` is before the next summary instant of any therapist (and the next monthly report), so no
 *   new period has fallen due.
 * Such a sweep is answered with the previous report without invoking the function. Only for a
 * virtual clock, where every writer to the table is in this process and `writes` sees it.
 */
import type { Instant } from '../shared/domain/time.js';
import { latestDuePeriod } from '../shared/domain/summary-period.js';
import type { ClinicStore } from '../shared/ports/store.js';
import type { SweepReport } from '../shared/use-cases/send-summaries.js';
import type { DynamoDBRecord } from 'aws-lambda';
import type { TableWrites } from './table-writes.js';

const SETTLED = new Set(['sent', 'skipped', 'done']);

export interface SummaryShortcut {
  /** Runs `sweep`, unless the sweep at `now` would repeat the previous one. */
  run(now: Date, sweep: () => Promise<unknown>): Promise<unknown>;
  /** Sweeps answered without invoking the function. */
  readonly skipped: number;
}

export function summaryShortcut(options: { store: Pick<ClinicStore, 'listTherapists'>; writes: TableWrites }): SummaryShortcut {
  const { store, writes } = options;
  let memo: { report: unknown; writes: number; until: number } | undefined;
  let skipped = 0;
  return {
    get skipped() {
      return skipped;
    },
    async run(now, sweep) {
      const quiet = writes.inFlight() === 0;
      if (memo && quiet && writes.completed() === memo.writes && now.getTime() < memo.until) {
        skipped++;
        return memo.report;
      }
      memo = undefined;
      const report = await sweep();
      if (!isSettledReport(report)) return report;
      const therapists = await store.listTherapists();
      const nextReport = report.clinicReport ? [Date.parse(report.clinicReport.nextDueAt)] : [];
      const until = Math.min(...therapists.map((t) => Date.parse(latestDuePeriod(t.summary, t.timezone, now).nextEnd)), ...nextReport);
      if (writes.inFlight() === 0 && therapists.length === report.therapists) memo = { report, writes: writes.completed(), until };
      return report;
    },
  };
}

function isSettledReport(report: unknown): report is SweepReport {
  if (typeof report !== 'object' || report === null || !('results' in report)) return false;
  const { results, at, clinicReport } = report as { results: unknown; at: Instant; clinicReport?: { outcome?: string } };
  const reportSettled = clinicReport === undefined || SETTLED.has(clinicReport.outcome ?? '');
  return typeof at === 'string' && Array.isArray(results) && reportSettled && results.every((r: { outcome?: string }) => SETTLED.has(r.outcome ?? ''));
}

/**
 * The writes a settled sweep's answers depend on, counted from the table's stream records: the
 * therapists (the sweep lists them) and the ledger entries of summaries and clinic reports (it reads
 * each one's latest period). The dispatches, check-ins and bookings of a busy clinic write all
 * the time and change neither. Writes still under way are any write to the table, as `writes` sees
 * them. A record is seen only once the stream is drained after its write, so a sweep's own writes
 * make the next sweep run once more before it can be left out.
 */
export function summaryWrites(writes: TableWrites): TableWrites & { observe(record: DynamoDBRecord): void } {
  let seen = 0;
  return {
    completed: () => seen,
    inFlight: () => writes.inFlight(),
    stop: () => undefined,
    observe(record) {
      const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
      const pk = image?.pk?.S ?? record.dynamodb?.Keys?.pk?.S ?? '';
      if (image?.type?.S === 'therapist' || pk.startsWith('THERAPIST#') || pk.startsWith('MSG#su.') || pk.startsWith('MSG#cr.')) seen++;
    },
  };
}
