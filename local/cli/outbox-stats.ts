/**
 * `keepwell outbox --stats`: the delivery figures the dispatch metrics report in production
 * (shared/adapters/metrics), computed from the ledger instead — per kind, how many were sent,
 * skipped by reason, failed by reason, deferred and still pending, and how late the sent ones went
 * (send time minus the due time the ledger recorded). Reasons are the metrics' reason codes
 * (shared/domain/reason-code.ts), so the two views name them alike.
 */
import { MESSAGE_KINDS, type MessageKind } from '../../shared/domain/message.js';
import { reasonCode } from '../../shared/domain/reason-code.js';
import type { LedgerEntry } from '../../shared/ports/store.js';
import { latestByName } from '../simulation/outbox.js';

export interface Lateness {
  /** Sent entries with a due time. */
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

export interface KindStats {
  readonly sent: number;
  readonly skipped: Record<string, number>;
  readonly failed: Record<string, number>;
  /** Handed on to a later deferral schedule (quiet hours, the daily cap): not an outcome yet. */
  readonly deferred: number;
  /** Claimed or released: an attempt in flight or a retry waiting. */
  readonly pending: number;
  readonly lateness?: Lateness;
}

export type OutboxStats = Partial<Record<MessageKind, KindStats>>;

/** The value at quantile `q` of sorted `values` (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function outboxStats(entries: readonly LedgerEntry[]): OutboxStats {
  const stats: OutboxStats = {};
  const late = new Map<MessageKind, number[]>();
  for (const entry of latestByName(entries).values()) {
    const kind = entry.kind;
    stats[kind] ??= { sent: 0, skipped: {}, failed: {}, deferred: 0, pending: 0 };
    const current = stats[kind] as { -readonly [K in keyof KindStats]: KindStats[K] };
    switch (entry.status) {
      case 'sent': {
        current.sent += 1;
        const due = entry.dueAt ? Date.parse(entry.dueAt) : NaN;
        if (!Number.isNaN(due)) late.set(kind, [...(late.get(kind) ?? []), Math.max(0, Date.parse(entry.updatedAt) - due)]);
        break;
      }
      case 'skipped':
        if (entry.deferredTo) current.deferred += 1;
        else current.skipped[reasonCode(entry.reason)] = (current.skipped[reasonCode(entry.reason)] ?? 0) + 1;
        break;
      case 'failed':
        current.failed[reasonCode(entry.reason)] = (current.failed[reasonCode(entry.reason)] ?? 0) + 1;
        break;
      case 'claimed':
      case 'released':
        current.pending += 1;
        break;
    }
  }
  for (const [kind, values] of late) {
    const sorted = [...values].sort((a, b) => a - b);
    (stats[kind] as { lateness?: Lateness }).lateness = {
      count: sorted.length,
      p50Ms: quantile(sorted, 0.5),
      p95Ms: quantile(sorted, 0.95),
      maxMs: sorted.at(-1)!,
    };
  }
  return Object.fromEntries(MESSAGE_KINDS.filter((k) => stats[k]).map((k) => [k, stats[k]])) as OutboxStats;
}

/** 0 s, 45 s, 3 min, 2 h 5 min, 1 d 3 h: lateness at a glance. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

const byReason = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');

/** One block per kind: outcomes, reasons and lateness. */
export function formatOutboxStats(stats: OutboxStats): string[] {
  const lines: string[] = [];
  for (const [kind, s] of Object.entries(stats) as Array<[MessageKind, KindStats]>) {
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    lines.push(`${kind}: ${s.sent} sent, ${total(s.skipped)} skipped, ${total(s.failed)} failed, ${s.deferred} deferred, ${s.pending} pending`);
    if (total(s.skipped) > 0) lines.push(`  skipped: ${byReason(s.skipped)}`);
    if (total(s.failed) > 0) lines.push(`  failed: ${byReason(s.failed)}`);
    if (s.lateness)
      lines.push(
        `  lateness (send − due) over ${s.lateness.count}: median ${formatDuration(s.lateness.p50Ms)}, p95 ${formatDuration(s.lateness.p95Ms)}, max ${formatDuration(s.lateness.maxMs)}`,
      );
  }
  return lines.length > 0 ? lines : ['nothing in the ledger for this period'];
}
