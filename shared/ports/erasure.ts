/**
 * What erasure and export need of the table: every item that belongs to or names one client, the
 * tombstones that keep an erased client from coming back, and deletion. Only the operator CLI uses
 * it (`keepwell client erase | export`), with the operator's credentials.
 */
import type { Instant } from '../domain/time.js';

/** One stored item: its key, its `type`, and its attributes (index keys removed). */
export interface ClientItem {
  readonly key: { readonly pk: string; readonly sk: string };
  readonly type: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface Tombstone {
  readonly clientId: string;
  readonly erasedAt: Instant;
}

export interface ClientRecords {
  /** Every item of the client's partition, their address lookup, and every item anywhere that names the client id. */
  itemsOf(clientId: string): Promise<ClientItem[]>;
  /** The tombstone of an erased client id, if any. */
  tombstoneOf(clientId: string): Promise<Tombstone | undefined>;
  /** Tombstones by client id and by address, for an import to refuse erased clients. */
  tombstonesFor(
    clientIds: readonly string[],
    emails: readonly string[],
  ): Promise<{ readonly byId: ReadonlyMap<string, Tombstone>; readonly byEmail: ReadonlyMap<string, Tombstone> }>;
  /** Writes the tombstones (by id, and by the address's digest when known); kept on a repeat. */
  markErased(clientId: string, email: string | undefined, at: Instant): Promise<void>;
  /** Deletes the items: the first on its own, then the rest. */
  remove(items: readonly ClientItem[]): Promise<void>;
}
