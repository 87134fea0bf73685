/**
 * Counts the HTTP requests this process makes to each local service, and the time they take, from
 * Node's own HTTP client diagnostics channels: every AWS SDK client is seen without being wrapped.
 *
 * A request is told apart by what it asks for, not by port: DynamoDB and DynamoDB Streams share
 * DynamoDB Local's port and differ in their X-Amz-Target; SES v2 and the Scheduler are REST APIs
 * with their own paths. Durations are summed per service, from the request's start to the end of
 * its response, so concurrent requests add up to more than the wall time they overlap in.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

export const SERVICES = ['dynamodb', 'dynamodbStreams', 'ses', 'scheduler', 'other'] as const;
export type Service = (typeof SERVICES)[number];

export interface ServiceCounts {
  requests: number;
  milliseconds: number;
}

export type RequestCounts = Record<Service, ServiceCounts>;

export interface RequestMeter {
  /** A copy of the counts so far. */
  snapshot(): RequestCounts;
  stop(): void;
}

export function classify(request: ClientRequest): Service {
  const target = request.getHeader('x-amz-target');
  if (typeof target === 'string') {
    if (target.startsWith('DynamoDBStreams_')) return 'dynamodbStreams';
    if (target.startsWith('DynamoDB_')) return 'dynamodb';
  }
  const path = request.path;
  if (path.startsWith('/v2/email/')) return 'ses';
  if (path.startsWith('/schedules') || path.startsWith('/schedule-groups')) return 'scheduler';
  return 'other';
}

export function emptyCounts(): RequestCounts {
  return Object.fromEntries(SERVICES.map((s) => [s, { requests: 0, milliseconds: 0 }])) as RequestCounts;
}

/** `after - before`, per service. */
export function difference(after: RequestCounts, before: RequestCounts): RequestCounts {
  return Object.fromEntries(
    SERVICES.map((s) => [s, { requests: after[s].requests - before[s].requests, milliseconds: after[s].milliseconds - before[s].milliseconds }]),
  ) as RequestCounts;
}

export function startRequestMeter(): RequestMeter {
  const counts = emptyCounts();
  const started = new WeakMap<ClientRequest, number>();
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    started.set(request, performance.now());
    counts[classify(request)].requests++;
  };
  const onFinish = (message: unknown) => {
    const { request } = message as { request: ClientRequest; response: IncomingMessage };
    const at = started.get(request);
    if (at !== undefined) counts[classify(request)].milliseconds += performance.now() - at;
  };
  subscribe('http.client.request.start', onStart);
  subscribe('http.client.response.finish', onFinish);
  return {
    snapshot: () => structuredClone(counts),
    stop() {
      unsubscribe('http.client.request.start', onStart);
      unsubscribe('http.client.response.finish', onFinish);
    },
  };
}

export const round = (n: number, places = 1) => Math.round(n * 10 ** places) / 10 ** places;

/** Requests and milliseconds per service, divided by `per` (emails, days), leaving out unused services. */
export function perUnit(counts: RequestCounts, per: number): Record<string, { requests: number; ms: number }> {
  return Object.fromEntries(
    SERVICES.filter((s) => counts[s].requests > 0).map((s) => [
      s,
      { requests: round(counts[s].requests / per, 2), ms: round(counts[s].milliseconds / per, 1) },
    ]),
  );
}
