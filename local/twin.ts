/**
 * The local twin: Keepwell's topology (shared/config/manifest.ts) running on this machine.
 *
 * Step by step:
 * 1. start (or reuse) DynamoDB Local and SES v2 local, and create the table from the shared definition;
 * 2. set the environment every handler reads — the same variables the CDK stack sets, plus local
 *    endpoints — and point the handlers' clock at the twin's clock;
 * 3. load each function's real `handler` from the manifest;
 * 4. start the local Scheduler with the manifest's schedule targets, and create the recurring
 *    schedules the CDK stack would create;
 * 5. feed the table's stream to sync-schedules through the stream poller, with the deployed
 *    mapping's batch size, retries and filters (steps 4 and 5 walk the manifest's triggers the
 *    way the stack does: local/triggers.ts);
 * 6. serve the HTTP API: the manifest's own routes (intake's `POST /intake/{source}`) to their
 *    functions, every other path to the web handler.
 * One twin per process: handlers read the environment once, as in Lambda.
 */
import { randomBytes } from 'node:crypto';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, DynamoDBBatchResponse, APIGatewayProxyResultV2 } from 'aws-lambda';
import { CreateScheduleCommand, CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { FUNCTIONS, LAMBDA_ASYNC_RETRY_ATTEMPTS, type FunctionName, type FunctionSpec } from '../shared/config/manifest.js';
import { clinicSchema, type Clinic } from '../shared/domain/model.js';
import { useClock } from '../shared/ports/clock.js';
import { createDocumentClient, newMeter, type CapacityMeter } from '../shared/adapters/dynamodb/client.js';
import { DynamoStore } from '../shared/adapters/dynamodb/store.js';
import { createClock, isVirtualClock, type Clock, type ClockSettings } from './clock.js';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal, startSesLocal, type RunningService } from './services.js';
import { startLocalScheduler, type FireInfo, type LocalScheduler, type DeadLetter } from './scheduler/server.js';
import { startStreamPoller, type FailedBatch, type StreamFilterPattern } from './stream-poller.js';
import { startWebServer } from './http-server.js';
import { watchTableWrites } from './table-writes.js';
import { summaryShortcut, summaryWrites } from './summary-shortcut.js';
import { reconcileShortcut } from './reconcile-shortcut.js';
import { intakeRouter, localIntakeSetup, type LocalIntake } from './intake.js';
import { twinTriggers, type TwinTriggers } from './triggers.js';

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_SCHEDULE_GROUP = 'keepwell';
export const functionArn = (name: FunctionName) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:keepwell-${name}`;
export const SCHEDULER_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/keepwell-scheduler`;
export const SCHEDULE_DLQ_ARN = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:keepwell-schedule-dlq`;

/**
 * The event filter on sync-schedules' stream: only sessions, plans and clients can move a message
 * (sync-schedules ignores every other item type), so ledger, token and counter writes never invoke
 * it. Both images are tried because an insert has only the new one and a delete only the old one.
 */

// biome-ignore lint/suspicious/noExplicitAny: each function's handler takes and returns its own event types
type AnyHandler = (event: any, context: Context) => Promise<any>;

/** An asynchronous invocation that failed after Lambda's retries: what the on-failure queue holds in AWS. */
export interface FailedInvocation {
  readonly functionName: FunctionName;
  readonly payload: unknown;
  readonly error: string;
  readonly at: string;
}

export interface TwinOptions {
  readonly clinic: Clinic | unknown;
  readonly clock: ClockSettings | Clock;
  /** Reuse running services (tests share one DynamoDB Local and SES local); started when absent. */
  readonly dynamoEndpoint?: string;
  readonly sesEndpoint?: string;
  /** @default a fresh `keepwell-<random>` table */
  readonly tableName?: string;
  /** @default 0 (a free port) */
  readonly webPort?: number;
  /** Serve the pages over HTTP. @default true */
  readonly web?: boolean;
  /** Create the manifest's recurring schedules (reconcile, summary). @default true */
  readonly recurring?: boolean;
  /** Real milliseconds between stream polls and Scheduler ticks with a running clock. @default 200 */
  readonly tickMs?: number;
  readonly onFire?: (info: FireInfo) => void;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** Reconcile's look-ahead window, as a stage sets it. @default 72 */
  readonly reconcileLookAheadHours?: number;
  /** Powertools log level for the handlers. @default 'WARN' */
  readonly logLevel?: string;
  /** The intake sources and mappings, as a stage's `intake` sets them. @default the dev stage's in cdk.json */
  readonly intake?: unknown;
  /**
   * Every write to the table comes from this process (a headless simulation, not a twin the
   * `keepwell` CLI writes to). With a virtual clock the stream is then read only after a write, a
   * summary sweep that would repeat the previous settled one is left out (local/summary-shortcut.ts),
   * and so is a reconcile pass with nothing to heal or act on (local/reconcile-shortcut.ts).
   * @default false
   */
  readonly soleWriter?: boolean;
  /**
   * Wraps every asynchronous invocation (the Scheduler's targets), the way a fault layer sits
   * between Lambda and the function: it may run it, run it twice, or end it early with an error,
   * as a crash or a timeout would. @default runs it
   */
  readonly invocationFault?: InvocationFault;
}

/** See TwinOptions.invocationFault: `run` is the function's handler on this payload. */
export type InvocationFault = (name: FunctionName, payload: unknown, run: () => Promise<unknown>) => Promise<unknown>;

/** Lambda's waits before its two retries of a failed asynchronous invocation: about 1 and then 2 minutes. */
export const LAMBDA_ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

export interface Twin {
  readonly clinic: Clinic;
  readonly clock: Clock;
  readonly tableName: string;
  readonly dynamoEndpoint: string;
  readonly sesEndpoint: string;
  readonly webUrl?: string;
  readonly scheduler: LocalScheduler;
  readonly schedulerClient: SchedulerClient;
  /** A metered store on the twin's table, for seeding and inspection. */
  readonly store: DynamoStore;
  readonly meter: CapacityMeter;
  readonly handlers: Readonly<Record<FunctionName, AnyHandler>>;
  /** Asynchronous invocations that failed after Lambda's retries (the on-failure destination). */
  readonly failedInvocations: readonly FailedInvocation[];
  /** Failed asynchronous invocations Lambda retried (each failure that had a retry left). */
  readonly retriedInvocations: readonly FailedInvocation[];
  /** Stream records sync-schedules failed on after the poller's retries (the mapping's on-failure destination). */
  readonly streamFailures: readonly FailedBatch[];
  /** The intake sources the twin serves at `/intake/<source>`, with their webhook secrets. */
  readonly intake: LocalIntake;
  /** Invokes a function the way its trigger would, with a Lambda-like context. */
  invoke<T = unknown>(name: FunctionName, event: unknown): Promise<T>;
  /** Processes every pending stream record (and what it causes) now. */
  settle(): Promise<void>;
  /** Virtual clock: runs everything due up to `instant`, in time order. */
  advanceTo(instant: Date | string): Promise<void>;
  close(): Promise<void>;
}

export function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `keepwell-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(name as FunctionName),
    memoryLimitInMB: '512',
    awsRequestId: randomBytes(16).toString('hex'),
    logGroupName: `/aws/lambda/keepwell-${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** What the twin makes of the manifest's triggers with these options: the settings startTwin runs with. */
export function triggersFor(options: Pick<TwinOptions, 'reconcileLookAheadHours'>): TwinTriggers {
  return twinTriggers({
    reconcileLookAheadHours: options.reconcileLookAheadHours ?? 72,
    scheduleGroup: LOCAL_SCHEDULE_GROUP,
    schedulerRoleArn: SCHEDULER_ROLE_ARN,
    scheduleDlqArn: SCHEDULE_DLQ_ARN,
    functionArn,
  });
}

async function loadHandler(spec: FunctionSpec): Promise<AnyHandler> {
  const module = (await import(new URL(`../${spec.entry}`, import.meta.url).href)) as { handler?: AnyHandler };
  if (typeof module.handler !== 'function') throw new Error(`${spec.entry} does not export a handler`);
  return module.handler;
}

export async function startTwin(options: TwinOptions): Promise<Twin> {
  const clinic = clinicSchema.parse(options.clinic);
  const clock = 'now' in options.clock ? options.clock : createClock(options.clock);
  const started: RunningService[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const dynamoEndpoint: string =
      options.dynamoEndpoint ??
      (await startDynamoDbLocal().then((s) => {
        started.push(s);
        return s.endpoint;
      }));
    const sesEndpoint: string =
      options.sesEndpoint ??
      (await startSesLocal().then((s) => {
        started.push(s);
        return s.endpoint;
      }));
    const tableName = options.tableName ?? `keepwell-${randomBytes(4).toString('hex')}`;
    await createTable(dynamoEndpoint, tableName);
    const intake = localIntakeSetup(options.intake);

    // The handlers are built lazily from the environment on their first invocation, so the
    // Scheduler endpoint can be filled in once the Scheduler is listening.
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      SES_ENDPOINT: sesEndpoint,
      SCHEDULE_GROUP: LOCAL_SCHEDULE_GROUP,
      SCHEDULER_ROLE_ARN,
      DISPATCH_FUNCTION_ARN: functionArn('dispatch'),
      SCHEDULE_DLQ_ARN,
      CLINIC_CONFIG: JSON.stringify(clinic),
      CONFIGURATION_SET: 'keepwell-local',
      TOKEN_KEY: process.env.TOKEN_KEY ?? randomBytes(32).toString('base64'),
      INTAKE_CONFIG: JSON.stringify(intake.config),
      INTAKE_SECRETS: JSON.stringify(intake.secrets),
      // Only the twin: its tests serve feeds on 127.0.0.1 without TLS (AWS polls https only).
      INTAKE_FEEDS_ALLOW_LOOPBACK_HTTP: 'true',
      POWERTOOLS_SERVICE_NAME: 'keepwell',
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
      POWERTOOLS_DEV: 'false',
      // Embedded metrics are for CloudWatch; on a laptop they would only flood the terminal.
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    useClock(clock);

    const handlers = Object.fromEntries(await Promise.all(FUNCTIONS.map(async (spec) => [spec.name, await loadHandler(spec)] as const))) as Record<
      FunctionName,
      AnyHandler
    >;
    const invoke = async <T>(name: FunctionName, event: unknown): Promise<T> => (await handlers[name](event, lambdaContext(name))) as T;

    const triggers = triggersFor(options);
    const stream = triggers.stream;
    // When this process makes every write (handlers, seeding, scenario events) and nothing moves
    // by itself, the poller need not read the stream after a firing that wrote nothing.
    const writes = options.soleWriter && isVirtualClock(clock) ? watchTableWrites(dynamoEndpoint) : undefined;
    if (writes) closers.push(async () => writes.stop());
    // Read lazily, at a firing: the poller and the Scheduler it counts faults of are started below.
    const faults = () =>
      poller.failures.length +
      poller.stats.retries +
      failedInvocations.length +
      retriedInvocations.length +
      scheduler.deadLetters.length +
      scheduler.refusedRequests;
    const fresh = options.tableName === undefined;
    const reconcileSkip = writes && fresh && !options.invocationFault ? reconcileShortcut({ faults }) : undefined;
    // On a table the twin created the stream holds every write, so (without injected faults) the
    // summary shortcut can watch only the writes a sweep reads.
    const summaryRecords = writes && fresh && !options.invocationFault ? summaryWrites(writes) : undefined;
    const poller = startStreamPoller({
      dynamoEndpoint,
      tableName,
      handler: (event: DynamoDBStreamEvent) => invoke<DynamoDBBatchResponse | undefined>(stream.functionName, event),
      // The deployed event source mapping's settings, from the manifest.
      batchSize: stream.settings.batchSize,
      maxRetries: stream.settings.maxRetries,
      filters: stream.settings.filterPatterns as StreamFilterPattern[],
      intervalMs: options.tickMs ?? 200,
      // A virtual clock moves only when the Scheduler moves it; the poller is drained by `settle`.
      polling: !isVirtualClock(clock),
      ...(writes ? { writes } : {}),
      ...(writes
        ? {
            onRecord: (record: DynamoDBRecord) => {
              summaryRecords?.observe(record);
              reconcileSkip?.observe(record);
            },
          }
        : {}),
    });
    closers.push(() => poller.stop());

    // Scheduler invokes Lambda asynchronously: a function error never reaches Scheduler's retry
    // policy. Lambda retries the invocation itself (LAMBDA_ASYNC_RETRY_ATTEMPTS times, about a minute
    // and then two later), then hands it to the on-failure destination. The twin does the same on
    // its own clock, so a retry finds the world as a minute later (a claim's lease run out, say).
    const failedInvocations: FailedInvocation[] = [];
    const retriedInvocations: FailedInvocation[] = [];
    const targets: Record<string, (payload: unknown) => Promise<unknown>> = {};
    const meter = newMeter();
    const store = new DynamoStore({
      tableName,
      client: createDocumentClient({ endpoint: dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      meter,
      now: () => clock.now(),
      ...(clinic.retention ? { retention: clinic.retention } : {}),
    });
    const shortcut = writes ? summaryShortcut({ store, writes: summaryRecords ?? writes }) : undefined;
    // Filled in once the Scheduler runs: Lambda's retries wait on the Scheduler's clock.
    let retryLater: (dueAt: Date, work: () => Promise<void>) => void = () => undefined;
    const fault = options.invocationFault;
    for (const spec of FUNCTIONS) {
      if (triggers.scheduleTargets.includes(spec.name)) {
        const run = (payload: unknown) => (fault ? fault(spec.name, payload, () => invoke(spec.name, payload)) : invoke(spec.name, payload));
        const deliver = async (payload: unknown, attempt = 0): Promise<unknown> => {
          try {
            return await run(payload);
          } catch (error) {
            const failure = {
              functionName: spec.name,
              payload,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
              at: clock.now().toISOString(),
            };
            const delay = LAMBDA_ASYNC_RETRY_DELAYS_MS[attempt];
            if (attempt < LAMBDA_ASYNC_RETRY_ATTEMPTS && delay !== undefined) {
              retriedInvocations.push(failure);
              retryLater(new Date(clock.now().getTime() + delay), async () => void (await deliver(payload, attempt + 1)));
              return undefined;
            }
            failedInvocations.push(failure);
            return undefined;
          }
        };
        targets[functionArn(spec.name)] =
          spec.name === 'summary' && shortcut
            ? (payload) => shortcut.run(clock.now(), () => deliver(payload))
            : spec.name === 'reconcile' && reconcileSkip
              ? (payload) => reconcileSkip.run(clock.now(), payload, (input) => deliver(input))
              : (payload) => deliver(payload);
      }
    }
    const scheduler = await startLocalScheduler({
      clock,
      targets,
      region: LOCAL_REGION,
      tickMs: options.tickMs ?? 200,
      settle: () => poller.drain(),
      ...(options.onFire ? { onFire: options.onFire } : {}),
      ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
    });
    closers.push(() => scheduler.close());
    retryLater = (dueAt, work) => scheduler.later(dueAt, work);
    process.env.SCHEDULER_ENDPOINT = scheduler.endpoint;

    const schedulerClient = new SchedulerClient({ endpoint: scheduler.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await schedulerClient.send(new CreateScheduleGroupCommand({ Name: LOCAL_SCHEDULE_GROUP }));
    if (options.recurring !== false) {
      for (const { functionName, input } of triggers.recurring) {
        // With no feed configured the poll has nothing to do; a simulated month would still fire it
        // ~3,000 times, so the twin leaves that schedule out.
        if (functionName === 'intake-feeds' && !Object.values(intake.config.sources).some((s) => s.format === 'ical')) continue;
        await schedulerClient.send(new CreateScheduleCommand(input));
      }
    }

    let webUrl: string | undefined;
    if (options.web !== false) {
      const web = await startWebServer({
        handler: intakeRouter((name, event) => invoke<APIGatewayProxyResultV2>(name, event)),
        ...(options.webPort !== undefined ? { port: options.webPort } : {}),
      });
      webUrl = web.url;
      closers.push(() => web.close());
    }

    const settle = () => poller.drain();
    return {
      clinic,
      clock,
      tableName,
      dynamoEndpoint,
      sesEndpoint,
      ...(webUrl ? { webUrl } : {}),
      scheduler,
      schedulerClient,
      store,
      meter,
      handlers,
      failedInvocations,
      retriedInvocations,
      streamFailures: poller.failures,
      intake,
      invoke,
      settle,
      async advanceTo(instant) {
        await settle();
        await scheduler.advanceTo(typeof instant === 'string' ? new Date(instant) : instant);
      },
      async close() {
        for (const close of closers.reverse()) await close().catch(() => undefined);
        schedulerClient.destroy();
        await Promise.all(started.map((s) => s.stop()));
        useClock(undefined);
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await Promise.all(started.map((s) => s.stop()));
    useClock(undefined);
    throw error;
  }
}
