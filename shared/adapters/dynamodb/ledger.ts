/**
 * The Ledger port on the table: one item per message identity (`MSG#<name>`), moved between the
 * states of shared/domain/ledger-states.ts by conditional writes. Each move's condition is made
 * from the states that move may start from, so the table enforces the same machine the in-memory
 * fake follows.
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { LEDGER_MOVES, type LedgerMove, type LedgerState } from '../../domain/ledger-states.js';
import { LedgerConflictError } from '../../domain/errors.js';
import type { ClaimRequest, ClaimResult, Ledger, LedgerEntry, LedgerStatus } from '../../ports/store.js';
import { decode, decodeIfAny, ledgerEntryFromImage } from './codecs.js';
import { keys } from './keys.js';
import { INDEXES } from './table-definition.js';
import { expiryAfter, isConditionFailure, OnTable, utcDate, utcDaysBetween, type Item } from './table.js';

/** Each state as a condition on the entry's item. */
const STATE_CONDITIONS: Record<LedgerState, string> = {
  absent: 'attribute_not_exists(pk)',
  claimed: '#status = :claimed',
  released: '#status = :released',
  sent: '#status = :sent',
  failed: '#status = :failed',
  skipped: '(#status = :skipped AND attribute_not_exists(deferredTo))',
  deferred: '(#status = :skipped AND attribute_exists(deferredTo))',
};

interface Condition {
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
}

/** The condition a move's write carries: the entry stands in one of the states the move may start from. */
function conditionOf(move: LedgerMove): Condition {
  const from: readonly LedgerState[] = LEDGER_MOVES[move].from;
  const statuses = [...new Set(from.flatMap((state): LedgerStatus[] => (state === 'absent' ? [] : [state === 'deferred' ? 'skipped' : state])))];
  return {
    ConditionExpression: from.map((state) => STATE_CONDITIONS[state]).join(' OR '),
    ...(statuses.length > 0
      ? { ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: Object.fromEntries(statuses.map((s) => [`:${s}`, s])) }
      : {}),
  };
}

/** The moves that settle an existing entry in place, each to the status LEDGER_MOVES gives it. */
type SettleMove = 'release' | 'markSent' | 'markFailed' | 'settleSkipped';

const CONDITIONS = Object.fromEntries(Object.keys(LEDGER_MOVES).map((move) => [move, conditionOf(move as LedgerMove)])) as Record<LedgerMove, Condition>;

export class DynamoLedger extends OnTable implements Ledger {
  /*
   * The outbox (listSince) is the ledger on GSI1 under `OUTBOX#<day>`. Every write to an item
   * carrying those keys also writes the index (projection ALL), so only the writes that settle an
   * entry carry them — sent, failed, skipped, and released (pending a retry) — and the claim
   * does not: a sent email then costs one index write, not two (claim 1 unit, record 2, instead
   * of 2 and 2). The price: a claim is listed once it settles, seconds later; one whose attempt
   * died shows when the retry after the lease marks it failed ("outcome unknown").
   */
  private outboxKeys(name: string, at: string): Item {
    return { gsi1pk: keys.outboxDay(utcDate(at)), gsi1sk: `${at}#${name}` };
  }

  private ledgerItem(request: ClaimRequest, status: LedgerStatus, extra: Item): Item {
    return {
      ...keys.message(request.name),
      type: 'message',
      name: request.name,
      kind: request.kind,
      clientId: request.clientId,
      planId: request.planId,
      sessionId: request.sessionId,
      therapistId: request.therapistId,
      dueAt: request.dueAt,
      status,
      updatedAt: request.now,
      ...expiryAfter(request.now, this.retention?.ledgerDays),
      ...extra,
    };
  }

