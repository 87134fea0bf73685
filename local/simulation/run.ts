/**
 * Plays a scenario on the local twin with a virtual clock and reports every email.
 *
 * Step by step:
 * 1. start the twin with a virtual clock at `simulate.from` (reusing running services when given);
 * 2. import the scenario's data through the import use case, and let the stream schedule its messages;
 * 3. for each event in time order: move the clock to its instant (everything due fires on the way),
 *    apply it through the same use case or handler as the real path, and let its effects settle;
 * 4. move the clock to `simulate.until`;
 * 5. read the ledger for the window and join it with SES local's store into the report.
 */
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { bookSession, cancelSession, importDataset, pausePlan, rescheduleSession, resumePlan, unsubscribe } from '../../shared/use-cases/manage-plans.js';
import type { Mailer } from '../../shared/ports/mailer.js';
import { MESSAGE_KINDS, messageName, type MessageKind } from '../../shared/domain/message.js';
import { dispatchPayloadSchema } from '../../shared/domain/dispatch-payload.js';
import { startTwin, type Twin } from '../twin.js';
import type { FireInfo } from '../scheduler/server.js';
import { fetchSesStore, joinOutbox, type OutcomeEntry, type SentEmail } from './outbox.js';
import { answerCheckIn, answerIntake, bounceEvent } from './actions.js';
import { RetryableError } from '../../shared/domain/errors.js';
import { postWebhook } from '../intake.js';
import type { Scenario, ScenarioEvent } from './scenario.js';
import { checkInvariants, type InvariantReport } from './invariants.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../ports.js';
import { startDynamoDbLocal, startSesLocal, type RunningService } from '../services.js';
import { createChaosLayer, type ChaosLayer, type Restartable } from '../chaos/layer.js';
import type { ChaosSettings, Fault, FaultSpec } from '../chaos/profiles.js';
import { startSesFaultProxy, type SesFaultProxy } from '../chaos/ses-proxy.js';

export interface SimulationReport {
  readonly simulate: { readonly from: string; readonly until: string };
  readonly emails: SentEmail[];
  readonly skipped: OutcomeEntry[];
  readonly failed: OutcomeEntry[];
  readonly stats: SimulationStats;
  /** Every planned message settled once: what was sent, skipped, failed, and anything lost or duplicated. */
  readonly invariants: InvariantReport;
  /** With faults turned on: which, how often each was injected, and what reached a failure destination. */
  readonly chaos?: ChaosReport;
}

export interface ChaosReport {
  readonly seed: number;
  readonly faults: readonly FaultSpec[];
  readonly injected: Record<Fault, number>;
  /** Failed asynchronous invocations Lambda retried, by function and error name. */
  readonly retriedInvocations: Record<string, number>;
  /** Asynchronous invocations that failed after Lambda's retries (the on-failure destination). */
  readonly failedInvocations: ReadonlyArray<{ readonly functionName: string; readonly error: string; readonly at: string; readonly message?: string }>;
  /** Stream records sync-schedules could not get past after the poller's retries. */
  readonly streamFailures: number;
  /** Firings of dispatch's own schedules by the local Scheduler: retries (`<name>.r<n>`), deferrals (`-d<n>`). */
  readonly fired: { readonly retries: number; readonly deferrals: number; readonly duplicateCopies: number };
}

export interface SimulationStats {
  readonly emails: number;
  readonly byKind: Record<MessageKind, number>;
  readonly skipped: number;
  readonly failed: number;
  /** Scheduler invocations that exhausted their retries. */
  readonly deadLetters: number;
  /** Ledger entries marked sent whose email SES local does not hold; 0 in a sound run. */
  readonly unmatched: number;
  readonly events: number;
  readonly firings: number;
  readonly simulatedDays: number;
  readonly wallSeconds: number;
}

export interface SimulationOptions {
  /** Reuse a running DynamoDB Local / SES local (tests, benchmarks); started and stopped when absent. */
  readonly dynamoEndpoint?: string;
  readonly sesEndpoint?: string;
  /** Called as virtual time moves: milliseconds simulated so far, of the total. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly logLevel?: string;
  /** Called for every schedule the local Scheduler fires (tests read the names). */
  readonly onFire?: (info: FireInfo) => void;
  /** Faults to inject (local/chaos): the scenario's `chaos`, or `--chaos <profile>`. */
  readonly chaos?: ChaosSettings;
}

/** The services a chaos run starts for itself: SES behind the fault proxy, DynamoDB Local it may restart. */
interface ChaosServices {
  readonly dynamoEndpoint?: string;
  readonly sesEndpoint?: string;
  readonly restartable?: Restartable;
  close(): Promise<void>;
}

/** How long a (re)started DynamoDB Local may take to answer before the start is tried again. */
const DYNAMO_READY_TIMEOUT_MS = 120_000;

