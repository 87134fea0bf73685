/**
 * The topology manifest: every function named once, with its entry, trigger, environment and
 * the permissions it needs. The CDK stateless stack and the local twin are both built from
 * this list, so what runs on a laptop is what is deployed. Pure data: no CDK imports here.
 */
import type { EnvName } from './env.js';
import type { INDEXES } from '../adapters/dynamodb/table-definition.js';

export type FunctionName = 'sync-schedules' | 'dispatch' | 'reconcile' | 'summary' | 'web' | 'ses-events' | 'intake' | 'intake-feeds';

export type Trigger =
  /** The table's DynamoDB stream, with partial batch failure reporting. */
  | {
      readonly kind: 'table-stream';
      readonly batchSize: number;
      readonly maxRetries: number;
      /** Only changes to items of these `type`s invoke the function (Lambda event filtering). */
      readonly itemTypes: readonly string[];
    }
  /** The target of the one-time message schedules. */
  | { readonly kind: 'message-schedules' }
  /** A recurring schedule in Keepwell's schedule group. */
  | { readonly kind: 'recurring'; readonly scheduleName: string; readonly expression: string; readonly timezone: string }
  /** The public HTTP API for the client pages. */
  | { readonly kind: 'http-api' }
  /** SES configuration-set events, from the topic SES publishes them to. */
  | { readonly kind: 'ses-events' }
  /** One route of the HTTP API, ahead of the pages' catch-all (`path` in API Gateway's `{param}` syntax). */
  | { readonly kind: 'http-route'; readonly method: 'POST'; readonly path: string };

export type Permission =
  /** The item actions and indexes the function's `table` entry lists, and nothing else. */
  | 'table'
  /** Create, update, get, delete and list schedules in Keepwell's group, and pass the Scheduler role. */
  | 'schedules:manage'
  | 'ses:send'
  | 'token-key:read'
  /** Read the previous link-token key, which still verifies links issued before a rotation (the pages only). */
  | 'token-previous-key:read'
  /** Read the intake sources' webhook secrets: exactly the SSM parameters the stage config names. */
  | 'intake-secrets:read'
  /** Send its own dead letters (ids only) to the failed-invocations queue. */
  | 'dead-letters:send';

/**
 * DynamoDB item actions a function's code may call (TransactWriteItems is authorized as the Put,
 * Update, Delete and ConditionCheck it holds; TransactGetItems as GetItem). Scan is not one of them.
 */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'ConditionCheckItem';

/** Exactly what a function does with the table: the actions its store calls, and the indexes it queries. */
export interface TableAccess {
  readonly actions: readonly TableAction[];
  /** Indexes (table-definition.ts INDEXES) the function queries; none: only the table's own keys. */
  readonly indexes: readonly (keyof typeof INDEXES)[];
}

export interface FunctionSpec {
  readonly name: FunctionName;
  readonly entry: string;
  readonly description: string;
  readonly trigger: Trigger;
  readonly environment: readonly EnvName[];
  readonly permissions: readonly Permission[];
  /** With the `table` permission: which actions and indexes, from the store methods its use cases call. */
  readonly table?: TableAccess;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Package files the code reads at run time, shipped beside the bundle (by module path). */
  readonly bundleFiles?: readonly string[];
}

