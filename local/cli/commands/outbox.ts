/** `keepwell outbox`: what was sent, skipped and failed, from the ledger; with --stats, per kind. */
import { Option, type Command } from 'commander';
import type { LedgerEntry } from '../../../shared/ports/store.js';
import { parseSince, type CliContext } from '../context.js';
import { formatOutboxStats, outboxStats } from '../outbox-stats.js';

interface OutboxOptions {
  since: string;
  until?: string;
  status: string;
  stats?: boolean;
  json?: boolean;
}

function statusLabel(entry: LedgerEntry): string {
  return entry.status === 'claimed' || entry.status === 'released' ? 'pending' : entry.status;
}

/** One outbox line: times, outcome and opaque ids; never answers or notes (the ledger holds none). */
export function formatOutboxEntry(entry: LedgerEntry): string {
  const subject = [
    entry.clientId && `client ${entry.clientId}`,
    entry.sessionId && `session ${entry.sessionId}`,
    !entry.sessionId && entry.planId && `plan ${entry.planId}`,
    entry.therapistId && !entry.clientId && `therapist ${entry.therapistId}`,
  ]
    .filter(Boolean)
    .join(', ');
  const detail = entry.reason ? `  — ${entry.reason}` : entry.delivery ? `  — ${entry.delivery.event} ${entry.delivery.at}` : '';
  return `${entry.updatedAt.slice(0, 16).replace('T', ' ')}Z  ${statusLabel(entry).padEnd(7)}  ${entry.kind.padEnd(17)}  ${entry.name.padEnd(30)}  ${subject}${detail}`;
}

function printEntries(ctx: CliContext, entries: readonly LedgerEntry[], window: { since: string; until: string; label: string }, o: OutboxOptions): void {
  const { io } = ctx;
  const { since, until, label } = window;
  if (o.stats) {
    const stats = outboxStats(entries);
    if (o.json) io.out(JSON.stringify({ since, until, stats }, null, 2));
    else for (const line of [`outbox statistics of ${label}, ${since} – ${until}`, ...formatOutboxStats(stats)]) io.out(line);
    return;
  }
  if (o.json) {
    io.out(JSON.stringify({ since, until, entries }, null, 2));
    return;
  }
  const counts = ['sent', 'skipped', 'failed', 'pending'].map((s) => `${entries.filter((e) => statusLabel(e) === s).length} ${s}`).join(', ');
  io.out(`outbox of ${label}, ${since} – ${until}: ${counts}`);
  for (const entry of entries) io.out(formatOutboxEntry(entry));
}

export function addOutboxCommand(program: Command, ctx: CliContext): void {
  program
    .command('outbox')
    .description('what was sent, skipped and failed (with reasons), from the ledger')
    .option('--since <when>', 'a duration back from now (24h, 7d) or an instant', '24h')
    .option('--until <instant>', 'up to this instant (default: now)')
    .addOption(new Option('--status <status>', 'only entries with this outcome').choices(['sent', 'skipped', 'failed', 'pending', 'all']).default('all'))
    .option('--stats', 'per kind: sent, skipped and failed by reason, deferred, pending, and how late the sent ones went')
    .option('--json', 'print JSON instead of a table')
    .action(async function (this: Command, o: OutboxOptions) {
      await ctx.withTarget(this, async (target) => {
        const now = target.now();
        const since = parseSince(o.since, now);
        const until = o.until ? parseSince(o.until, now) : now.toISOString();
        const entries = (await target.store.listSince(since, until)).filter((e) => o.status === 'all' || statusLabel(e) === o.status);
        printEntries(ctx, entries, { since, until, label: target.label }, o);
      });
    });
}