async function startChaosServices(layer: ChaosLayer, options: SimulationOptions): Promise<ChaosServices> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    let dynamoEndpoint = options.dynamoEndpoint;
    let restartable: Restartable | undefined;
    if (layer.needsRestartableDynamo) {
      if (options.dynamoEndpoint) throw new Error('the dynamodb-restart fault stops and starts its own DynamoDB Local; leave out --dynamo-endpoint');
      // On disk, so that the table, its stream and its data survive the restart on the same port.
      const dataDir = mkdtempSync(join(tmpdir(), 'kw-chaos-dynamo-'));
      closers.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const port = await freePort();
      // Java starts slowly on a busy machine: a restart that outlasts the wait is tried again.
      const start = async (): Promise<RunningService> => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await startDynamoDbLocal({ port, dataDir, readyTimeoutMs: DYNAMO_READY_TIMEOUT_MS });
          } catch (error) {
            if (attempt >= 3) throw error;
          }
        }
      };
      let service: RunningService = await start();
      closers.push(() => service.stop());
      dynamoEndpoint = service.endpoint;
      restartable = {
        stop: () => service.stop(),
        start: async () => {
          service = await start();
        },
      };
    }
    let sesEndpoint = options.sesEndpoint;
    if (layer.needsSesProxy) {
      let upstream = options.sesEndpoint;
      if (!upstream) {
        const ses = await startSesLocal();
        closers.push(() => ses.stop());
        upstream = ses.endpoint;
      }
      const proxy: SesFaultProxy = await startSesFaultProxy(upstream, layer.sesRules);
      closers.push(() => proxy.close());
      sesEndpoint = proxy.endpoint;
    }
    return { ...(dynamoEndpoint ? { dynamoEndpoint } : {}), ...(sesEndpoint ? { sesEndpoint } : {}), ...(restartable ? { restartable } : {}), close };
  } catch (error) {
    await close();
    throw error;
  }
}

export class ScenarioEventError extends Error {
  override readonly name = 'ScenarioEventError';
}

interface EventContext {
  readonly twin: Twin;
  readonly mailer: Mailer;
}

/** Times a client sends the check-in form again after the page said "try again in a minute" (503, Retry-After 60). */
const FORM_RESUBMITS = 3;

/**
 * Answers a check-in as the form's client does: when the page answers 503 (the answers are stored
 * but the therapist's alert could not go yet), the client sends the form again a minute later,
 * which sends the alert still owed (record-check-in.ts).
 */
async function answerAsAClient(ctx: EventContext, input: { clientId: string; sessionId: string; answers: unknown }, resubmits = 0): Promise<void> {
  try {
    await answerCheckIn(ctx.twin, ctx.mailer, input, ctx.twin.clock.now());
  } catch (error) {
    if (!(error instanceof RetryableError) || resubmits >= FORM_RESUBMITS) throw error;
    ctx.twin.scheduler.later(new Date(ctx.twin.clock.now().getTime() + 60_000), () => answerAsAClient(ctx, input, resubmits + 1));
  }
}

/** Applies one event the way the real system receives it. */
export async function applyEvent(ctx: EventContext, event: ScenarioEvent): Promise<void> {
  const { twin } = ctx;
  const { store } = twin;
  switch (event.type) {
    case 'book-session':
      await bookSession(store, event.session);
      return;
    case 'cancel-session':
      await cancelSession(store, event.sessionId);
      return;
    case 'reschedule-session':
      await rescheduleSession(store, event.sessionId, event.start);
      return;
    case 'check-in-response': {
      const session = await store.findSession(event.sessionId);
      if (!session) throw new ScenarioEventError(`check-in-response at ${event.at}: session "${event.sessionId}" does not exist`);
      await answerAsAClient(ctx, { clientId: session.clientId, sessionId: session.id, answers: event.answers });
      return;
    }
    case 'intake-response': {
      const plan = await store.findPlan(event.planId);
      if (!plan) throw new ScenarioEventError(`intake-response at ${event.at}: plan "${event.planId}" does not exist`);
      await answerIntake(twin, { clientId: plan.clientId, planId: plan.id, answers: event.answers }, twin.clock.now());
      return;
    }
    case 'unsubscribe':
      await unsubscribe(store, event.clientId, event.category);
      return;
    case 'bounce':
      await twin.invoke('ses-events', await bounceEvent(twin, event.email));
      return;
    case 'pause-plan':
      await pausePlan(store, event.planId);
      return;
    case 'resume-plan':
      await resumePlan(store, event.planId);
      return;
    case 'webhook': {
      const answer = await postWebhook(twin, event.source, JSON.stringify(event.body));
      if (answer.status >= 300) throw new ScenarioEventError(`webhook at ${event.at} to ${event.source}: answered ${answer.status} ${answer.body}`);
      return;
    }
  }
}

const DAY_MS = 86_400_000;

