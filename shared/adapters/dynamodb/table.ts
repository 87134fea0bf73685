/**
 * The plumbing every port on the Keepwell table shares: one metered path for every command, paged
 * queries, reads by key, transactions, the bookkeeping clock and the TTL of what is written, and
 * the helpers that tell a failed condition from any other error.
 */
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { Retention } from '../../domain/model.js';
import type { CapacityMeter } from './client.js';

export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };
export type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

export interface DynamoStoreOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  /** Counts requests and consumed capacity; tests and benchmarks read it. */
  readonly meter?: CapacityMeter;
  /** Clock for bookkeeping timestamps. */
  readonly now?: () => Date;
  /** How long check-ins, requests and ledger entries are kept (TTL); absent: no expiry. */
  readonly retention?: Retention;
}

export const utcDate = (instant: string) => instant.slice(0, 10);
export const utcMonth = (instant: string) => instant.slice(0, 7);

/** Every UTC day (yyyy-mm-dd) from `from`'s to `to`'s, both included: the day partitions a range spans. */
export function utcDaysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = Date.parse(utcDate(from)); day <= Date.parse(to); day += 86_400_000) days.push(new Date(day).toISOString().slice(0, 10));
  return days;
}

export function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return error instanceof ConditionalCheckFailedException;
}

export function transactionConditionFailed(error: unknown): boolean {
  return error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

/** The positions of a cancelled transaction's items whose condition failed; undefined for any other error. */
export function conditionFailuresOf(error: unknown): Set<number> | undefined {
  if (!transactionConditionFailed(error)) return undefined;
  const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
  return new Set(reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : [])));
}

/** The TTL attribute (epoch seconds) of an item kept `days` from `from`; nothing without a retention. */
export function expiryAfter(from: string, days: number | undefined): { expiresAt?: number } {
  return days === undefined ? {} : { expiresAt: Math.floor(Date.parse(from) / 1000) + days * 86_400 };
}

type ConsumedCapacity = { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number };

/** One table, as the ports see it: its name, its client, its meter, its clock and its retention. */
export class Table {
  readonly name: string;
  readonly retention: Retention | undefined;
  private readonly db: DynamoDBDocumentClient;
  private readonly meter: CapacityMeter | undefined;
  private readonly now: () => Date;

  constructor(options: DynamoStoreOptions) {
    this.name = options.tableName;
    this.db = options.client;
    this.meter = options.meter;
    this.now = options.now ?? (() => new Date());
    this.retention = options.retention;
  }

  /** The bookkeeping time of a write (updatedAt), from the store's clock. */
  stamp(): string {
    return this.now().toISOString();
  }

  async send<T>(operation: string, command: { input: object }): Promise<T> {
    (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
    // One generic path for every command keeps metering in one place.
    const output = (await this.db.send(command as never)) as unknown as T & {
      ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
      Items?: unknown[];
      Item?: unknown;
      Responses?: Record<string, unknown[]>;
    };
    if (this.meter) {
      this.meter.requests += 1;
      this.meter.byOperation[operation] = (this.meter.byOperation[operation] ?? 0) + 1;
      const consumed = output.ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const isRead = /Get|Query/.test(operation);
        const units = c.CapacityUnits ?? (isRead ? c.ReadCapacityUnits : c.WriteCapacityUnits) ?? 0;
        if (isRead) this.meter.readUnits += units;
        else this.meter.writeUnits += units;
      }
      const responses = output.Responses ? Object.values(output.Responses).flat().length : 0;
      this.meter.itemsRead += (output.Items?.length ?? 0) + (output.Item ? 1 : 0) + responses;
    }
    return output;
  }

  async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
        'Query',
        new QueryCommand({ TableName: this.name, ...input, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async getItem(key: Key, consistent = false): Promise<Item | undefined> {
    const out = await this.send<{ Item?: Item }>('GetItem', new GetCommand({ TableName: this.name, Key: key, ConsistentRead: consistent }));
    return out.Item;
  }

  /** The items found under `keys`, in no particular order (at most 100 keys). */
  async batchGet(keys: readonly Key[]): Promise<Item[]> {
    let pending: Key[] = [...keys];
    const found: Item[] = [];
    // BatchGet may hand back unprocessed keys under throttling; ask again for just those.
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await this.send<{ Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Key[] }> }>(
        'BatchGetItem',
        new BatchGetCommand({ RequestItems: { [this.name]: { Keys: pending } } }),
      );
      found.push(...(out.Responses?.[this.name] ?? []));
      pending = out.UnprocessedKeys?.[this.name]?.Keys ?? [];
      if (pending.length && attempt >= 5) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after retries`);
      if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    return found;
  }

  async transact(items: TransactItems): Promise<void> {
    await this.send('TransactWriteItems', new TransactWriteCommand({ TransactItems: items }));
  }
}

/** A port on the table: its commands name `this.table` and go through `this.send`, metered. */
export abstract class OnTable {
  constructor(protected readonly db: Table) {}

  protected get table(): string {
    return this.db.name;
  }

  protected get retention(): Retention | undefined {
    return this.db.retention;
  }

  protected send<T>(operation: string, command: { input: object }): Promise<T> {
    return this.db.send<T>(operation, command);
  }

  protected stamp(): string {
    return this.db.stamp();
  }
}
