/**
 * The recurring iCalendar feed poll (every 15 minutes, from the topology manifest). A thin
 * adapter: builds the deps once per container and runs pollFeeds. Only the local twin sets
 * INTAKE_FEEDS_ALLOW_LOOPBACK_HTTP, for the feeds its tests serve on 127.0.0.1.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoIntakeStore } from '../../shared/adapters/dynamodb/intake-store.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { optionalEnv, readEnv } from '../../shared/config/env.js';
import { intakeConfigFromEnv } from '../../shared/intake/config.js';
import { systemClock } from '../../shared/ports/clock.js';
import { pollFeeds, type FeedFetcher, type FeedOutcome, type PollDeps } from '../../shared/use-cases/poll-feeds.js';

/** Feeds are small; one that takes longer than this is retried on the next poll. */
const FETCH_TIMEOUT_MS = 20_000;

export const httpFetch: FeedFetcher = async (url, headers) => {
  const response = await fetch(url, { headers, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const etag = response.headers.get('etag');
  const lastModified = response.headers.get('last-modified');
  return {
    status: response.status,
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
    body: response.status === 200 ? await response.text() : '',
  };
};

function depsFromEnv(): PollDeps {
  const { TABLE_NAME } = readEnv(['TABLE_NAME']);
  const endpoint = optionalEnv('DYNAMODB_ENDPOINT');
  return {
    config: intakeConfigFromEnv(),
    clinic: clinicFromEnv(),
    store: new DynamoIntakeStore({ tableName: TABLE_NAME, client: createDocumentClient(endpoint ? { endpoint } : {}), now: () => systemClock.now() }),
    fetch: httpFetch,
    now: () => systemClock.now(),
    log: new Logger({ serviceName: 'keepwell-intake-feeds' }),
    allowLoopbackHttp: optionalEnv('INTAKE_FEEDS_ALLOW_LOOPBACK_HTTP') === 'true',
  };
}

let deps: PollDeps | undefined;

export const handler = async (): Promise<{ feeds: FeedOutcome[] }> => {
  deps ??= depsFromEnv();
  return { feeds: await pollFeeds(deps) };
};
