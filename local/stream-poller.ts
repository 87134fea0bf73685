/**
 * The local twin's event source mapping: reads DynamoDB Local's table stream and hands the records
 * to a stream handler (sync-schedules) as real `DynamoDBStreamEvent`s, with Lambda's semantics:
 *
 * - records arrive in order per shard, in batches of up to `batchSize`, parent shards before children;
 * - a response with `batchItemFailures` checkpoints before the first failed record and retries from
 *   it; a thrown error retries the whole batch;
 * - after `maxRetries` retries the failing records are dropped into `failures`, as an on-failure
 *   destination would receive them, and the shard moves on;
 * - with `filters` (Lambda's event filtering), a record no pattern matches is checkpointed without
 *   invoking the handler, so the handler's batches hold only records it acts on.
 *
 * Round trips are kept few because a virtual-clock run drains after every firing round: shard
 * iterators are kept across drains, and the stream is described again only when it can have
 * changed shape (no shard known yet, or a shard has closed and its child is not known yet).
 *
 * With a real or accelerated clock it polls on a timer; with a virtual clock nothing moves until
 * `drain()` (the local Scheduler's `settle` hook), which keeps going until the stream is quiet,
 * including the records the handler's own writes produce. Given `writes` (every writer to the table
 * is in this process), a drain reads the stream only when a write has completed since the stream
 * was last found quiet: an idle simulated day then makes no stream requests at all.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record as StreamsRecord,
  type AttributeValue as StreamsAttributeValue,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './services.js';
import type { TableWrites } from './table-writes.js';

// biome-ignore lint/suspicious/noConfusingVoidType: a stream handler may return nothing, as Lambda's may
export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly handler: StreamHandler;
  /** Records per invocation at most. @default 100 */
  readonly batchSize?: number;
  /** Real time between polls when polling on a timer. @default 200 */
  readonly intervalMs?: number;
  /** Poll on a timer (real and accelerated clocks); false leaves it to `drain()`. @default true */
  readonly polling?: boolean;
  /** Retries of a failing batch before its failing records are dropped into `failures`. @default 3 */
  readonly maxRetries?: number;
  /** Region reported in the records. @default LOCAL_REGION */
  readonly region?: string;
  /**
   * Lambda event filter patterns (FilterCriteria): a record is delivered when any pattern matches
   * it. Supported: nested objects and arrays of exact values, e.g.
   * `{ dynamodb: { NewImage: { type: { S: ['session'] } } } }`. @default every record is delivered
   */
  readonly filters?: readonly StreamFilterPattern[];
  /**
   * This process's writes to the table, when no other process writes to it: `drain()` then skips
   * reading the stream while no write has completed since it last found the stream quiet.
   */
  readonly writes?: TableWrites;
  /** Sees every record read from the stream, filtered or not, in stream order (the twin's own bookkeeping). */
  readonly onRecord?: (record: DynamoDBRecord) => void;
}

/** A Lambda filter pattern: object keys descend into the record; an array lists the values accepted. */
export interface StreamFilterPattern {
  readonly [field: string]: StreamFilterPattern | readonly FilterValue[];
}
type FilterValue = string | number | boolean | null;

/** Records given up on after their retries, like an on-failure destination's message. */
export interface FailedBatch {
  readonly shardId: string;
  readonly records: readonly DynamoDBRecord[];
  /** The thrown error's message, or which records the handler reported as failed. */
  readonly reason: string;
  readonly attempts: number;
}

export interface StreamPollerStats {
  /** Handler invocations. */
  invocations: number;
  /** Records handed to the handler, retries included. */
  recordsDelivered: number;
  /** Records checkpointed as done. */
  recordsCompleted: number;
  retries: number;
  /** Records dropped into `failures`. */
  recordsDropped: number;
  /** Records no filter pattern matched, checkpointed without an invocation. */
  recordsFiltered: number;
  /** Drains that read nothing because no write had completed since the stream was last quiet. */
  drainsSkipped: number;
  /** Calls to the streams API, by operation. */
  describeStreamCalls: number;
  getShardIteratorCalls: number;
  getRecordsCalls: number;
}

export interface StreamPoller {
  /** Processes everything in the stream now, and what that processing writes, until the stream is quiet. */
  drain(): Promise<void>;
  stop(): Promise<void>;
  readonly stats: Readonly<StreamPollerStats>;
  readonly failures: readonly FailedBatch[];
}