const TABLE = ['TABLE_NAME'] as const;
const SCHEDULES = ['SCHEDULE_GROUP', 'SCHEDULER_ROLE_ARN', 'DISPATCH_FUNCTION_ARN', 'SCHEDULE_DLQ_ARN'] as const;
const MAIL = ['CLINIC_CONFIG', 'CONFIGURATION_SET'] as const;

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    name: 'sync-schedules',
    entry: 'functions/sync-schedules/handler.ts',
    description: 'Keeps the one-time message schedules in line with sessions, plans and clients',
    trigger: { kind: 'table-stream', batchSize: 50, maxRetries: 5, itemTypes: ['session', 'plan', 'client'] },
    environment: [...TABLE, ...SCHEDULES, 'CLINIC_CONFIG'],
    // Writes the plan's next maintenance action and records reminders a late booking made moot.
    permissions: ['table', 'schedules:manage'],
    // getClientBundle (Query of the client's partition), ledger get / markSkipped (Get, Put),
    // clearSkip (Delete of a lifted skip), setMaintenanceMark (Update).
    table: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], indexes: [] },
    memoryMb: 512,
    timeoutSeconds: 60,
  },
  {
    name: 'dispatch',
    entry: 'functions/dispatch/handler.ts',
    description: 'Builds and sends one reminder, check-in, nudge, booking email or intake questionnaire, exactly once',
    trigger: { kind: 'message-schedules' },
    environment: [...TABLE, ...MAIL, ...SCHEDULES, 'TOKEN_KEY_PARAMETER'],
    permissions: ['table', 'ses:send', 'token-key:read', 'schedules:manage'],
    // getMessageContext (BatchGet), ledger get / claim / holdDayCap / markSkipped (Get, Put),
    // markSent / markFailed / release / settleSkipped (Update).
    table: { actions: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'], indexes: [] },
    memoryMb: 512,
    timeoutSeconds: 30,
  },
  {
    name: 'reconcile',
    entry: 'functions/reconcile/handler.ts',
    description: 'Heals missing schedules in the look-ahead window and finds maintenance due',
    trigger: { kind: 'recurring', scheduleName: 'keepwell-reconcile', expression: 'rate(1 hour)', timezone: 'UTC' },
    environment: [...TABLE, ...SCHEDULES, 'CLINIC_CONFIG'],
    permissions: ['table', 'schedules:manage'],
    // sessionsStartingBetween (byDay), plansNeedingMaintenanceAction (maintenance), getClientBundle
    // (Query), getMessageContext (BatchGet), ledger get (Get), setMaintenanceMark (Update).
    table: { actions: ['GetItem', 'BatchGetItem', 'Query', 'UpdateItem'], indexes: ['byDay', 'maintenance'] },
    memoryMb: 512,
    timeoutSeconds: 300,
  },
  {
    name: 'summary',
    entry: 'functions/summary/handler.ts',
    description: "Sends each therapist's follow-up summary at their local hour",
    trigger: { kind: 'recurring', scheduleName: 'keepwell-summary', expression: 'cron(0/15 * * * ? *)', timezone: 'UTC' },
    // The token key signs each client row's "Adjust plan" link.
    environment: [...TABLE, ...MAIL, 'TOKEN_KEY_PARAMETER'],
    permissions: ['table', 'ses:send', 'token-key:read'],
    // listTherapists (byDay), therapistActivity / therapistPlans (byTherapist), getClientBundle
    // (Query), getClient and ledger get (Get), claim (Put), markSent / markFailed / release /
    // settleSkipped (Update).
    table: { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem'], indexes: ['byDay', 'byTherapist'] },
    memoryMb: 1024,
    timeoutSeconds: 300,
    // The trend charts' rasteriser (shared/email/chart.ts).
    bundleFiles: ['@resvg/resvg-wasm/index_bg.wasm'],
  },
  {
    name: 'web',
    entry: 'functions/web/handler.ts',
    description: "Check-in and intake forms, confirm, reschedule-request and unsubscribe pages, the therapist's plan-adjustment page",
    trigger: { kind: 'http-api' },
    environment: [...TABLE, ...MAIL, 'TOKEN_KEY_PARAMETER', 'TOKEN_PREVIOUS_KEY_PARAMETER'],
    permissions: ['table', 'ses:send', 'token-key:read', 'token-previous-key:read'],
    // getClient / getTherapist / isConsumed (Get), getMessageContext (BatchGet), getClientBundle
    // (Query), consume and the check-in, request and alert claims (Put), confirmations,
    // preferences, the intake questionnaire's baseline and ledger settles (Update).
    table: { actions: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem'], indexes: [] },
    memoryMb: 512,
    timeoutSeconds: 10,
  },
  {
    name: 'ses-events',
    entry: 'functions/ses-events/handler.ts',
    description: 'Suppresses bounced and complaining addresses and records deliveries',
    trigger: { kind: 'ses-events' },
    // A failed event leaves only its ids in the failed-invocations queue (handle-ses-event.ts deadLetterOf).
    environment: [...TABLE, 'FAILED_INVOCATIONS_URL'],
    permissions: ['table', 'dead-letters:send'],
    // suppressByEmail (Get of the address lookup, Update of the client), recordDelivery (Update).
    table: { actions: ['GetItem', 'UpdateItem'], indexes: [] },
    memoryMb: 256,
    timeoutSeconds: 30,
  },
  {
    name: 'intake',
    entry: 'functions/intake/handler.ts',
    description: "Turns booking systems' signed webhooks into bookings, moves and cancellations",
    trigger: { kind: 'http-route', method: 'POST', path: '/intake/{source}' },
    environment: [...TABLE, 'CLINIC_CONFIG', 'INTAKE_CONFIG'],
    permissions: ['table', 'intake-secrets:read'],
    // loadIntakeState (BatchGet, Query of the client's partition), commitIntake (a transaction
    // of Puts, and a ConditionCheck that a new client's address has no erasure tombstone),
    // recordIntakeDelivery (Put).
    table: { actions: ['BatchGetItem', 'Query', 'PutItem', 'ConditionCheckItem'], indexes: [] },
    memoryMb: 512,
    timeoutSeconds: 10,
  },
  {
    name: 'intake-feeds',
    entry: 'functions/intake-feeds/handler.ts',
    description: "Polls the clinic's iCalendar feeds and applies new, moved and cancelled bookings",
    trigger: { kind: 'recurring', scheduleName: 'keepwell-intake-feeds', expression: 'rate(15 minutes)', timezone: 'UTC' },
    environment: [...TABLE, 'CLINIC_CONFIG', 'INTAKE_CONFIG'],
    permissions: ['table'],
    // getFeedState (Get), putFeedState (Put), and intake's loadIntakeState / commitIntake /
    // recordIntakeDelivery (BatchGet, Query, Put, ConditionCheck).
    table: { actions: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'ConditionCheckItem'], indexes: [] },
    memoryMb: 512,
    timeoutSeconds: 120,
  },
];

export function functionSpec(name: FunctionName): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.name === name);
  if (!spec) throw new Error(`no function named "${name}" in the topology manifest`);
  return spec;
}

