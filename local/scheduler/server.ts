/**
 * The local EventBridge Scheduler: an HTTP server that `@aws-sdk/client-scheduler` talks to unchanged,
 * holding schedules in memory and firing them at local target handlers by a pluggable clock.
 *
 * - real / accelerated clock: a timer fires whatever is due every `tickMs` of real time.
 * - virtual clock: nothing fires by itself; `advanceTo` moves time from one due instant to the next.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isVirtualClock, type Clock } from '../clock.js';
import { Firing, type DeadLetter, type DuplicateDeliveryRule, type FireInfo, type TargetHandler } from './firing.js';
import { createRequestListener } from './http.js';
import { ScheduleStore, type ScheduleRecord } from './store.js';

export type { DeadLetter, DuplicateDelivery, DuplicateDeliveryRule, FireInfo, TargetHandler } from './firing.js';
export type { ScheduleRecord } from './store.js';
export type { ScheduleDefinition } from './validate.js';

export interface LocalSchedulerOptions {
  readonly clock: Clock;
  /** Local handlers by target ARN; an invocation of any other ARN fails and is retried. */
  readonly targets: Readonly<Record<string, TargetHandler>>;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Region in the ARNs the server hands out. @default 'us-east-1' */
  readonly region?: string;
  /** Real time between firing rounds with a real or accelerated clock. @default 200 */
  readonly tickMs?: number;
  /**
   * Awaited after every firing round (and before the first), so the twin can drain work the handlers
   * caused, such as DynamoDB stream records that create further schedules.
   */
  readonly settle?: () => Promise<void>;
  readonly onFire?: (info: FireInfo) => void;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** @default 'none' */
  readonly duplicateDelivery?: DuplicateDeliveryRule;
}

export interface LocalScheduler {
  /** `http://127.0.0.1:<port>`, for `new SchedulerClient({ endpoint })`. */
  readonly endpoint: string;
  /** Invocations that exhausted their retries, oldest first. */
  readonly deadLetters: readonly DeadLetter[];
  /** API requests answered with an error other than a conflict or a missing schedule (a refused or failed call). */
  readonly refusedRequests: number;
  list(): ScheduleRecord[];
  nextDueAt(): Date | undefined;
  /** Fires everything due by the clock now (settling after each round) until nothing more is due. */
  runDue(): Promise<void>;
  /** Virtual clock only: fires everything due up to `instant` in time order, then sets the clock to it. */
  advanceTo(instant: Date): Promise<void>;
  setDuplicateDelivery(mode: DuplicateDeliveryRule): void;
  /** Runs `work` when the clock reaches `dueAt`, in time order with the firings (a virtual clock waits for it). */
  later(dueAt: Date, work: () => Promise<void>): void;
  close(): Promise<void>;
}

const DEFAULT_TICK_MS = 200;

export async function startLocalScheduler(options: LocalSchedulerOptions): Promise<LocalScheduler> {
  const { clock } = options;
  const store = new ScheduleStore(options.region ?? 'us-east-1', clock);
  const firing = new Firing(store, {
    clock,
    targets: options.targets,
    ...(options.settle ? { settle: options.settle } : {}),
    ...(options.onFire ? { onFire: options.onFire } : {}),
    ...(options.onDeadLetter ? { onDeadLetter: options.onDeadLetter } : {}),
    duplicateDelivery: options.duplicateDelivery ?? 'none',
  });

  let refusedRequests = 0;
  const server = createServer(createRequestListener(store, () => refusedRequests++));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  // With a clock that runs by itself, a timer fires what is due; a round that is still running makes
  // the next tick a no-op rather than a queue. A tick settles only after it fired something, so an
  // idle twin is not asked to drain its streams five times a second.
  const timer = isVirtualClock(clock)
    ? undefined
    : setInterval(() => {
        if (firing.isBusy()) return;
        firing.runDue({ settleFirst: false }).catch((error: unknown) => {
          console.error('Local Scheduler: a firing round failed', error);
        });
      }, options.tickMs ?? DEFAULT_TICK_MS);
  timer?.unref();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    deadLetters: firing.deadLetters,
    get refusedRequests() {
      return refusedRequests;
    },
    list: () => store.all().map(toRecord),
    nextDueAt: () => firing.nextDueAt(),
    runDue: () => firing.runDue(),
    advanceTo(instant) {
      if (!isVirtualClock(clock)) {
        return Promise.reject(new Error(`advanceTo needs a virtual clock; this scheduler runs on a ${clock.mode} clock`));
      }
      return firing.advanceTo(clock, instant);
    },
    setDuplicateDelivery(mode) {
      firing.duplicateDelivery = mode;
    },
    later: (dueAt, work) => firing.later(dueAt, work),
    async close() {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function toRecord(record: ScheduleRecord): ScheduleRecord {
  return {
    name: record.name,
    groupName: record.groupName,
    arn: record.arn,
    definition: record.definition,
    creationDate: record.creationDate,
    lastModificationDate: record.lastModificationDate,
    nextFireAt: record.nextFireAt,
  };
}
