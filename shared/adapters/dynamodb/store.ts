/**
 * The ClinicStore, Ledger and TokenStore ports on one DynamoDB table (layout in
 * table-definition.ts), as one object for the handlers, the twin and the tests that want all
 * three. Each port is its own adapter on the shared table plumbing (table.ts): the clinic store
 * (clinic-store.ts, clinic-reader.ts), the ledger (ledger.ts), the token store (token-store.ts);
 * items are read and laid out by codecs.ts.
 */
import type { ClaimRequest, ClinicStore, Ledger, LedgerEntry, TokenStore } from '../../ports/store.js';
import { DynamoClinicStore } from './clinic-store.js';
import { DynamoLedger } from './ledger.js';
import { Table, type DynamoStoreOptions } from './table.js';
import { DynamoTokenStore } from './token-store.js';

export type { DynamoStoreOptions } from './table.js';

export class DynamoStore extends DynamoClinicStore implements ClinicStore, Ledger, TokenStore {
  private readonly ledger: DynamoLedger;
  private readonly tokens: DynamoTokenStore;

  constructor(options: DynamoStoreOptions) {
    const table = new Table(options);
    super(table);
    this.ledger = new DynamoLedger(table);
    this.tokens = new DynamoTokenStore(table);
  }

  // ---------------------------------------------------------------- Ledger (ledger.ts)

  claim(request: ClaimRequest) {
    return this.ledger.claim(request);
  }
  release(name: string) {
    return this.ledger.release(name);
  }
  markSent(name: string, sesMessageId: string, now: string) {
    return this.ledger.markSent(name, sesMessageId, now);
  }
  markSkipped(request: ClaimRequest, reason: string): Promise<LedgerEntry | undefined> {
    return this.ledger.markSkipped(request, reason);
  }
  clearSkip(name: string) {
    return this.ledger.clearSkip(name);
  }
  settleSkipped(name: string, reason: string, now: string, deferredTo?: string) {
    return this.ledger.settleSkipped(name, reason, now, deferredTo);
  }
  markFailed(name: string, reason: string, now: string) {
    return this.ledger.markFailed(name, reason, now);
  }
  recordDelivery(sesMessageId: string | undefined, name: string, event: string, at: string, detail?: string) {
    return this.ledger.recordDelivery(sesMessageId, name, event, at, detail);
  }
  get(name: string) {
    return this.ledger.get(name);
  }
  holdDayCap(clientId: string, localDate: string, name: string, expiresAt: string) {
    return this.ledger.holdDayCap(clientId, localDate, name, expiresAt);
  }
  listSince(since: string, until?: string) {
    return this.ledger.listSince(since, until);
  }

  // ---------------------------------------------------------------- TokenStore (token-store.ts)

  consume(tokenId: string, expiresAt: string, clientId?: string) {
    return this.tokens.consume(tokenId, expiresAt, clientId);
  }
  isConsumed(tokenId: string) {
    return this.tokens.isConsumed(tokenId);
  }
  takeActionSlot(clientId: string, window: string, limit: number, expiresAt: string) {
    return this.tokens.takeActionSlot(clientId, window, limit, expiresAt);
  }
}
