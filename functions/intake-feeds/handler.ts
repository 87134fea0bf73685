/**
 * The recurring iCalendar feed poll (every 15 minutes, from the topology manifest). A thin
 * adapter: builds the deps once per container, giving pollFeeds the intake use case's
 * receiveBookingChange to apply each change with, and runs pollFeeds. Only the local twin sets
 * INTAKE_FEEDS_ALLOW_LOOPBACK_HTTP, for the feeds its tests serve on 127.0.0.1.
 */
import { intakeStoreFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { optionalEnv } from '../../shared/config/env.js';
import { intakeConfigFromEnv } from '../../shared/intake/config.js';
import { systemClock } from '../../shared/ports/clock.js';
import { receiveBookingChange, type IntakeDeps } from '../../shared/use-cases/intake.js';
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

/** The Lambda entry point (shared/adapters/lambda/entry.ts). */
export const handler = lambdaEntry('intake-feeds', ({ env, log }) => {
  const intake: IntakeDeps = { store: intakeStoreFromEnv(env), clinic: clinicFromEnv(env), now: () => systemClock.now() };
  const deps: PollDeps = {
    config: intakeConfigFromEnv(env),
    ...intake,
    fetch: httpFetch,
    applyChange: (source, config, event) => receiveBookingChange(intake, source, config, event),
    log,
    allowLoopbackHttp: optionalEnv('INTAKE_FEEDS_ALLOW_LOOPBACK_HTTP', env) === 'true',
  };
  return async (): Promise<{ feeds: FeedOutcome[] }> => ({ feeds: await pollFeeds(deps) });
});
