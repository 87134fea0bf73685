/**
 * Watches this process's writes to one DynamoDB endpoint, from Node's HTTP client diagnostics
 * channels, so every SDK client (the handlers', the twin's, a test's) is seen without wrapping it.
 * The stream poller uses it on a virtual clock: when every writer is in this process and no write
 * has completed since the stream was last found quiet, there is nothing new to read.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Every operation that can put a record in a table's stream. */
const WRITE_OPERATIONS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
]);

export interface TableWrites {
  /** Writes whose response has arrived. */
  completed(): number;
  /** Writes sent and not yet answered. */
  inFlight(): number;
  stop(): void;
}

export function watchTableWrites(endpoint: string): TableWrites {
  const host = new URL(endpoint).host;
  const pending = new WeakSet<ClientRequest>();
  let completed = 0;
  let inFlight = 0;
  const isWrite = (request: ClientRequest): boolean => {
    const target = request.getHeader('x-amz-target');
    if (typeof target !== 'string' || !target.startsWith('DynamoDB_')) return false;
    return request.getHeader('host') === host && WRITE_OPERATIONS.has(target.slice(target.indexOf('.') + 1));
  };
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (!isWrite(request)) return;
    pending.add(request);
    inFlight++;
  };
  const onEnd = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (!pending.has(request)) return;
    pending.delete(request);
    inFlight--;
    completed++;
  };
  subscribe('http.client.request.start', onStart);
  subscribe('http.client.response.finish', onEnd);
  // A write whose connection failed never answers; it may still have reached the table.
  subscribe('http.client.request.error', onEnd);
  return {
    completed: () => completed,
    inFlight: () => inFlight,
    stop() {
      unsubscribe('http.client.request.start', onStart);
      unsubscribe('http.client.response.finish', onEnd);
      unsubscribe('http.client.request.error', onEnd);
    },
  };
}
