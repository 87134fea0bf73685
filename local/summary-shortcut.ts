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

/** The writes a sweep depends on; `expectOwn` (summaryWrites) is told the entries a settled sweep wrote. */
export type SweepWrites = TableWrites & { expectOwn?(names: ReadonlySet<string>): void };

export function summaryShortcut(options: { store: Pick<ClinicStore, 'listTherapists'>; writes: SweepWrites }): SummaryShortcut {
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
      writes.expectOwn?.(new Set());
      const report = await sweep();
      if (!isSettledReport(report)) return report;
      const therapists = await store.listTherapists();
      const nextReport = report.clinicReport ? [Date.parse(report.clinicReport.nextDueAt)] : [];
      const until = Math.min(...therapists.map((t) => Date.parse(latestDuePeriod(t.summary, t.timezone, now).nextEnd)), ...nextReport);
      if (writes.inFlight() === 0 && therapists.length === report.therapists) {
        memo = { report, writes: writes.completed(), until };
        writes.expectOwn?.(ownEntries(report));
      }
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

/** The ledger entries a settled sweep itself wrote: the periods it sent or recorded as skipped. */
function ownEntries(report: SweepReport): Set<string> {
  const wrote = (outcome: string | undefined) => outcome === 'sent' || outcome === 'skipped';
  const names = report.results.filter((r) => wrote(r.outcome) && r.message !== undefined).map((r) => r.message as string);
  if (report.clinicReport && wrote(report.clinicReport.outcome)) names.push(report.clinicReport.message);
  return new Set(names);
}

/**
 * The writes a settled sweep's answers depend on, counted from the table's stream records: the
 * therapists (the sweep lists them) and the ledger entries of summaries and clinic reports (it reads
 * each one's latest period). The dispatches, check-ins and bookings of a busy clinic write all
 * the time and change neither. Writes still under way are any write to the table, as `writes` sees
 * them. A record is seen only once the stream is drained after its write, after the sweep has
 * returned: the entries a settled sweep sent or skipped (`expectOwn`) are its own writes, already
 * part of the answer it settled on (the next sweep reads them as done), so their records are not
 * counted until the next sweep runs. Besides the sweep, only SES events write those entries (their
 * `delivery`, which is counted) and an operator's redrive (through the CLI, which a sole-writer twin
 * does not serve).
 */
export function summaryWrites(writes: TableWrites): SweepWrites & { observe(record: DynamoDBRecord): void } {
  let seen = 0;
  let own: ReadonlySet<string> = new Set();
  return {
    completed: () => seen,
    inFlight: () => writes.inFlight(),
    stop: () => undefined,
    expectOwn(names) {
      own = names;
    },
    observe(record) {
      const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
      const pk = image?.pk?.S ?? record.dynamodb?.Keys?.pk?.S ?? '';
      // A delivery event (a bounce, a complaint) on the entry is news, not the sweep's own write.
      if (pk.startsWith('MSG#') && own.has(pk.slice('MSG#'.length)) && image?.delivery === undefined) return;
      if (image?.type?.S === 'therapist' || pk.startsWith('THERAPIST#') || pk.startsWith('MSG#su.') || pk.startsWith('MSG#cr.')) seen++;
    },
  };
}
