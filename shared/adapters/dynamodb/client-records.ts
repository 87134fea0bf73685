/**
 * ClientRecords on the table. Finding everything that names a client takes one query of their
 * partition and one filtered Scan of the table (ledger entries, references, booking links, intake
 * deliveries and consumed link tokens carry the client id but live under their own keys): a Scan
 * reads the whole table, which is right for an erasure or a subject-access request — rare, done
 * by an operator, and required to be complete — and is why no function's role may Scan.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { normalizeEmail } from '../../domain/email-address.js';
import type { ClientItem, ClientRecords, Tombstone } from '../../ports/erasure.js';
import { KEY_ATTRIBUTES, keys } from './keys.js';
import { storedInstant } from '../../domain/time.js';

type Item = Record<string, unknown>;

function toClientItem(item: Item): ClientItem {
  const attributes: Item = { ...item };
  for (const key of KEY_ATTRIBUTES) delete attributes[key];
  return { key: { pk: String(item.pk), sk: String(item.sk) }, type: String(item.type ?? 'unknown'), attributes };
}

export class DynamoClientRecords implements ClientRecords {
  constructor(private readonly options: { readonly tableName: string; readonly client: DynamoDBDocumentClient }) {}

  private get table(): string {
    return this.options.tableName;
  }

  async itemsOf(clientId: string): Promise<ClientItem[]> {
    const found = new Map<string, Item>();
    const add = (item: Item) => found.set(`${String(item.pk)}|${String(item.sk)}`, item);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.clientPartition(clientId) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) add(item);
      start = page.LastEvaluatedKey;
    } while (start);
    const email = [...found.values()].find((i) => i.type === 'client')?.email;
    if (typeof email === 'string') {
      const lookup = await this.options.client.send(new GetCommand({ TableName: this.table, Key: keys.email(email), ConsistentRead: true }));
      // The lookup is the client's only while it names them (one address is one client).
      if (lookup.Item?.clientId === clientId) add(lookup.Item);
    }
    do {
      const page: { Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> } = await this.options.client.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'clientId = :c',
          ExpressionAttributeValues: { ':c': clientId },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) add(item);
      start = page.LastEvaluatedKey;
    } while (start);
    return [...found.values()].filter((item) => !String(item.pk).startsWith('ERASED#')).map(toClientItem);
  }

  async tombstoneOf(clientId: string): Promise<Tombstone | undefined> {
    const out = await this.options.client.send(new GetCommand({ TableName: this.table, Key: keys.erased(clientId), ConsistentRead: true }));
    return out.Item ? { clientId: String(out.Item.clientId), erasedAt: storedInstant(String(out.Item.erasedAt)) } : undefined;
  }

  async tombstonesFor(clientIds: readonly string[], emails: readonly string[]): Promise<{ byId: Map<string, Tombstone>; byEmail: Map<string, Tombstone> }> {
    const byId = new Map<string, Tombstone>();
    const byEmail = new Map<string, Tombstone>();
    const wanted = new Map<string, { kind: 'id' | 'email'; value: string }>();
    for (const id of clientIds) wanted.set(keys.erased(id).pk, { kind: 'id', value: id });
    for (const email of emails) wanted.set(keys.erasedEmail(email).pk, { kind: 'email', value: normalizeEmail(email) });
    const pks = [...wanted.keys()];
    for (let i = 0; i < pks.length; i += 100) {
      let pending: Array<{ pk: string; sk: string }> = pks.slice(i, i + 100).map((pk) => ({ pk, sk: 'ERASED' }));
      while (pending.length > 0) {
        const out = await this.options.client.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of out.Responses?.[this.table] ?? []) {
          const what = wanted.get(String(item.pk));
          const tombstone = { clientId: String(item.clientId), erasedAt: storedInstant(String(item.erasedAt)) };
          if (what?.kind === 'id') byId.set(what.value, tombstone);
          if (what?.kind === 'email') byEmail.set(what.value, tombstone);
        }
        pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Array<{ pk: string; sk: string }>;
      }
    }
    return { byId, byEmail };
  }

  async markErased(clientId: string, email: string | undefined, at: string): Promise<void> {
    const tombstones = [keys.erased(clientId), ...(email ? [keys.erasedEmail(email)] : [])];
    for (const key of tombstones) {
      // A repeated erase keeps the first date; the tombstone holds the id and the date, nothing else.
      await this.options.client
        .send(
          new PutCommand({ TableName: this.table, Item: { ...key, type: 'erased', clientId, erasedAt: at }, ConditionExpression: 'attribute_not_exists(pk)' }),
        )
        .catch((error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
    }
  }

  async remove(items: readonly ClientItem[]): Promise<void> {
    // The first item (the erasure puts the client's own item there) goes alone: once it is gone,
    // the stream's view of every other deletion finds no client and schedules nothing.
    const [first, ...rest] = items;
    if (first) await this.options.client.send(new DeleteCommand({ TableName: this.table, Key: first.key }));
    for (let i = 0; i < rest.length; i += 25) {
      let pending = rest.slice(i, i + 25).map((item) => ({ DeleteRequest: { Key: item.key } }));
      while (pending.length > 0) {
        const out = await this.options.client.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as typeof pending;
      }
    }
  }
}
