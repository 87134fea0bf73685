/**
 * The claim lease, and what a sender does when its claim finds the message already in the
 * ledger: the one crash policy that dispatch, therapist alerts and summaries share.
 *
 * The lease is derived from the topology manifest, nowhere else: no live attempt holds a claim
 * longer than its function can run, so twice the function's timeout is the lease.
 *
 * 1. Sent, skipped or failed: a duplicate delivery; the first outcome stands.
 * 2. Claimed within the lease (no live attempt runs longer): an attempt is in flight; leave it be.
 *    A released entry seen here was given back an instant ago, so it counts as in flight too.
 * 3. Claimed longer ago than the lease: an attempt stopped somewhere between its claim and its
 *    record, possibly after SES accepted the email. Never resend blind (a duplicate reminder or
 *    summary is worse than an alarm): mark it failed "outcome unknown" for the outbox and alarms.
 *    If another attempt settles it first, its outcome stands.
 */
import { functionSpec, type FunctionName } from '../../config/manifest.js';
import { LedgerConflictError } from '../../domain/errors.js';
import type { Instant } from '../../domain/time.js';
import type { Ledger, LedgerEntry, LedgerStatus } from '../../ports/store.js';

/** Twice the function's timeout, from the manifest. */
export function claimLeaseMs(fn: FunctionName): number {
  return functionSpec(fn).timeoutSeconds * 2 * 1000;
}

/**
 * The lease of each sender's claims. A therapist alert is sent inline by the web function; it
 * shares dispatch's lease, the longest single-email attempt, so one lease covers every claim on a
 * single message (a longer lease only delays recording "outcome unknown"; a shorter one could
 * call a live attempt dead).
 */
export const CLAIM_LEASE_MS = {
  dispatch: claimLeaseMs('dispatch'),
  alert: Math.max(claimLeaseMs('dispatch'), claimLeaseMs('web')),
  summary: claimLeaseMs('summary'),
} as const;

export const OUTCOME_UNKNOWN = 'outcome unknown: an earlier attempt stopped between SES and the ledger';

export type HeldClaim = { readonly state: 'settled'; readonly status: LedgerStatus } | { readonly state: 'in-flight' } | { readonly state: 'outcome-unknown' };

export async function resolveHeldClaim(ledger: Pick<Ledger, 'markFailed' | 'get'>, existing: LedgerEntry, now: Instant, leaseMs: number): Promise<HeldClaim> {
  if (existing.status !== 'claimed' && existing.status !== 'released') return { state: 'settled', status: existing.status };
  const claimedAt = Date.parse(existing.claimedAt ?? existing.updatedAt);
  if (existing.status === 'released' || Date.parse(now) - claimedAt < leaseMs) return { state: 'in-flight' };
  try {
    await ledger.markFailed(existing.name, OUTCOME_UNKNOWN, now);
    return { state: 'outcome-unknown' };
  } catch (error) {
    if (!(error instanceof LedgerConflictError)) throw error;
    const settled = await ledger.get(existing.name);
    return settled && settled.status !== 'claimed' && settled.status !== 'released' ? { state: 'settled', status: settled.status } : { state: 'in-flight' };
  }
}