interface ShardState {
  readonly id: string;
  readonly parentId: string | undefined;
  iterator: string | undefined;
  /** The last sequence number checkpointed; where a fresh iterator resumes. */
  checkpoint: string | undefined;
  /** Fetched, not yet checkpointed. */
  pending: DynamoDBRecord[];
  attempts: number;
  /** The shard is closed and everything in it has been read. */
  ended: boolean;
}

const DEFAULT_BATCH_SIZE = 100;
const DEFAULT_INTERVAL_MS = 200;
const DEFAULT_MAX_RETRIES = 3;
/** The longest wait between polls while the stream cannot be read. */
const MAX_BACKOFF_MS = 10_000;
/** A handler that writes on every record it handles would never let the stream go quiet. */
const MAX_DRAIN_ROUNDS = 10_000;
/** How long a drain keeps reading a stream that does not answer before it fails (a restart on a busy machine). */
const DRAIN_OUTAGE_MS = 300_000;

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000)
    throw new RangeError(`batchSize must be a whole number from 1 to 1000, got ${batchSize}`);
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const filters = options.filters;
  for (const [i, pattern] of (filters ?? []).entries()) validatePattern(pattern, `filters[${i}]`);
  const region = options.region ?? LOCAL_REGION;
  const config = { endpoint: options.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);

  const stats: StreamPollerStats = {
    invocations: 0,
    recordsDelivered: 0,
    recordsCompleted: 0,
    retries: 0,
    recordsDropped: 0,
    recordsFiltered: 0,
    drainsSkipped: 0,
    describeStreamCalls: 0,
    getShardIteratorCalls: 0,
    getRecordsCalls: 0,
  };
  const failures: FailedBatch[] = [];
  const shards = new Map<string, ShardState>();
  let streamArn: string | undefined;
  let stopped = false;
  /** How many writes had completed when a drain last found the stream quiet (with `writes`). */
  let quietAfterWrites: number | undefined;

  // One round at a time: the timer and drain() never read the same shard concurrently.
  let queue: Promise<unknown> = Promise.resolve();
  let busy = false;
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      busy = true;
      try {
        return await work();
      } finally {
        busy = false;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  /** New shards appear only when the stream is new or a shard closes (its child takes over). */
  function shapeMayHaveChanged(): boolean {
    if (shards.size === 0 || redescribe) return true;
    const parents = new Set([...shards.values()].map((shard) => shard.parentId));
    return [...shards.values()].some((shard) => shard.ended && !parents.has(shard.id));
  }

  async function describeShards(): Promise<void> {
    if (!shapeMayHaveChanged()) return;
    if (!streamArn) {
      const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
      streamArn = table.Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${options.tableName} has no stream: enable NEW_AND_OLD_IMAGES`);
    }
    let start: string | undefined;
    const listed = new Set<string>();
    do {
      stats.describeStreamCalls++;
      const out = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      for (const shard of out.StreamDescription?.Shards ?? []) {
        addShard(shard);
        if (shard.ShardId) listed.add(shard.ShardId);
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    if (redescribe) {
      for (const [id, shard] of shards) if (!listed.has(id) && shard.pending.length === 0) shards.delete(id);
      redescribe = false;
    }
  }

  function addShard(shard: Shard): void {
    if (!shard.ShardId || shards.has(shard.ShardId)) return;
    shards.set(shard.ShardId, {
      id: shard.ShardId,
      parentId: shard.ParentShardId,
      iterator: undefined,
      checkpoint: undefined,
      pending: [],
      attempts: 0,
      ended: false,
    });
  }

  /** A child shard waits until its parent (if we know it) is read to the end, as Lambda does. */
  function ready(shard: ShardState): boolean {
    const parent = shard.parentId ? shards.get(shard.parentId) : undefined;
    return !parent || (parent.ended && parent.pending.length === 0);
  }

  async function fetch(shard: ShardState): Promise<number> {
    if (shard.ended || shard.pending.length >= batchSize) return 0;
    if (!shard.iterator) {
      stats.getShardIteratorCalls++;
      const out = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shard.id,
          ...(shard.checkpoint ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.checkpoint } : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      shard.iterator = out.ShardIterator;
      if (!shard.iterator) {
        shard.ended = true;
        return 0;
      }
    }
    try {
      stats.getRecordsCalls++;
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize - shard.pending.length }));
      const records = (out.Records ?? []).map((r) => toLambdaRecord(r, streamArn ?? '', region));
      keep(shard, records);
      shard.iterator = out.NextShardIterator;
      if (!shard.iterator) shard.ended = true;
      return records.length;
    } catch (error) {
      // Iterators expire after 15 minutes (a paused virtual run); start again from the checkpoint.
      if (error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException) {
        shard.iterator = undefined;
        shard.pending = [];
        return 0;
      }
      throw error;
    }
  }

  /**
   * Queues the fetched records the filters let through. Filtered records count as done; the
   * checkpoint moves past them only when nothing before them is still pending, so a restart from
   * the checkpoint never skips a record that has not been handled.
   */
  function keep(shard: ShardState, records: readonly DynamoDBRecord[]): void {
    for (const record of records) {
      options.onRecord?.(record);
      if (!filters || filters.some((pattern) => matches(pattern, record))) {
        shard.pending.push(record);
        continue;
      }
      stats.recordsFiltered++;
      const sequence = record.dynamodb?.SequenceNumber;
      if (shard.pending.length === 0 && sequence) shard.checkpoint = sequence;
    }
  }

  /** Delivers one batch and applies Lambda's checkpoint / retry / drop rules; false when there was none. */
  async function deliver(shard: ShardState): Promise<boolean> {
    const batch = shard.pending.slice(0, batchSize);
    if (batch.length === 0) return false;
    stats.invocations++;
    stats.recordsDelivered += batch.length;
    let failedFrom: number;
    let reason: string;
    try {
      const response = await options.handler({ Records: batch });
      const reported = response?.batchItemFailures ?? [];
      if (reported.length === 0) {
        complete(shard, batch.length);
        return true;
      }
      const ids = reported.map((f) => f.itemIdentifier);
      const positions = ids.map((id) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === id));
      // An identifier that names no record of the batch fails the whole batch, as in Lambda.
      failedFrom = positions.some((p) => p < 0) ? 0 : Math.min(...positions);
      reason = `handler reported failed records ${ids.join(', ')}`;
    } catch (error) {
      failedFrom = 0;
      reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    complete(shard, failedFrom);
    shard.attempts++;
    if (shard.attempts <= maxRetries) {
      stats.retries++;
      return true;
    }
    const dropped = shard.pending.splice(0, batch.length - failedFrom);
    const last = dropped.at(-1)?.dynamodb?.SequenceNumber;
    if (last) shard.checkpoint = last;
    failures.push({ shardId: shard.id, records: dropped, reason, attempts: shard.attempts });
    stats.recordsDropped += dropped.length;
    shard.attempts = 0;
    return true;
  }

  function complete(shard: ShardState, count: number): void {
    if (count === 0) return;
    const done = shard.pending.splice(0, count);
    const last = done.at(-1)?.dynamodb?.SequenceNumber;
    if (last) shard.checkpoint = last;
    stats.recordsCompleted += done.length;
    shard.attempts = 0;
  }

  /** One pass over every shard; false once a pass finds nothing to fetch and nothing to deliver (quiet). */
  async function round(): Promise<boolean> {
    await describeShards();
    let active = false;
    for (const shard of shards.values()) {
      if (stopped) return false;
      if (!ready(shard)) {
        active = true;
        continue;
      }
      if ((await fetch(shard)) > 0) active = true;
      if (await deliver(shard)) active = true;
    }
    return active;
  }

  /**
   * After a failed read the stream's shape and iterators may be gone (DynamoDB Local restarted):
   * the next round describes the table and stream again and resumes each known shard from its
   * checkpoint. A shard the stream no longer lists is forgotten once nothing of it is pending.
   */
  let redescribe = false;
  function forgetStream(): void {
    streamArn = undefined;
    redescribe = true;
    for (const shard of shards.values()) shard.iterator = undefined;
  }

  // Like an event source mapping whose source is unavailable: back off (doubling up to
  // MAX_BACKOFF_MS), say so once, re-read the stream when it answers again, and say that too.
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  // One count for the timer's polls and a drain's rounds, so an outage is told of once whichever meets it.
  let consecutiveFailures = 0;
  let nextPollAt = 0;
  const readFailed = (error: unknown) => {
    consecutiveFailures++;
    forgetStream();
    if (consecutiveFailures === 1) console.error(`Stream poller: cannot read the table stream (${describeError(error)}); retrying with backoff`);
  };
  const readAgain = () => {
    if (consecutiveFailures > 0) console.error(`Stream poller: reading the table stream again after ${consecutiveFailures} failed attempt(s)`);
    consecutiveFailures = 0;
  };
  const poll = async () => {
    try {
      await round();
      readAgain();
    } catch (error) {
      if (stopped) return;
      readFailed(error);
      nextPollAt = Date.now() + Math.min(intervalMs * 2 ** consecutiveFailures, MAX_BACKOFF_MS);
    }
  };
  const timer =
    options.polling === false
      ? undefined
      : setInterval(() => {
          if (busy || stopped || Date.now() < nextPollAt) return;
          void exclusive(poll);
        }, intervalMs);
  timer?.unref();

  /**
   * One round for `drain()`: while the table does not answer (DynamoDB Local restarting), back off
   * and read the stream again, as the timer does, for up to DRAIN_OUTAGE_MS; then the drain fails.
   */
  const roundRiding = async (): Promise<boolean> => {
    const deadline = Date.now() + DRAIN_OUTAGE_MS;
    for (let failed = 0; ; failed++) {
      try {
        const result = await round();
        readAgain();
        return result;
      } catch (error) {
        if (stopped || Date.now() > deadline) throw error;
        readFailed(error);
        await new Promise((r) => setTimeout(r, Math.min(intervalMs * 2 ** failed, MAX_BACKOFF_MS)));
      }
    }
  };

  return {
    stats,
    failures,
    drain: () =>
      exclusive(async () => {
        const { writes } = options;
        if (writes && quietAfterWrites === writes.completed() && writes.inFlight() === 0) {
          stats.drainsSkipped++;
          return;
        }
        for (let rounds = 0; !stopped; rounds++) {
          if (rounds >= MAX_DRAIN_ROUNDS)
            throw new Error(`the table stream did not go quiet after ${MAX_DRAIN_ROUNDS} rounds: does a handler write on every record it handles?`);
          // Taken before the round reads: a write completing while it reads makes the next drain read again.
          const written = writes && writes.inFlight() === 0 ? writes.completed() : undefined;
          if (!(await roundRiding())) {
            quietAfterWrites = written;
            return;
          }
        }
      }),
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await queue;
      dynamo.destroy();
      streams.destroy();
    },
  };
}

/** The error's name and message, or its code when the connection itself failed (ECONNREFUSED). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${error.name} ${code}: ${error.message}` : `${error.name}: ${error.message}`;
}

/** Lambda's filter semantics for the supported subset: every key of the pattern must match. */
function matches(pattern: StreamFilterPattern, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(pattern).every(([field, rule]) => {
    const actual = (value as Record<string, unknown>)[field];
    if (Array.isArray(rule)) return (rule as readonly FilterValue[]).some((accepted) => accepted === actual);
    return matches(rule as StreamFilterPattern, actual);
  });
}

/** Refuses what the matcher does not implement, rather than silently matching nothing. */
function validatePattern(pattern: unknown, where: string): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern) || Object.keys(pattern).length === 0) {
    throw new TypeError(`stream filter ${where} must be a non-empty object of fields, got ${JSON.stringify(pattern)}`);
  }
  for (const [field, rule] of Object.entries(pattern)) {
    const at = `${where}.${field}`;
    if (!Array.isArray(rule)) {
      validatePattern(rule, at);
      continue;
    }
    const unsupported = rule.find((v: unknown) => v !== null && !['string', 'number', 'boolean'].includes(typeof v));
    if (rule.length === 0 || unsupported !== undefined) {
      throw new TypeError(
        `stream filter ${at} must list exact values (strings, numbers, booleans, null); content filters such as prefix or exists are not supported locally, got ${JSON.stringify(rule)}`,
      );
    }
  }
}

function toLambdaRecord(record: StreamsRecord, streamArn: string, region: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  const created = data.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      ...(data.Keys ? { Keys: toLambdaImage(data.Keys) } : {}),
      ...(data.NewImage ? { NewImage: toLambdaImage(data.NewImage) } : {}),
      ...(data.OldImage ? { OldImage: toLambdaImage(data.OldImage) } : {}),
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    },
  };
}

function toLambdaImage(image: Record<string, StreamsAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));
}

/** The SDK hands binary values over as bytes; Lambda's event carries them base64-encoded. */
function toLambdaValue(value: StreamsAttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  throw new Error(`unsupported attribute value with keys ${Object.keys(value).join(', ')}`);
}
