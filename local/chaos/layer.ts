/**
 * The fault layer of a chaos simulation: the faults of profiles.ts, injected into the twin's real
 * path, never into a use case.
 *
 * - duplicate delivery: the local Scheduler delivers a firing twice, one copy after the other or
 *   both at once, into the real target (its duplicate-delivery rule);
 * - SES throttling, 5xx, no answer, and dispatch dying after SES kept the email: the SES fault
 *   proxy (ses-proxy.ts) in front of SES v2 local; a throttled or 5xx call is answered so for all
 *   of the SDK's attempts, so dispatch's own retry schedule takes over;
 * - dispatch dying: the invocation of dispatch that sent the email is ended with an error by the
 *   Lambda layer of the twin (`invocationFault`) and its answer from SES never arrives, so nothing
 *   after the send runs; Lambda's retries then find the claim;
 * - DynamoDB Local stopped and started again (its data directory kept) around an invocation of
 *   dispatch, so that invocation and any other in the same firing round meet the outage;
 * - malformed items written straight to the table, for the stream to carry into sync-schedules;
 * - a session rescheduled while its reminder is in flight (claimed, on its way to SES).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dispatchPayloadSchema } from '../../shared/domain/dispatch-payload.js';
import { messageName } from '../../shared/domain/message.js';
import { SES_MAX_ATTEMPTS } from '../../shared/adapters/ses/retry.js';
import { rescheduleSession } from '../../shared/use-cases/manage-plans.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../services.js';
import type { InvocationFault, Twin } from '../twin.js';
import type { DuplicateDeliveryRule } from '../scheduler/server.js';
import { FAULTS, type ChaosSettings, type Fault, type FaultSpec } from './profiles.js';
import { seededRandom } from './random.js';
import type { SendEmailCall, SesFault, SesFaultRules } from './ses-proxy.js';

/** A service the layer can stop and start again (DynamoDB Local on a data directory). */
export interface Restartable {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** The error an invocation ended by the layer fails with, as Lambda reports a crashed runtime. */
export class InvocationDiedError extends Error {
  override readonly name = 'InvocationDiedError';
}

export interface ChaosLayer {
  readonly settings: ChaosSettings;
  readonly invocationFault: InvocationFault;
  readonly duplicateDelivery: DuplicateDeliveryRule;
  readonly sesRules: SesFaultRules;
  /** Whether the run needs the SES proxy, and DynamoDB Local on a data directory it may restart. */
  readonly needsSesProxy: boolean;
  readonly needsRestartableDynamo: boolean;
  /** Connects the layer to the running twin (its clock, table and Scheduler). */
  attach(twin: Twin, dynamo?: Restartable): void;
  /** How many times each fault was injected. */
  readonly injected: Record<Fault, number>;
}

const SES_FAULTS: readonly Fault[] = ['ses-throttle', 'ses-5xx', 'ses-no-answer', 'dispatch-crash', 'reschedule-in-flight'];

/** The malformed items the stream carries to sync-schedules, in turn: each breaks one rule of its type. */
const MALFORMED: ReadonlyArray<(n: number) => Record<string, unknown>> = [
  (n) => ({
    pk: `CLIENT#chaos-${n}`,
    sk: `SESSION#chaos-s-${n}`,
    type: 'session',
    id: `chaos-s-${n}`,
    planId: `chaos-p-${n}`,
    clientId: `chaos-${n}`,
    start: 'not an instant',
    durationMinutes: 60,
    status: 'booked',
    version: 1,
  }),
  (n) => ({ pk: `CLIENT#chaos-${n}`, sk: `SESSION#chaos-s-${n}`, type: 'session', id: `chaos-s-${n}` }),
  (n) => ({
    pk: `CLIENT#chaos-${n}`,
    sk: `PLAN#chaos-p-${n}`,
    type: 'plan',
    id: `chaos-p-${n}`,
    clientId: `chaos-${n}`,
    phases: 'every week',
    reminderOffsets: [42],
    status: 'active',
  }),
  (n) => ({ pk: `CLIENT#chaos-${n}`, sk: 'PROFILE', type: 'client', id: `chaos-${n}`, name: 'Chaos', email: 'not an address', timezone: 'Mars/Olympus_Mons' }),
];

const REMINDER_NAME = /^rm\.([A-Za-z0-9_-]+)\.[^.]+\.v(\d+)$/;

export function createChaosLayer(settings: ChaosSettings, window: { readonly from: string; readonly until: string }): ChaosLayer {
  const random = seededRandom(settings.seed);
  const injected = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
  const specs = (fault: Fault) => settings.faults.filter((s) => s.fault === fault);
  let twin: Twin | undefined;
  let dynamo: Restartable | undefined;

  const inWindow = (spec: FaultSpec, now: number) => now >= Date.parse(spec.from ?? window.from) && now <= Date.parse(spec.until ?? window.until);
  /** One draw for `fault` now: true when one of its specs is in its window and the draw falls under its rate. */
  const strikes = (fault: Fault): boolean => {
    const now = twin?.clock.now().getTime();
    if (now === undefined) return false;
    const rate = Math.max(
      0,
      ...specs(fault)
        .filter((s) => inWindow(s, now))
        .map((s) => s.rate ?? 0),
    );
    if (rate === 0 || random() >= rate) return false;
    injected[fault] += 1;
    return true;
  };
  /** The instants a counted fault happens at: `count` spread evenly over its window. */
  const instants = (fault: Fault): number[] =>
    specs(fault)
      .flatMap((spec) => {
        const from = Date.parse(spec.from ?? window.from);
        const until = Date.parse(spec.until ?? window.until);
        const count = spec.count ?? 1;
        return Array.from({ length: count }, (_, i) => from + ((i + 1) * (until - from)) / (count + 1));
      })
      .sort((a, b) => a - b);
  const restarts = instants('dynamodb-restart');

  // Invocations of dispatch in flight, by message name, each with the way to end it.
  const inFlight = new Map<string, Set<(error: Error) => void>>();
  const guarded = async (message: string | undefined, run: () => Promise<unknown>): Promise<unknown> => {
    if (message === undefined) return run();
    let kill: (error: Error) => void = () => undefined;
    const died = new Promise<never>((_, reject) => (kill = reject));
    const killers = inFlight.get(message) ?? new Set();
    killers.add(kill);
    inFlight.set(message, killers);
    const running = run();
    // Once ended, the invocation's own continuation never resumes (SES's answer is held back);
    // should it fail at the end of the run, nothing is listening.
    running.catch(() => undefined);
    try {
      return await Promise.race([running, died]);
    } finally {
      killers.delete(kill);
      if (killers.size === 0) inFlight.delete(message);
    }
  };

  const invocationFault: InvocationFault = async (name, payload, run) => {
    if (name !== 'dispatch') return run();
    const parsed = dispatchPayloadSchema.safeParse(payload);
    const message = parsed.success ? messageName(parsed.data.message) : undefined;
    const now = twin?.clock.now().getTime() ?? 0;
    if (dynamo && restarts.length > 0 && now >= restarts[0]!) {
      restarts.shift();
      injected['dynamodb-restart'] += 1;
      const service = dynamo;
      await service.stop();
      try {
        return await guarded(message, run);
      } finally {
        await service.start();
      }
    }
    return guarded(message, run);
  };

  const duplicateDelivery: DuplicateDeliveryRule = () =>
    strikes('duplicate-concurrent') ? 'concurrent' : strikes('duplicate-sequential') ? 'sequential' : 'none';

  // A throttled or 5xx call stays so for every attempt the SDK makes, so dispatch's own retry takes over.
  const bursts = new Map<string, { fault: SesFault; left: number }>();
  const rescheduled = new Set<string>();
  const sesRules: SesFaultRules = {
    async beforeSend(call: SendEmailCall) {
      const match = call.kind === 'reminder' && call.name ? REMINDER_NAME.exec(call.name) : null;
      if (!match || !twin) return;
      const [, sessionId, version] = match as unknown as [string, string, string];
      if (rescheduled.has(sessionId) || !strikes('reschedule-in-flight')) return;
      rescheduled.add(sessionId);
      const session = await twin.store.findSession(sessionId);
      if (session?.status !== 'booked' || String(session.version) !== version) return;
      // A day later: every reminder of the new time is still ahead, and the plan's cadence is not crowded.
      await rescheduleSession(twin.store, sessionId, new Date(Date.parse(session.start) + 86_400_000).toISOString()).catch(() => {
        injected['reschedule-in-flight'] -= 1;
      });
    },
    decide(call) {
      const key = call.name ?? '(untagged)';
      const burst = bursts.get(key);
      if (burst && burst.left > 0) {
        burst.left -= 1;
        return burst.fault;
      }
      bursts.delete(key);
      if (call.name && inFlight.has(call.name) && strikes('dispatch-crash')) return 'crash';
      for (const [fault, answer] of [
        ['ses-throttle', 'throttle'],
        ['ses-5xx', '5xx'],
      ] as const) {
        if (strikes(fault)) {
          bursts.set(key, { fault: answer, left: SES_MAX_ATTEMPTS - 1 });
          return answer;
        }
      }
      return strikes('ses-no-answer') ? 'no-answer' : 'none';
    },
    crashed(call) {
      if (!call.name) return;
      for (const kill of inFlight.get(call.name) ?? [])
        kill(new InvocationDiedError(`dispatch died after SES accepted ${call.name} and before the ledger recorded it`));
    },
  };

  return {
    settings,
    invocationFault,
    duplicateDelivery,
    sesRules,
    needsSesProxy: settings.faults.some((s) => SES_FAULTS.includes(s.fault)),
    needsRestartableDynamo: settings.faults.some((s) => s.fault === 'dynamodb-restart'),
    injected,
    attach(running, restartable) {
      twin = running;
      dynamo = restartable;
      running.scheduler.setDuplicateDelivery(duplicateDelivery);
      const malformed = instants('malformed-item');
      if (malformed.length === 0) return;
      const documents = DynamoDBDocumentClient.from(
        new DynamoDBClient({ endpoint: running.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      );
      malformed.forEach((at, n) => {
        running.scheduler.later(new Date(at), async () => {
          await documents.send(
            new PutCommand({ TableName: running.tableName, Item: { ...MALFORMED[n % MALFORMED.length]!(n), updatedAt: new Date(at).toISOString() } }),
          );
          injected['malformed-item'] += 1;
        });
      });
    },
  };
}
