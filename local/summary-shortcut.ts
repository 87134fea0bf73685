/**
 * Lets the twin leave out summary sweeps that provably change nothing. The summary sweep fires every
 * 15 minutes; on a quiet day nearly every sweep reads the therapists and each one's latest due period
 * from the ledger, finds it settled, and writes nothing. A sweep at `t` makes the same reads and gets
 * the same answers as the one before it when
 * - the previous sweep settled every therapist's period (sent, skipped or already done),
 * - no write to the table has completed (or is under way) since the previous sweep ended, and
 * - `t` is before the next summary instant of any therapist (and the next monthly report), so no
 *   new period has fallen due.
 * Such a sweep is answered with the previous report without invoking the function. Only for a
 * virtual clock, where every writer to the table is in this process and `writes` sees it.
 */
import type { Instant } from '../shared/domain/time.js';
import { latestDuePeriod } from '../shared/domain/summary-period.js';
import type { ClinicStore } from '../shared/ports/store.js';
import type { SweepReport } from '../shared/use-cases/send-summaries.js';
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
