/**
 * The message ledger's state machine, as data: the states an entry can be in and, for each move
 * the Ledger port makes, the states it may start from. The DynamoDB ledger turns each move's
 * `from` into its write's condition (shared/adapters/dynamodb/ledger.ts) and the in-memory fake
 * (test/support/memory-store.ts) checks it directly, so the two cannot drift.
 *
 * `claimed` → `sent` | `failed` | `skipped` (by the claim holder, a deferral included);
 * `claimed` → `released` (retryable error, free for the next attempt); a `skipped` decided before
 * any claim is written directly. The first terminal state stands: a send, a failure and a
 * deferral (its `-d1` copy owns the send) are never taken over.
 */

/** `released`: a claim given back after a retryable error, free for the next attempt. */
export const LEDGER_STATUSES = ['claimed', 'released', 'sent', 'skipped', 'failed'] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/**
 * Where an entry stands, as the rules see it: its status, with two more cases the status alone
 * does not tell — `absent` (no entry at all) and `deferred` (a skip whose `deferredTo` hands the
 * send on to a deferral schedule; final, unlike a plain skip).
 */
export type LedgerState = 'absent' | 'deferred' | LedgerStatus;

/** The ledger port's moves, each with the states it may start from and the status it leaves. */
export const LEDGER_MOVES = {
  /** A claim over nothing, a released claim or a plain skip: the skip sent nothing, and its cause may have passed. */
  claim: { from: ['absent', 'released', 'skipped'], to: 'claimed' },
  /** A skip decided without a claim replaces only what a claim could take. */
  markSkipped: { from: ['absent', 'released', 'skipped'], to: 'skipped' },
  /** A held claim given back after a retryable error. */
  release: { from: ['claimed'], to: 'released' },
  markSent: { from: ['claimed'], to: 'sent' },
  /** The claim holder's skip, a deferral included. */
  settleSkipped: { from: ['claimed'], to: 'skipped' },
  /** A released claim may still be failed: its retries ran out. */
  markFailed: { from: ['claimed', 'released'], to: 'failed' },
  /** A plain skip a change has lifted is removed: the message is pending again. */
  clearSkip: { from: ['skipped'], to: 'absent' },
} as const satisfies Record<string, { readonly from: readonly LedgerState[]; readonly to: LedgerState }>;

export type LedgerMove = keyof typeof LEDGER_MOVES;

/** The state of a stored entry (or of none). */
export function ledgerStateOf(entry: { readonly status: LedgerStatus; readonly deferredTo?: string } | undefined): LedgerState {
  if (!entry) return 'absent';
  return entry.status === 'skipped' && entry.deferredTo !== undefined ? 'deferred' : entry.status;
}

/** Whether `move` may start from where `entry` stands. */
export function mayMove(move: LedgerMove, entry: { readonly status: LedgerStatus; readonly deferredTo?: string } | undefined): boolean {
  return (LEDGER_MOVES[move].from as readonly LedgerState[]).includes(ledgerStateOf(entry));
}
