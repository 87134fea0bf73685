/**
 * processStreamBatch: one client's records (one partition key) in stream order, different clients
 * at once, and Lambda's partial batch failure rule over the whole batch in stream order.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { processStreamBatch, STREAM_CONCURRENCY } from '../../shared/adapters/dynamodb/stream-change.js';
import { silentLog } from '../../shared/ports/log.js';

function record(sequenceNumber: string, pk: string): DynamoDBRecord {
  return { eventName: 'MODIFY', dynamodb: { SequenceNumber: sequenceNumber, Keys: { pk: { S: pk }, sk: { S: `SESSION#${sequenceNumber}` } } } };
}

const seq = (r: DynamoDBRecord) => r.dynamodb?.SequenceNumber ?? '';

describe('processStreamBatch', () => {
  it("handles one client's records one after another in stream order, and other clients' records meanwhile", async () => {
    const events: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const handle = async (r: DynamoDBRecord) => {
      events.push(`start ${seq(r)}`);
      // Client A's first record finishes once client B's record has been handled (or, handled one
      // after another, after a wait that lets the order below show it).
      if (seq(r) === '1') await Promise.race([firstHeld, new Promise((resolve) => setTimeout(resolve, 200))]);
      if (seq(r) === '3') releaseFirst();
      events.push(`end ${seq(r)}`);
    };

    const response = await processStreamBatch({ Records: [record('1', 'CLIENT#a'), record('2', 'CLIENT#a'), record('3', 'CLIENT#b')] }, handle, silentLog);

    expect(response.batchItemFailures).toEqual([]);
    expect(events).toEqual(['start 1', 'start 3', 'end 3', 'end 1', 'start 2', 'end 2']);
  });

  it('answers with the first failed record in stream order and every record after it, having handled them all', async () => {
    const handled: string[] = [];
    const handle = async (r: DynamoDBRecord) => {
      handled.push(seq(r));
      if (seq(r) === '3') throw new Error('throttled');
    };
    const records = [record('1', 'CLIENT#a'), record('2', 'CLIENT#b'), record('3', 'CLIENT#a'), record('4', 'CLIENT#b'), record('5', 'CLIENT#a')];

    const response = await processStreamBatch({ Records: records }, handle, silentLog);

    expect(response.batchItemFailures).toEqual(['3', '4', '5'].map((itemIdentifier) => ({ itemIdentifier })));
    expect([...handled].sort()).toEqual(['1', '2', '3', '4', '5']);
    // Client a's records kept their order around the failure.
    expect(handled.filter((s) => ['1', '3', '5'].includes(s))).toEqual(['1', '3', '5']);
  });

  it('answers from the first failure in stream order when it is in a later client than the first', async () => {
    const handle = async (r: DynamoDBRecord) => {
      if (seq(r) === '4') throw new Error('throttled');
    };
    const records = [record('1', 'CLIENT#a'), record('2', 'CLIENT#b'), record('3', 'CLIENT#a'), record('4', 'CLIENT#b'), record('5', 'CLIENT#a')];

    const response = await processStreamBatch({ Records: records }, handle, silentLog);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '4' }, { itemIdentifier: '5' }]);
  });

  it(`handles at most ${STREAM_CONCURRENCY} clients at once`, async () => {
    let inFlight = 0;
    let most = 0;
    const handle = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
    };
    const records = Array.from({ length: 30 }, (_, i) => record(String(i + 1), `CLIENT#c-${i % 20}`));

    const response = await processStreamBatch({ Records: records }, handle, silentLog);

    expect(response.batchItemFailures).toEqual([]);
    expect(most).toBe(STREAM_CONCURRENCY);
  });

  it('keeps records without a partition key in one group, in stream order', async () => {
    const handled: string[] = [];
    const handle = async (r: DynamoDBRecord) => {
      await new Promise((resolve) => setTimeout(resolve, seq(r) === '1' ? 10 : 0));
      handled.push(seq(r));
    };
    const keyless = (s: string): DynamoDBRecord => ({ eventName: 'INSERT', dynamodb: { SequenceNumber: s } });

    await processStreamBatch({ Records: [keyless('1'), keyless('2'), keyless('3')] }, handle, silentLog);

    expect(handled).toEqual(['1', '2', '3']);
  });
});