  /** Puts a new entry over what `move` may take over; on a condition failure, the entry standing. */
  private async putOver(move: 'claim' | 'markSkipped', item: Item): Promise<LedgerEntry | undefined> {
    try {
      await this.send('PutItem', new PutCommand({ TableName: this.table, Item: item, ...CONDITIONS[move], ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = error.Item as Record<string, AttributeValue> | undefined;
      const standing = old ? ledgerEntryFromImage(old) : await this.get(String(item.name));
      if (standing) return standing;
      throw error;
    }
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    // No outbox keys: see outboxKeys. Replacing a released or skipped entry drops its listing.
    const existing = await this.putOver('claim', this.ledgerItem(request, 'claimed', { claimedAt: request.now, attempts: 1 }));
    return existing ? { claimed: false, existing } : { claimed: true };
  }

  async markSkipped(request: ClaimRequest, reason: string): Promise<LedgerEntry | undefined> {
    const item = this.ledgerItem(request, 'skipped', { reason: reason.slice(0, 500), attempts: 0, ...this.outboxKeys(request.name, request.now) });
    try {
      return await this.putOver('markSkipped', item);
    } catch (error) {
      // The entry went between the refused write and the read that looked for it: nothing stands.
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async release(name: string): Promise<void> {
    await this.settle('release', name, {}, this.stamp()).catch((error) => {
      // Settled by someone else meanwhile: there is no claim left to give back.
      if (!isConditionFailure(error)) throw error;
    });
  }

  /** Moves the entry by `move`: the status it leads to, the move's fields, the update time and the outbox keys (see outboxKeys). */
  private async settle(move: SettleMove, name: string, fields: Item, now: string): Promise<void> {
    const condition = CONDITIONS[move];
    const names: Record<string, string> = { ...condition.ExpressionAttributeNames };
    const values: Item = { ...condition.ExpressionAttributeValues };
    const sets: string[] = [];
    for (const [field, value] of Object.entries({ status: LEDGER_MOVES[move].to, ...fields, updatedAt: now, ...this.outboxKeys(name, now) })) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    await this.send(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table,
        Key: keys.message(name),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** A settle of a held claim: a condition failure means another attempt settled it. */
  private async settleHeld(move: Exclude<SettleMove, 'release'>, name: string, fields: Item, now: string): Promise<void> {
    try {
      await this.settle(move, name, fields, now);
    } catch (error) {
      if (isConditionFailure(error)) throw new LedgerConflictError(name, LEDGER_MOVES[move].to, { cause: error });
      throw error;
    }
  }

  async markSent(name: string, sesMessageId: string, now: string): Promise<void> {
    await this.settleHeld('markSent', name, { sesMessageId }, now);
  }

  async markFailed(name: string, reason: string, now: string): Promise<void> {
    await this.settleHeld('markFailed', name, { reason: reason.slice(0, 500) }, now);
  }

  async settleSkipped(name: string, reason: string, now: string, deferredTo?: string): Promise<void> {
    await this.settleHeld('settleSkipped', name, { reason: reason.slice(0, 500), ...(deferredTo ? { deferredTo } : {}) }, now);
  }

  async clearSkip(name: string): Promise<void> {
    try {
      await this.send('DeleteItem', new DeleteCommand({ TableName: this.table, Key: keys.message(name), ...CONDITIONS.clearSkip }));
    } catch (error) {
      // Not a plain skip (or no entry): whatever stands there stays.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async recordDelivery(sesMessageId: string | undefined, name: string, event: string, at: string, detail?: string): Promise<void> {
    try {
      await this.send(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.message(name),
          UpdateExpression: 'SET delivery = :d',
          ConditionExpression: sesMessageId ? 'attribute_exists(pk) AND sesMessageId = :id' : 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':d': { event, at, ...(detail ? { detail: detail.slice(0, 300) } : {}) },
            ...(sesMessageId ? { ':id': sesMessageId } : {}),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async get(name: string): Promise<LedgerEntry | undefined> {
    return decodeIfAny(decode.ledgerEntry, await this.db.getItem(keys.message(name), true));
  }

  async holdDayCap(clientId: string, localDate: string, name: string, expiresAt: string): Promise<boolean> {
    try {
      await this.send(
        'PutItem',
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.dayCap(clientId, localDate), type: 'daycap', holder: name, expiresAt: Math.floor(Date.parse(expiresAt) / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR holder = :name',
          ExpressionAttributeValues: { ':name': name },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listSince(since: string, until: string = this.stamp()): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    for (const day of utcDaysBetween(since, until)) {
      const items = await this.db.queryAll({
        IndexName: INDEXES.byDay.indexName,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.outboxDay(day), ':from': since, ':to': `${until}~` },
      });
      entries.push(...items.map(decode.ledgerEntry));
    }
    return entries;
  }
}
