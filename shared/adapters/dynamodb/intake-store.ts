/**
 * The IntakeStore port on the Keepwell table. Items (pk / sk):
 *   INTAKE#<source>#<deliveryId>   INTAKE    one delivery and what became of it; GSI1 by day (`INTAKE#<yyyy-mm-dd>`)
 *   BOOKING#<source>#<bookingId>   BOOKING   the source's booking → session, with the newest source version applied
 *   FEED#<source>                  FEED      an iCalendar feed's ETag / Last-Modified from its last poll
 * A delivery costs one BatchGetItem (delivery, booking links, email, therapist), one Query of the
 * client's partition when the client is known, and one TransactWriteItems.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { CommitResult, DeliveryRecord, FeedState, IntakeChange, IntakeLookup, IntakeState, IntakeStore } from '../../ports/intake.js';
import type { ClientBundle } from '../../ports/store.js';
import type { CapacityMeter } from './client.js';
import { keys } from './keys.js';
import { clientItemOf, decode, decodeIfAny, emailItemOf, planItemOf, refItemOf, sessionWrites } from './codecs.js';
import { DynamoClinicReader } from './clinic-reader.js';
import { Table } from './table.js';
import { INDEXES } from './table-definition.js';

type Item = Record<string, unknown>;
type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

export const intakeKeys = {
  delivery: (source: string, deliveryId: string) => ({ pk: `INTAKE#${source}#${deliveryId}`, sk: 'INTAKE' }),
  link: (source: string, bookingId: string) => ({ pk: `BOOKING#${source}#${bookingId}`, sk: 'BOOKING' }),
  deliveryDay: (utcDate: string) => `INTAKE#${utcDate}`,
  feed: (source: string) => ({ pk: `FEED#${source}`, sk: 'FEED' }),
};

export interface DynamoIntakeStoreOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  readonly meter?: CapacityMeter;
  readonly now?: () => Date;
}

export class DynamoIntakeStore implements IntakeStore {
  private readonly table: string;
  private readonly db: DynamoDBDocumentClient;
  private readonly meter: CapacityMeter | undefined;
  private readonly now: () => Date;
  private readonly store: DynamoClinicReader;

  constructor(options: DynamoIntakeStoreOptions) {
    this.table = options.tableName;
    this.db = options.client;
    this.meter = options.meter;
    this.now = options.now ?? (() => new Date());
    this.store = new DynamoClinicReader(new Table(options));
  }

  private async send<T>(operation: string, command: { input: object }): Promise<T> {
    const output = (await this.db.send(command as never)) as T;
    if (this.meter) {
      this.meter.requests += 1;
      this.meter.byOperation[operation] = (this.meter.byOperation[operation] ?? 0) + 1;
    }
    return output;
  }

  private deliveryItem(record: DeliveryRecord): Item {
    return {
      ...record,
      ...intakeKeys.delivery(record.source, record.deliveryId),
      type: 'intake-delivery',
      gsi1pk: intakeKeys.deliveryDay(record.at.slice(0, 10)),
      gsi1sk: `${record.at}#${record.source}#${record.deliveryId}`,
    };
  }

  async loadIntakeState(lookup: IntakeLookup): Promise<IntakeState> {
    const wanted = [
      intakeKeys.delivery(lookup.source, lookup.deliveryId),
      intakeKeys.link(lookup.source, lookup.bookingId),
      ...(lookup.previousBookingId ? [intakeKeys.link(lookup.source, lookup.previousBookingId)] : []),
      ...(lookup.email ? [keys.email(lookup.email), keys.erasedEmail(lookup.email)] : []),
      ...(lookup.therapistId ? [keys.therapist(lookup.therapistId)] : []),
    ];
    const found = new Map<string, Item>();
    let pending: Array<{ pk: string; sk: string }> = wanted;
    while (pending.length > 0) {
      const out = await this.send<{ Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Array<{ pk: string; sk: string }> }> }>(
        'BatchGetItem',
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[this.table] ?? []) found.set(`${String(item.pk)}|${String(item.sk)}`, item);
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    const get = (key: { pk: string; sk: string }) => found.get(`${key.pk}|${key.sk}`);
    const delivery = decodeIfAny(decode.delivery, get(intakeKeys.delivery(lookup.source, lookup.deliveryId)));
    const link = decodeIfAny(decode.bookingLink, get(intakeKeys.link(lookup.source, lookup.bookingId)));
    const previousLink = lookup.previousBookingId ? decodeIfAny(decode.bookingLink, get(intakeKeys.link(lookup.source, lookup.previousBookingId))) : undefined;
    const therapist = lookup.therapistId ? decodeIfAny(decode.therapist, get(keys.therapist(lookup.therapistId))) : undefined;
    const clientId =
      link?.clientId ?? previousLink?.clientId ?? (lookup.email ? decodeIfAny(decode.pointer, get(keys.email(lookup.email)))?.clientId : undefined);
    const bundle: ClientBundle | undefined = delivery || !clientId ? undefined : await this.store.getClientBundle(clientId, true);
    const erased = lookup.email !== undefined && get(keys.erasedEmail(lookup.email)) !== undefined;
    return {
      ...(erased ? { erased } : {}),
      ...(delivery ? { delivery } : {}),
      ...(link ? { link } : {}),
      ...(previousLink ? { previousLink } : {}),
      ...(bundle ? { bundle } : {}),
      ...(therapist ? { therapist } : {}),
    };
  }

  async commitIntake(change: IntakeChange): Promise<CommitResult> {
    const stamp = this.now().toISOString();
    const items: TransactItems = [
      { Put: { TableName: this.table, Item: this.deliveryItem(change.delivery), ConditionExpression: 'attribute_not_exists(pk)' } },
    ];
    for (const link of change.links) {
      items.push({
        Put: {
          TableName: this.table,
          Item: { ...link, ...intakeKeys.link(link.source, link.bookingId), type: 'booking-link', updatedAt: stamp },
          ConditionExpression: 'attribute_not_exists(pk) OR version < :v',
          ExpressionAttributeValues: { ':v': link.version },
        },
      });
    }
    if (change.newClient) {
      const client = change.newClient;
      items.push({
        Put: {
          TableName: this.table,
          Item: clientItemOf(client, stamp),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
      items.push({
        Put: {
          TableName: this.table,
          Item: emailItemOf(client),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
      // An erasure that lands between this delivery's read and its write: decided again, and ignored.
      items.push({ ConditionCheck: { TableName: this.table, Key: keys.erasedEmail(client.email), ConditionExpression: 'attribute_not_exists(pk)' } });
    }
    if (change.newPlan) {
      const plan = change.newPlan;
      items.push({
        Put: {
          TableName: this.table,
          Item: planItemOf(plan, stamp),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
      items.push({ Put: { TableName: this.table, Item: refItemOf(keys.planRef(plan.id), plan.clientId) } });
    }
    if (change.session) {
      const { value, expectedVersion, intakeVersion } = change.session;
      const plan = change.newPlan ?? change.bundle?.plans.find((p) => p.id === value.planId);
      const clientId = change.newPlan?.clientId ?? change.bundle?.client.id;
      if (!plan || !clientId) throw new Error(`intake: session ${value.id} refers to plan ${value.planId}, which the change does not hold`);
      const [session, ...renumbered] = sessionWrites(plan, clientId, change.bundle?.sessions ?? [], value, stamp);
      items.push({
        Put: {
          TableName: this.table,
          Item: { ...session, intakeVersion },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'version = :ev AND (attribute_not_exists(intakeVersion) OR intakeVersion < :iv)',
                ExpressionAttributeValues: { ':ev': expectedVersion, ':iv': intakeVersion },
              }),
        },
      });
      items.push({ Put: { TableName: this.table, Item: refItemOf(keys.sessionRef(value.id), clientId) } });
      for (const item of renumbered) items.push({ Put: { TableName: this.table, Item: item } });
    }
    if (items.length > 100)
      throw new Error(`intake: the change for booking ${change.delivery.bookingId ?? ''} needs ${items.length} writes, more than one transaction holds`);
    try {
      await this.send('TransactWriteItems', new TransactWriteCommand({ TransactItems: items }));
      return 'committed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')) return 'conflict';
      throw error;
    }
  }

  async recordIntakeDelivery(record: DeliveryRecord): Promise<boolean> {
    try {
      await this.send('PutItem', new PutCommand({ TableName: this.table, Item: this.deliveryItem(record), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async listDeliveries(from: string, to: string): Promise<DeliveryRecord[]> {
    const records: DeliveryRecord[] = [];
    for (let day = Date.parse(from.slice(0, 10)); day <= Date.parse(to); day += 86_400_000) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
          'Query',
          new QueryCommand({
            TableName: this.table,
            IndexName: INDEXES.byDay.indexName,
            KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': intakeKeys.deliveryDay(new Date(day).toISOString().slice(0, 10)), ':from': from, ':to': `${to}~` },
            ExclusiveStartKey: start,
          }),
        );
        records.push(...(page.Items ?? []).map(decode.delivery));
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return records;
  }

  async getFeedState(source: string): Promise<FeedState | undefined> {
    const out = await this.send<{ Item?: Item }>('GetItem', new GetCommand({ TableName: this.table, Key: intakeKeys.feed(source), ConsistentRead: true }));
    return decodeIfAny(decode.feed, out.Item);
  }

  async putFeedState(state: FeedState): Promise<void> {
    await this.send('PutItem', new PutCommand({ TableName: this.table, Item: { ...state, ...intakeKeys.feed(state.source), type: 'intake-feed' } }));
  }
}