/** How Scheduler retries delivering a recurring sweep: a missed sweep is picked up by the next one. */
export const RECURRING_RETRY_POLICY = { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } as const;

/** Lambda's own retries of a failed asynchronous invocation before its on-failure destination. */
export const LAMBDA_ASYNC_RETRY_ATTEMPTS = 2;

/** What a recurring schedule passes its function: the Scheduler's scheduled time, and reconcile's window. */
export function recurringInput(name: FunctionName, settings: { readonly reconcileLookAheadHours: number }): Record<string, unknown> {
  return {
    scheduledTime: '<aws.scheduler.scheduled-time>',
    ...(name === 'reconcile' ? { lookAheadHours: settings.reconcileLookAheadHours } : {}),
  };
}

/**
 * Lambda event-filter patterns for a table-stream trigger: a record passes when its new or its old
 * image (a delete has only the old) is of one of the item types. The stack hands them to the event
 * source mapping; the twin's stream poller applies the same patterns.
 */
export function streamFilterPatterns(itemTypes: readonly string[]): Array<Record<string, unknown>> {
  return [{ dynamodb: { NewImage: { type: { S: [...itemTypes] } } } }, { dynamodb: { OldImage: { type: { S: [...itemTypes] } } } }];
}

/** The trigger of one kind. */
export type TriggerOf<K extends Trigger['kind']> = Extract<Trigger, { readonly kind: K }>;

/** What to make of each kind of trigger; a new kind fails to compile until every walker handles it. */
export type TriggerVisitor<R> = { readonly [K in Trigger['kind']]: (spec: FunctionSpec, trigger: TriggerOf<K>) => R };

/**
 * The one walk over the manifest by trigger kind: the CDK stack connects each function to its
 * trigger with it, and the twin runs each function the same way with it, from the same settings
 * (streamSettings, recurringSchedule below), so the two cannot drift apart.
 */
export function walkTriggers<R>(visitor: TriggerVisitor<R>, functions: readonly FunctionSpec[] = FUNCTIONS): R[] {
  return functions.map((spec) => {
    const trigger = spec.trigger;
    switch (trigger.kind) {
      case 'table-stream':
        return visitor['table-stream'](spec, trigger);
      case 'message-schedules':
        return visitor['message-schedules'](spec, trigger);
      case 'recurring':
        return visitor.recurring(spec, trigger);
      case 'http-api':
        return visitor['http-api'](spec, trigger);
      case 'ses-events':
        return visitor['ses-events'](spec, trigger);
      case 'http-route':
        return visitor['http-route'](spec, trigger);
      default: {
        const unknown: never = trigger;
        throw new Error(`function "${spec.name}": unknown trigger ${JSON.stringify(unknown)}`);
      }
    }
  });
}

/** How a table-stream trigger reads the stream: the deployed event source mapping, and the twin's stream poller. */
export interface StreamSettings {
  /** Records per invocation at most. */
  readonly batchSize: number;
  /** Retries of a failing batch before its records go to the on-failure destination. */
  readonly maxRetries: number;
  /** Lambda event-filter patterns: only records that match one invoke the function. */
  readonly filterPatterns: Array<Record<string, unknown>>;
}

export function streamSettings(trigger: TriggerOf<'table-stream'>): StreamSettings {
  return { batchSize: trigger.batchSize, maxRetries: trigger.maxRetries, filterPatterns: streamFilterPatterns(trigger.itemTypes) };
}

/** A recurring schedule as both the stack and the twin create it, in the Scheduler API's terms. */
export interface RecurringSchedule {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly flexibleTimeWindow: { readonly Mode: 'OFF' };
  readonly retryPolicy: typeof RECURRING_RETRY_POLICY;
  readonly input: Record<string, unknown>;
}

export function recurringSchedule(
  spec: FunctionSpec,
  trigger: TriggerOf<'recurring'>,
  settings: { readonly reconcileLookAheadHours: number },
): RecurringSchedule {
  return {
    name: trigger.scheduleName,
    expression: trigger.expression,
    timezone: trigger.timezone,
    flexibleTimeWindow: { Mode: 'OFF' },
    retryPolicy: RECURRING_RETRY_POLICY,
    input: recurringInput(spec.name, settings),
  };
}
