/**
 * Lets the twin cut reconcile passes down to the work they have. reconcile fires every hour and does
 * two things: it heals schedules (reads every session in its five-day window, their plans and
 * clients, lists each session's schedules, creates what is missing) and it acts on plans whose
 * maintenance action time has come (a nudge, a lapse, the next look). In a simulated quarter of a
 * busy clinic the healing is nine in ten of all the requests the twin makes, and in a healthy run it
 * finds nothing. A schedule sync-schedules keeps can only go missing through a fault: a stream record
 * given up on or retried, an invocation that failed or was retried, a Scheduler dead letter, a
 * Scheduler call refused or failed. The twin counts each of those (`faults`).
 *
 * So, once a full pass has healed nothing and failed nothing, and while no fault has been seen since
 * it began, a pass at `t`
 * - is left out when no plan's maintenance action time is at or before `t` (the twin reads those
 *   times from the plans' stream records), and answered with the previous full pass's counts;
 * - otherwise runs with an empty window (`lookAheadHours` and `lookBackHours` 0, the handler's own
 *   event fields), so it reads no sessions to heal and does the maintenance work exactly as a full
 *   pass would.
 * Anything else runs the full pass. Only for a virtual clock with every writer in this process, on a
 * table the twin created (so the stream holds every plan's history), and without injected faults
 * (chaos runs heal for real on every pass).
 */
import type { DynamoDBRecord } from 'aws-lambda';

export interface ReconcileShortcut {
  /** Runs `pass` on `payload`, on an empty window, or not at all: see above. */
  run(now: Date, payload: unknown, pass: (payload: unknown) => Promise<unknown>): Promise<unknown>;
  /** Reads a table stream record: a plan's maintenance action time, set, moved or cleared. */
  observe(record: DynamoDBRecord): void;
  /** Passes left out, and passes run on an empty window. */
  readonly skipped: number;
  readonly maintenanceOnly: number;
}

export interface ReconcileShortcutOptions {
  /** How many faults that can leave a schedule missing have happened so far (only ever grows). */
  readonly faults: () => number;
}

export function reconcileShortcut(options: ReconcileShortcutOptions): ReconcileShortcut {
  /** Plan item (pk|sk) → its maintenance action time, epoch ms. */
  const actionAt = new Map<string, number>();
  /** The last full pass that healed and failed nothing, with the fault count when it began. */
  let healthy: { report: unknown; faults: number } | undefined;
  let skipped = 0;
  let maintenanceOnly = 0;
  const actionDue = (now: number): boolean => {
    for (const at of actionAt.values()) if (at <= now) return true;
    return false;
  };
  return {
    get skipped() {
      return skipped;
    },
    get maintenanceOnly() {
      return maintenanceOnly;
    },
    observe(record) {
      const image = record.dynamodb?.NewImage ?? record.dynamodb?.OldImage;
      if (image?.type?.S !== 'plan') return;
      const key = `${image.pk?.S}|${image.sk?.S}`;
      const at = record.eventName === 'REMOVE' ? undefined : record.dynamodb?.NewImage?.maintenanceActionAt?.S;
      if (at === undefined) actionAt.delete(key);
      else actionAt.set(key, Date.parse(at));
    },
    async run(now, payload, pass) {
      const faults = options.faults();
      if (healthy && faults === healthy.faults && typeof payload === 'object' && payload !== null) {
        if (!actionDue(now.getTime())) {
          skipped++;
          return healthy.report;
        }
        maintenanceOnly++;
        const report = await pass({ ...payload, lookAheadHours: 0, lookBackHours: 0 });
        if (!hasCounts(report, ['healed', 'failed'])) healthy = undefined;
        return report;
      }
      healthy = undefined;
      const report = await pass(payload);
      if (hasCounts(report, ['healed', 'failed'])) healthy = { report, faults };
      return report;
    },
  };
}

/** A reconcile pass's counts, with each of `fields` 0. */
function hasCounts(report: unknown, fields: readonly string[]): boolean {
  if (typeof report !== 'object' || report === null) return false;
  const counts = report as Record<string, unknown>;
  return fields.every((field) => counts[field] === 0);
}
