import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { startStreamPoller, type StreamPoller, type StreamPollerOptions } from '../../local/stream-poller.js';
import { watchTableWrites } from '../../local/table-writes.js';
import { createTestTable, type TestTable } from '../support/local-aws.js';

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

// biome-ignore lint/suspicious/noConfusingVoidType: a stream handler may return nothing, as Lambda's may
type Reply = DynamoDBBatchResponse | void;

/** A table, a poller on its stream, and every event the handler received. */
async function pollerOnNewTable(
  handle: (event: DynamoDBStreamEvent, call: number) => Promise<Reply> = async () => undefined,
  options: Partial<StreamPollerOptions> = {},
) {
  const table = await createTestTable();
  const events: DynamoDBStreamEvent[] = [];
  const poller = startStreamPoller({
    dynamoEndpoint: table.endpoint,
    tableName: table.tableName,
    polling: false,
    ...options,
    handler: async (event) => {
      events.push(structuredClone(event));
      return handle(event, events.length);
    },
  });
  pollers.push(poller);
  return { table, poller, events };
}

function put(table: TestTable, id: string, extra: Record<string, unknown> = {}) {
  return table.documentClient.send(new PutCommand({ TableName: table.tableName, Item: { pk: `ITEM#${id}`, sk: 'ITEM', type: 'probe', id, ...extra } }));
}

function idOf(record: DynamoDBRecord): string {
  return String(unmarshall((record.dynamodb?.NewImage ?? record.dynamodb?.OldImage) as Record<string, AttributeValue>).id);
}

const ids = (event: DynamoDBStreamEvent) => event.Records.map(idOf);