function countBy(keys: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/** Moves the twin's clock to `target` a day at a time, so progress can be shown on long runs. */
async function advance(twin: Twin, target: string, report: (now: number) => void): Promise<void> {
  const end = Date.parse(target);
  for (let now = twin.clock.now().getTime(); now < end; ) {
    now = Math.min(now + DAY_MS, end);
    await twin.advanceTo(new Date(now));
    report(now);
  }
  await twin.settle();
}

export async function runSimulation(scenario: Scenario, options: SimulationOptions = {}): Promise<SimulationReport> {
  const wallStart = Date.now();
  // SES local's own stamps are real time in whole seconds: a second's margin keeps this run's first email.
  const sesSince = Math.floor(wallStart / 1000) - 1;
  const { from, until } = scenario.simulate;
  let firings = 0;
  const fired = { retries: 0, deferrals: 0, duplicateCopies: 0 };
  const countFiring = (info: FireInfo) => {
    firings++;
    if (/\.r\d+$/.test(info.scheduleName)) fired.retries++;
    if (/-d\d+\.v\d+$/.test(info.scheduleName)) fired.deferrals++;
    if (info.copy === 2) fired.duplicateCopies++;
    options.onFire?.(info);
  };
  const layer = options.chaos ? createChaosLayer(options.chaos, scenario.simulate) : undefined;
  const services = layer ? await startChaosServices(layer, options) : undefined;
  const dynamoEndpoint = services?.dynamoEndpoint ?? options.dynamoEndpoint;
  const sesEndpoint = services?.sesEndpoint ?? options.sesEndpoint;
  const twin = await startTwin({
    clinic: scenario.clinic,
    clock: { mode: 'virtual', start: new Date(from) },
    web: false,
    // Headless: the scenario's events are applied from this process, so it is the only writer.
    soleWriter: true,
    ...(dynamoEndpoint ? { dynamoEndpoint } : {}),
    ...(sesEndpoint ? { sesEndpoint } : {}),
    onFire: countFiring,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(layer ? { invocationFault: layer.invocationFault } : {}),
  }).catch(async (error: unknown) => {
    await services?.close();
    throw error;
  });
  try {
    layer?.attach(twin, services?.restartable);
    const total = Date.parse(until) - Date.parse(from);
    const progress = (now: number) => options.onProgress?.(now - Date.parse(from), total);
    const ctx: EventContext = { twin, mailer: mailerFromEnv() };
    await importDataset(twin.store, scenario.dataset);
    await twin.settle();
    for (const event of scenario.events) {
      await advance(twin, event.at, progress);
      await applyEvent(ctx, event);
      await twin.settle();
    }
    await advance(twin, until, progress);

    const entries = await twin.store.listSince(from, until);
    const stored = await fetchSesStore(twin.sesEndpoint, sesSince);
    const outbox = joinOutbox(entries, stored);
    const sessionIds = [...scenario.dataset.sessions.map((s) => s.id), ...scenario.events.flatMap((e) => (e.type === 'book-session' ? [e.session.id] : []))];
    const invariants = await checkInvariants({
      store: twin.store,
      clinic: twin.clinic,
      sessionIds,
      // The run imports the dataset at `from` and books the rest: every one of them is news to its client.
      bookedSessionIds: sessionIds,
      entries,
      emails: stored,
      recipients: new Set([...scenario.dataset.clients, ...scenario.dataset.therapists].map((p) => p.email.toLowerCase())),
      sesShared: options.sesEndpoint !== undefined,
      from,
      until,
    });
    const byKind = Object.fromEntries(MESSAGE_KINDS.map((k) => [k, outbox.emails.filter((e) => e.kind === k).length])) as Record<MessageKind, number>;
    return {
      simulate: { from, until },
      emails: outbox.emails,
      skipped: outbox.skipped,
      failed: outbox.failed,
      invariants,
      ...(layer
        ? {
            chaos: {
              seed: layer.settings.seed,
              faults: layer.settings.faults,
              injected: { ...layer.injected },
              retriedInvocations: countBy(twin.retriedInvocations.map((f) => `${f.functionName}: ${f.error.split(':', 1)[0]}`)),
              failedInvocations: twin.failedInvocations.map(({ functionName, payload, error, at }) => {
                const parsed = dispatchPayloadSchema.safeParse(payload);
                return { functionName, error, at, ...(functionName === 'dispatch' && parsed.success ? { message: messageName(parsed.data.message) } : {}) };
              }),
              streamFailures: twin.streamFailures.reduce((n, f) => n + f.records.length, 0),
              fired: { ...fired },
            },
          }
        : {}),
      stats: {
        emails: outbox.emails.length,
        byKind,
        skipped: outbox.skipped.length,
        failed: outbox.failed.length,
        deadLetters: twin.scheduler.deadLetters.length,
        unmatched: outbox.unmatched.length,
        events: scenario.events.length,
        firings,
        simulatedDays: Math.round((total / DAY_MS) * 100) / 100,
        wallSeconds: Math.round((Date.now() - wallStart) / 100) / 10,
      },
    };
  } finally {
    await twin.close();
    await services?.close();
  }
}
