/**
 * Polls the clinic's iCalendar feeds and applies what changed, through the same intake use case
 * as the webhooks: receiveBookingChange (intake.ts), which the handler passes in as `applyChange`.
 *
 * Step by step, for each `ical` source of the stage config:
 * 1. refuse a feed URL that is not https (the twin allows http on loopback, for its local feeds);
 * 2. GET it with If-None-Match / If-Modified-Since from the last poll: a 304 costs that one
 *    request and the state read, and writes nothing;
 * 3. parse it with ical.js (shared/intake/ical-feed.ts) into one booking change per occurrence;
 * 4. apply each with `applyChange`: an event the feed repeats unchanged is a duplicate
 *    (its delivery id is a digest of what it says), a changed one a move or cancellation;
 * 5. store the ETag / Last-Modified for the next poll, only after every event is applied, so a
 *    failure mid-way is retried whole on the next poll.
 * A feed that fails (network, HTTP error, not iCalendar) does not stop the others; the run then
 * ends in FeedPollError, so the function's error alarm fires.
 */
import { FeedPollError } from '../domain/errors.js';
import type { Clinic } from '../domain/model.js';
import type { IntakeConfig } from '../intake/config.js';
import type { IntakeEvent } from '../intake/event.js';
import { readFeed } from '../intake/ical-feed.js';
import type { IntakeStore } from '../ports/intake.js';
import type { OpsLog } from '../ports/log.js';
import { instantOf } from '../domain/time.js';

export interface FeedResponse {
  readonly status: number;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly body: string;
}

/** An HTTP GET with the given request headers. */
export type FeedFetcher = (url: string, headers: Record<string, string>) => Promise<FeedResponse>;

type FeedSource = IntakeConfig['sources'][string];

/**
 * Applies one booking change of `source`, as a webhook's is applied: the handler passes the intake
 * use case's receiveBookingChange, so a feed and a webhook go through one rule.
 */
export type ApplyBookingChange = (
  source: string,
  config: FeedSource,
  event: IntakeEvent,
) => Promise<{ readonly status: 'accepted' | 'ignored'; readonly duplicate: boolean }>;

export interface PollDeps {
  readonly config: IntakeConfig;
  readonly clinic: Pick<Clinic, 'timezone'>;
  readonly store: IntakeStore;
  readonly fetch: FeedFetcher;
  readonly applyChange: ApplyBookingChange;
  readonly now: () => Date;
  readonly log: OpsLog;
  /** The twin's local feeds: allow http:// on 127.0.0.1, ::1 and localhost. @default false */
  readonly allowLoopbackHttp?: boolean;
}

export interface FeedOutcome {
  readonly source: string;
  readonly status: 'unchanged' | 'changed' | 'failed';
  readonly events: number;
  readonly applied: number;
  readonly ignored: number;
  readonly duplicates: number;
  readonly error?: string;
}

export { FeedPollError };

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function feedUrlProblem(url: string, allowLoopbackHttp: boolean): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && allowLoopbackHttp && LOOPBACK.has(parsed.hostname)) return undefined;
  return 'must be https';
}

export async function pollFeeds(deps: PollDeps): Promise<FeedOutcome[]> {
  const outcomes: FeedOutcome[] = [];
  for (const [source, config] of Object.entries(deps.config.sources)) {
    if (config.format !== 'ical' || !config.url) continue;
    const outcome = await pollOne(deps, source, config.url, config);
    deps.log[outcome.status === 'failed' ? 'error' : 'info']('feed polled', { ...outcome });
    outcomes.push(outcome);
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) throw new FeedPollError(`${failed.length} feed(s) failed: ${failed.map((f) => `${f.source} (${f.error})`).join('; ')}`);
  return outcomes;
}

async function pollOne(deps: PollDeps, source: string, url: string, config: FeedSource): Promise<FeedOutcome> {
  const none = { source, events: 0, applied: 0, ignored: 0, duplicates: 0 };
  const problem = feedUrlProblem(url, deps.allowLoopbackHttp ?? false);
  if (problem) return { ...none, status: 'failed', error: `feed URL ${problem}` };
  const state = await deps.store.getFeedState(source);
  const headers: Record<string, string> = { accept: 'text/calendar' };
  if (state?.etag) headers['if-none-match'] = state.etag;
  if (state?.lastModified) headers['if-modified-since'] = state.lastModified;
  let response: FeedResponse;
  try {
    response = await deps.fetch(url, headers);
  } catch (error) {
    return { ...none, status: 'failed', error: `GET failed (${error instanceof Error ? error.name : 'error'})` };
  }
  if (response.status === 304) return { ...none, status: 'unchanged' };
  if (response.status !== 200) return { ...none, status: 'failed', error: `GET answered ${response.status}` };
  let events: ReturnType<typeof readFeed>;
  try {
    events = readFeed(source, response.body, { now: deps.now(), zone: deps.clinic.timezone });
  } catch (error) {
    return { ...none, status: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
  let applied = 0;
  let ignored = 0;
  let duplicates = 0;
  for (const event of events) {
    const outcome = await deps.applyChange(source, config, event);
    if (outcome.duplicate) duplicates++;
    else if (outcome.status === 'accepted') applied++;
    else ignored++;
  }
  await deps.store.putFeedState({
    source,
    ...(response.etag ? { etag: response.etag } : {}),
    ...(response.lastModified ? { lastModified: response.lastModified } : {}),
    polledAt: instantOf(deps.now()),
  });
  return { source, status: 'changed', events: events.length, applied, ignored, duplicates };
}