describe('the local stream poller', () => {
  it('hands the handler real stream records: keys, both images, sequence number, source ARN', async () => {
    const { table, poller, events } = await pollerOnNewTable();
    await put(table, 'a', { colour: 'red' });
    await table.documentClient.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: 'ITEM#a', sk: 'ITEM' },
        UpdateExpression: 'SET colour = :c',
        ExpressionAttributeValues: { ':c': 'blue' },
      }),
    );

    await poller.drain();

    const dynamo = new DynamoDBClient({ endpoint: table.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const streamArn = (await dynamo.send(new DescribeTableCommand({ TableName: table.tableName }))).Table?.LatestStreamArn;
    dynamo.destroy();
    const [insert, modify] = events.flatMap((e) => e.Records);
    expect(insert).toMatchObject({ eventName: 'INSERT', eventSource: 'aws:dynamodb', eventSourceARN: streamArn, awsRegion: LOCAL_REGION });
    expect(insert?.dynamodb).toMatchObject({ Keys: { pk: { S: 'ITEM#a' }, sk: { S: 'ITEM' } }, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(typeof insert?.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(insert?.dynamodb?.SizeBytes).toBeGreaterThan(0);
    expect(modify?.eventName).toBe('MODIFY');
    expect(unmarshall(modify?.dynamodb?.OldImage as Record<string, AttributeValue>).colour).toBe('red');
    expect(unmarshall(modify?.dynamodb?.NewImage as Record<string, AttributeValue>).colour).toBe('blue');
    expect(BigInt(modify?.dynamodb?.SequenceNumber ?? 0)).toBeGreaterThan(BigInt(insert?.dynamodb?.SequenceNumber ?? 0));
  });

  it('delivers records in order, in batches of at most batchSize', async () => {
    const { table, poller, events } = await pollerOnNewTable(async () => undefined, { batchSize: 2 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await put(table, id);

    await poller.drain();

    expect(events.map(ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('retries from the first record the handler reports as failed, not from the start of the batch', async () => {
    const failSecondOnce = async (event: DynamoDBStreamEvent, call: number): Promise<Reply> => {
      if (call > 1) return { batchItemFailures: [] };
      const second = event.Records[1]?.dynamodb?.SequenceNumber ?? '';
      return { batchItemFailures: [{ itemIdentifier: second }] };
    };
    const { table, poller, events } = await pollerOnNewTable(failSecondOnce);
    for (const id of ['a', 'b', 'c']) await put(table, id);

    await poller.drain();

    expect(events.map(ids)).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
    ]);
    expect(poller.stats).toMatchObject({ retries: 1, recordsCompleted: 3, recordsDropped: 0 });
  });

  it('retries a batch whose handler threw, then drops it into failures after its retries and moves on', async () => {
    const rejectPoison = async (event: DynamoDBStreamEvent): Promise<Reply> => {
      if (ids(event).includes('poison')) throw new Error('cannot handle this one');
    };
    const { table, poller, events } = await pollerOnNewTable(rejectPoison, { batchSize: 1, maxRetries: 2 });
    for (const id of ['a', 'poison', 'b']) await put(table, id);

    await poller.drain();

    expect(events.map(ids)).toEqual([['a'], ['poison'], ['poison'], ['poison'], ['b']]);
    expect(poller.failures).toHaveLength(1);
    expect(poller.failures[0]?.records.map(idOf)).toEqual(['poison']);
    expect(poller.failures[0]?.reason).toContain('cannot handle this one');
  });

  it('treats a reported identifier that names no record as a failure of the whole batch', async () => {
    const unknownOnce = async (_event: DynamoDBStreamEvent, call: number): Promise<Reply> =>
      call === 1 ? { batchItemFailures: [{ itemIdentifier: 'no-such-record' }] } : undefined;
    const { table, poller, events } = await pollerOnNewTable(unknownOnce);
    for (const id of ['a', 'b']) await put(table, id);

    await poller.drain();

    expect(events.map(ids)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('drains until quiet, including records written by the handler itself', async () => {
    let table: TestTable | undefined;
    const writeFollowUp = async (event: DynamoDBStreamEvent): Promise<Reply> => {
      for (const id of ids(event)) if (id === 'first' && table) await put(table, 'follow-up');
    };
    const started = await pollerOnNewTable(writeFollowUp);
    table = started.table;
    await put(table, 'first');

    await started.poller.drain();

    expect(started.events.flatMap(ids)).toEqual(['first', 'follow-up']);
  });

  it('keeps its shard iterators between drains, so a quiet drain costs one GetRecords per shard and no DescribeStream', async () => {
    const { table, poller } = await pollerOnNewTable();
    await put(table, 'a');
    await poller.drain();
    const before = { ...poller.stats };

    await poller.drain();

    expect(poller.stats.describeStreamCalls).toBe(before.describeStreamCalls);
    expect(poller.stats.getShardIteratorCalls).toBe(before.getShardIteratorCalls);
    expect(poller.stats.getRecordsCalls - before.getRecordsCalls).toBeGreaterThan(0);
    expect(poller.stats.getRecordsCalls - before.getRecordsCalls).toBeLessThanOrEqual(before.getShardIteratorCalls);
  });

  it('still sees records written between drains after skipping DescribeStream', async () => {
    const { table, poller, events } = await pollerOnNewTable();
    await put(table, 'a');
    await poller.drain();

    await put(table, 'b');
    await poller.drain();

    expect(events.flatMap(ids)).toEqual(['a', 'b']);
  });

  it("with the table's writes watched, reads nothing until a write completes, then delivers it", async () => {
    const table = await createTestTable();
    const writes = watchTableWrites(table.endpoint);
    try {
      const events: DynamoDBStreamEvent[] = [];
      const poller = startStreamPoller({
        dynamoEndpoint: table.endpoint,
        tableName: table.tableName,
        polling: false,
        writes,
        handler: async (event) => void events.push(structuredClone(event)),
      });
      pollers.push(poller);
      await put(table, 'a');
      await poller.drain();
      const afterFirst = { ...poller.stats };

      await poller.drain();
      await poller.drain();
      expect(poller.stats.getRecordsCalls).toBe(afterFirst.getRecordsCalls);
      expect(poller.stats.drainsSkipped - afterFirst.drainsSkipped).toBe(2);

      await put(table, 'b');
      await poller.drain();
      expect(poller.stats.getRecordsCalls).toBeGreaterThan(afterFirst.getRecordsCalls);
      expect(events.flatMap(ids)).toEqual(['a', 'b']);
    } finally {
      writes.stop();
    }
  });

  it('hands the handler only the records a filter pattern matches, in order, and checkpoints past the rest', async () => {
    const { table, poller, events } = await pollerOnNewTable(async () => undefined, {
      filters: [{ dynamodb: { NewImage: { type: { S: ['session'] } } } }, { dynamodb: { OldImage: { type: { S: ['session'] } } } }],
    });
    await put(table, 'ledger-1', { type: 'message' });
    await put(table, 's-1', { type: 'session' });
    await put(table, 'ledger-2', { type: 'message' });
    await put(table, 's-2', { type: 'session' });

    await poller.drain();
    await poller.drain();

    expect(events.map(ids)).toEqual([['s-1', 's-2']]);
    expect(poller.stats).toMatchObject({ recordsFiltered: 2, recordsCompleted: 2, invocations: 1 });
  });

  it('matches a filter on the old image, so a deleted item of a filtered type still reaches the handler', async () => {
    const { table, poller, events } = await pollerOnNewTable(async () => undefined, {
      filters: [{ dynamodb: { NewImage: { type: { S: ['session'] } } } }, { dynamodb: { OldImage: { type: { S: ['session'] } } } }],
    });
    await put(table, 's-1', { type: 'session' });
    await table.documentClient.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: 'ITEM#s-1', sk: 'ITEM' } }));

    await poller.drain();

    expect(events.flatMap((e) => e.Records.map((r) => r.eventName))).toEqual(['INSERT', 'REMOVE']);
  });

  it('refuses a filter pattern it cannot apply, naming where and why', async () => {
    const table = await createTestTable();
    const start = (filters: StreamPollerOptions['filters']) =>
      startStreamPoller({
        dynamoEndpoint: table.endpoint,
        tableName: table.tableName,
        polling: false,
        handler: async () => undefined,
        ...(filters ? { filters } : {}),
      });

    expect(() => start([{ dynamodb: { NewImage: { type: { S: [{ prefix: 'sess' }] } } } }] as unknown as StreamPollerOptions['filters'])).toThrow(
      /filters\[0\]\.dynamodb\.NewImage\.type\.S must list exact values.*prefix/,
    );
    expect(() => start([{}])).toThrow(/filters\[0\] must be a non-empty object/);
  });

  it('polls by itself on a timer when polling is on', async () => {
    const { table, events } = await pollerOnNewTable(async () => undefined, { polling: true, intervalMs: 20 });

    await put(table, 'a');

    await vi.waitFor(() => expect(events.flatMap(ids)).toEqual(['a']), { timeout: 10_000, interval: 20 });
  });
});
