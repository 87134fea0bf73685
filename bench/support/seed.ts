/**
 * Fast bulk loading for the benchmarks: items written straight in the store's key layout with
 * BatchWriteItem, 25 a request, several requests in flight, unprocessed items retried with backoff.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

async function writeBatch(db: DynamoDBDocumentClient, table: string, items: Item[]): Promise<void> {
  let pending = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
    if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
  }
}

/** Writes `itemsFor(n)` for every n in [from, to). */
export async function bulkLoad(
  db: DynamoDBDocumentClient,
  table: string,
  from: number,
  to: number,
  itemsFor: (n: number) => Item[],
  parallel = 8,
): Promise<void> {
  const queued: Item[] = [];
  let n = from;
  let next = 0;
  const take = (): Item[] | undefined => {
    while (queued.length - next < 25 && n < to) queued.push(...itemsFor(n++));
    if (next >= queued.length) return undefined;
    const batch = queued.slice(next, next + 25);
    next += batch.length;
    return batch;
  };
  const worker = async () => {
    for (let batch = take(); batch; batch = take()) await writeBatch(db, table, batch);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
