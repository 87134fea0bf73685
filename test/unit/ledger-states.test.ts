/** The ledger's state machine as data: which move may start from where an entry stands. */
import { describe, expect, it } from 'vitest';
import { LEDGER_MOVES, ledgerStateOf, mayMove, type LedgerMove, type LedgerState } from '../../shared/domain/ledger-states.js';

const ENTRIES: Record<LedgerState, { status: 'claimed' | 'released' | 'sent' | 'skipped' | 'failed'; deferredTo?: string } | undefined> = {
  absent: undefined,
  claimed: { status: 'claimed' },
  released: { status: 'released' },
  sent: { status: 'sent' },
  failed: { status: 'failed' },
  skipped: { status: 'skipped' },
  deferred: { status: 'skipped', deferredTo: '2030-06-02T09:00:00.000Z' },
};

/** Each move, with every state it may start from, written out. */
const ALLOWED: Record<LedgerMove, LedgerState[]> = {
  claim: ['absent', 'released', 'skipped'],
  markSkipped: ['absent', 'released', 'skipped'],
  release: ['claimed'],
  markSent: ['claimed'],
  settleSkipped: ['claimed'],
  markFailed: ['claimed', 'released'],
  clearSkip: ['skipped'],
};

describe('the ledger states', () => {
  it('tell a deferral and a missing entry from the other states', () => {
    expect(Object.entries(ENTRIES).map(([state, entry]) => [state, ledgerStateOf(entry)])).toEqual(Object.keys(ENTRIES).map((s) => [s, s]));
  });

  it('let each move start only from its states, so the first terminal outcome stands', () => {
    for (const move of Object.keys(LEDGER_MOVES) as LedgerMove[]) {
      const from = (Object.keys(ENTRIES) as LedgerState[]).filter((state) => mayMove(move, ENTRIES[state]));
      expect(from, move).toEqual(ALLOWED[move]);
    }
  });

  it('never take over a send, a failure or a deferral', () => {
    const moves = (Object.keys(LEDGER_MOVES) as LedgerMove[]).filter((move) =>
      ['sent', 'failed', 'deferred'].some((s) => mayMove(move, ENTRIES[s as LedgerState])),
    );

    expect(moves).toEqual([]);
  });
});
