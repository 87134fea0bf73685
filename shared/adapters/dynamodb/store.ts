/**
 * The ClinicStore, Ledger and TokenStore ports on one DynamoDB table (layout in
 * table-definition.ts). No Scan anywhere: every read is a GetItem, BatchGetItem or a Query on a
 * partition whose size follows the question asked (one client, one day, one therapist, one month).
 */
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { CheckInAnswers, Client, Plan, Retention, Session, Therapist, Category } from '../../domain/model.js';
import { CATEGORIES, scoresOf } from '../../domain/model.js';
import type { MessageKind } from '../../domain/message.js';
import { numberSessions } from '../../domain/schedule-rules.js';
import { earlierBookingsOf } from '../../domain/booking-emails.js';
import type {
  ClaimRequest,
  ClaimResult,
  ClientBundle,
  ClinicStore,
  Ledger,
  LedgerEntry,
  LedgerStatus,
  MaintenanceMark,
  MessageContext,
  RescheduleRequest,
  StoredCheckIn,
  StoredPlan,
  StoredSession,
  TherapistActivity,
  TokenStore,
} from '../../ports/store.js';
import type { PlanChangeResult } from '../../ports/store.js';
import type { PlanChange } from '../../domain/plan-change.js';
import { EmailInUseError, NotFoundError, LedgerConflictError } from '../../domain/errors.js';
import { sameEmail } from '../../domain/email-address.js';
import type { CapacityMeter } from './client.js';
import { INDEXES } from './table-definition.js';
import { KEY_ATTRIBUTES, keys } from './keys.js';

type Item = Record<string, unknown>;

const utcDate = (instant: string) => instant.slice(0, 10);
const utcMonth = (instant: string) => instant.slice(0, 7);

function strip<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const copy: Item = { ...item };
  for (const key of KEY_ATTRIBUTES) delete copy[key];
  return copy as T;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

function transactionConditionFailed(error: unknown): boolean {
  return error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}

/** A ledger entry a claim (or a skip decided without one) may replace: nothing, a released claim, a plain skip. */
const OPEN_ENTRY = 'attribute_not_exists(pk) OR #s = :released OR (#s = :skipped AND attribute_not_exists(deferredTo))';
const OPEN_ENTRY_VALUES = { ':released': 'released', ':skipped': 'skipped' };

/** The positions of a cancelled transaction's items whose condition failed; undefined for any other error. */
function conditionFailuresOf(error: unknown): Set<number> | undefined {
  if (!transactionConditionFailed(error)) return undefined;
  const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
  return new Set(reasons.flatMap((r, i) => (r.Code === 'ConditionalCheckFailed' ? [i] : [])));
}

export interface DynamoStoreOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  /** Counts requests and consumed capacity; tests and benchmarks read it. */
  readonly meter?: CapacityMeter;
  /** Clock for bookkeeping timestamps. */
  readonly now?: () => Date;
  /** How long check-ins, requests and ledger entries are kept (TTL); absent: no expiry. */
  readonly retention?: Retention;
}

/** The TTL attribute (epoch seconds) of an item kept `days` from `from`; nothing without a retention. */
function expiryAfter(from: string, days: number | undefined): { expiresAt?: number } {
  return days === undefined ? {} : { expiresAt: Math.floor(Date.parse(from) / 1000) + days * 86_400 };
}

/**
 * The items a session write puts: the session itself (keeping what was stored on it before) and
 * every other session of the plan whose numbering it changes. Shared by saveSession and intake.
 */
export function sessionWrites(plan: StoredPlan | Plan, clientId: string, sessions: readonly StoredSession[], session: Session, stamp: string): Item[] {
  const others = sessions.filter((s) => s.planId === plan.id && s.id !== session.id);
  const numbering = numberSessions(plan, [...others, session]);
  const toItem = (s: Session, previous?: StoredSession): Item => {
    const n = numbering.get(s.id);
    const earlier = earlierBookingsOf(previous, s);
    return {
      ...previous,
      ...s,
      ...(earlier ? { earlier } : {}),
      clientId,
      therapistId: plan.therapistId,
      number: n?.number,
      inPhase: n?.inPhase,
      phase: n?.phase,
      ofPhase: n?.ofPhase,
      maintenance: n?.maintenance,
      ...keys.session(clientId, s.id),
      type: 'session',
      gsi1pk: keys.sessionsDay(utcDate(s.start)),
      gsi1sk: `${s.start}#${s.id}`,
      gsi2pk: keys.therapistIndex(plan.therapistId),
      gsi2sk: `SESSION#${s.start}#${s.id}`,
      updatedAt: stamp,
    };
  };
  const previous = sessions.find((s) => s.id === session.id);
  const writes: Item[] = [toItem(session, previous)];
  for (const other of others) {
    const n = numbering.get(other.id);
    if (n && (n.number !== other.number || n.inPhase !== other.inPhase || n.phase !== other.phase || n.ofPhase !== other.ofPhase))
      writes.push(toItem(other, other));
  }
  return writes;
}

export class DynamoStore implements ClinicStore, Ledger, TokenStore {
  private readonly table: string;
  private readonly db: DynamoDBDocumentClient;
  private readonly meter: CapacityMeter | undefined;
  private readonly now: () => Date;
  private readonly retention: Retention | undefined;

  constructor(options: DynamoStoreOptions) {
    this.table = options.tableName;
    this.db = options.client;
    this.meter = options.meter;
    this.now = options.now ?? (() => new Date());
    this.retention = options.retention;
  }

  // ---------------------------------------------------------------- plumbing

  private async send<T>(operation: string, command: { input: object }): Promise<T> {
    (command.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
    // One generic path for every command keeps metering in one place.
    const output = (await this.db.send(command as never)) as unknown as T & {
      ConsumedCapacity?:
        | { ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }
        | Array<{ ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }>;
      Items?: unknown[];
      Item?: unknown;
      Responses?: Record<string, unknown[]>;
    };
    if (this.meter) {
      this.meter.requests += 1;
      this.meter.byOperation[operation] = (this.meter.byOperation[operation] ?? 0) + 1;
      const consumed = output.ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const isRead = /Get|Query/.test(operation);
        const units = c.CapacityUnits ?? (isRead ? c.ReadCapacityUnits : c.WriteCapacityUnits) ?? 0;
        if (isRead) this.meter.readUnits += units;
        else this.meter.writeUnits += units;
      }
      const responses = output.Responses ? Object.values(output.Responses).flat().length : 0;
      this.meter.itemsRead += (output.Items?.length ?? 0) + (output.Item ? 1 : 0) + responses;
    }
    return output;
  }

  private async queryAll(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send<{ Items?: Item[]; LastEvaluatedKey?: Record<string, unknown> }>(
        'Query',
        new QueryCommand({ TableName: this.table, ...input, ExclusiveStartKey: start }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async getItem(key: { pk: string; sk: string }, consistent = false): Promise<Item | undefined> {
    const out = await this.send<{ Item?: Item }>('GetItem', new GetCommand({ TableName: this.table, Key: key, ConsistentRead: consistent }));
    return out.Item;
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  // ---------------------------------------------------------------- writers

  async putTherapist(therapist: Therapist): Promise<void> {
    await this.send(
      'PutItem',
      new PutCommand({
        TableName: this.table,
        Item: { ...therapist, ...keys.therapist(therapist.id), type: 'therapist', gsi1pk: keys.therapistsList, gsi1sk: therapist.id, updatedAt: this.stamp() },
      }),
    );
  }

  async putClient(client: Client, options: { expectNew?: boolean } = {}): Promise<void> {
    const previous = options.expectNew ? undefined : strip<Client>(await this.getItem(keys.client(client.id), true));
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.table,
          Item: { ...client, ...keys.client(client.id), type: 'client', updatedAt: this.stamp() },
          ...(options.expectNew ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
        },
      },
      {
        // One address, one client: the lookup item may be taken only by its own client.
        Put: {
          TableName: this.table,
          Item: { ...keys.email(client.email), type: 'email', clientId: client.id },
          ConditionExpression: 'attribute_not_exists(pk) OR clientId = :client',
          ExpressionAttributeValues: { ':client': client.id },
        },
      },
    ];
    if (previous && !sameEmail(previous.email, client.email)) {
      items.push({ Delete: { TableName: this.table, Key: keys.email(previous.email) } });
    }
    try {
      await this.send('TransactWriteItems', new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (conditionFailuresOf(error)?.has(1)) {
        const heldBy = await this.findClientIdByEmail(client.email);
        throw new EmailInUseError(client.id, heldBy, { cause: error });
      }
      throw error;
    }
  }

  async putPlan(plan: Plan): Promise<void> {
    const existing = strip<StoredPlan>(await this.getItem(keys.plan(plan.clientId, plan.id), true));
    const item: Item = {
      ...existing,
      ...plan,
      ...keys.plan(plan.clientId, plan.id),
      type: 'plan',
      gsi2pk: keys.therapistIndex(plan.therapistId),
      gsi2sk: `PLAN#${plan.id}`,
      updatedAt: this.stamp(),
    };
    if (existing?.maintenanceActionAt && plan.status === 'active') {
      item.gsi3pk = keys.maintenanceMonth(utcMonth(existing.maintenanceActionAt));
      item.gsi3sk = `${existing.maintenanceActionAt}#${plan.id}`;
    }
    await this.send(
      'TransactWriteItems',
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: item } },
          { Put: { TableName: this.table, Item: { ...keys.planRef(plan.id), type: 'ref', clientId: plan.clientId } } },
        ],
      }),
    );
  }

  async saveSession(session: Session): Promise<StoredSession> {
    const ref = await this.getItem(keys.planRef(session.planId), true);
    const clientId = ref?.clientId as string | undefined;
    if (!clientId) throw new NotFoundError('plan', session.planId);
    const bundle = await this.getClientBundle(clientId, true);
    const plan = bundle?.plans.find((p) => p.id === session.planId);
    if (!bundle || !plan) throw new NotFoundError('plan', session.planId);

    const writes = sessionWrites(plan, clientId, bundle.sessions, session, this.stamp());
    // A transaction holds at most 100 items; a plan renumbering beyond that is split, session first.
    const chunks: Item[][] = [];
    for (let i = 0; i < writes.length; i += 98) chunks.push(writes.slice(i, i + 98));
    for (const [index, chunk] of chunks.entries()) {
      const transactItems: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = chunk.map((Item) => ({
        Put: { TableName: this.table, Item },
      }));
      if (index === 0) transactItems.push({ Put: { TableName: this.table, Item: { ...keys.sessionRef(session.id), type: 'ref', clientId } } });
      await this.send('TransactWriteItems', new TransactWriteCommand({ TransactItems: transactItems }));
    }
    return strip<StoredSession>(writes[0])!;
  }

  async updatePlanStatus(clientId: string, planId: string, status: Plan['status']): Promise<StoredPlan> {
    const remove = status === 'active' ? '' : ' REMOVE gsi3pk, gsi3sk';
    try {
      const out = await this.send<{ Attributes?: Item }>(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.plan(clientId, planId),
          UpdateExpression: `SET #status = :status, updatedAt = :now${remove}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':now': this.stamp() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<StoredPlan>(out.Attributes)!;
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('plan', planId);
      throw error;
    }
  }

  async recordPlanChange(change: PlanChange, phaseIndex: number): Promise<PlanChangeResult> {
    const { before, after } = change;
    // Leaving active drops the plan from the maintenance index, as updatePlanStatus does; a resume's
    // index keys are rewritten by sync-schedules, which sees the status move on the stream.
    const remove = after.status === 'active' ? '' : ' REMOVE gsi3pk, gsi3sk';
    const entry: Item = {
      ...change,
      ...keys.planChange(change.clientId, change.planId, change.id),
      type: 'plan-change',
      gsi2pk: keys.therapistIndex(change.therapistId),
      gsi2sk: `PLANLOG#${change.at}#${change.planId}#${change.id}`,
    };
    try {
      await this.send(
        'TransactWriteItems',
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.plan(change.clientId, change.planId),
                UpdateExpression: `SET #status = :status, #phases[${phaseIndex}].#every = :every, updatedAt = :now${remove}`,
                ConditionExpression: 'attribute_exists(pk) AND #status = :was AND #phases[' + phaseIndex + '].#every = :wasEvery',
                ExpressionAttributeNames: { '#status': 'status', '#phases': 'phases', '#every': 'everyDays' },
                ExpressionAttributeValues: {
                  ':status': after.status,
                  ':every': after.maintenanceEveryDays,
                  ':was': before.status,
                  ':wasEvery': before.maintenanceEveryDays,
                  ':now': this.stamp(),
                },
              },
            },
            { Put: { TableName: this.table, Item: entry, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
    } catch (error) {
      const failed = conditionFailuresOf(error);
      if (failed?.has(1)) return { status: 'duplicate' };
      if (failed?.has(0)) return { status: 'stale' };
      throw error;
    }
    const plan = strip<StoredPlan>(await this.getItem(keys.plan(change.clientId, change.planId), true));
    if (!plan) throw new NotFoundError('plan', change.planId);
    return { status: 'recorded', plan };
  }

  async setPreference(clientId: string, category: Category | 'all', subscribed: boolean): Promise<Client> {
    const categories = category === 'all' ? CATEGORIES : [category];
    const names: Record<string, string> = {};
    const sets = categories.map((c, i) => {
      names[`#c${i}`] = c;
      return `preferences.#c${i} = :v`;
    });
    try {
      const out = await this.send<{ Attributes?: Item }>(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.client(clientId),
          UpdateExpression: `SET ${sets.join(', ')}, updatedAt = :now`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':v': subscribed, ':now': this.stamp() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<Client>(out.Attributes)!;
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('client', clientId);
      throw error;
    }
  }

  async suppressByEmail(email: string, reason: 'bounce' | 'complaint', at: string, detail?: string): Promise<Client | undefined> {
    const clientId = await this.findClientIdByEmail(email);
    if (!clientId) return undefined;
    const out = await this.send<{ Attributes?: Item }>(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table,
        Key: keys.client(clientId),
        UpdateExpression: 'SET suppressed = :s, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':s': { reason, at, ...(detail ? { detail: detail.slice(0, 500) } : {}) }, ':now': this.stamp() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return strip<Client>(out.Attributes);
  }

  /**
   * Two first check-ins on one plan may race for its baseline. The transaction's cancellation
   * reasons tell the cases apart: the check-in item already there means these answers are stored
   * (a double submit); only the baseline taken means another session's answers became the baseline
   * first, so the answers are stored again, read against that baseline.
   */
  async recordCheckIn(input: { clientId: string; sessionId: string; answers: CheckInAnswers; at: string }): Promise<StoredCheckIn | undefined> {
    const first = await this.tryRecordCheckIn(input);
    if (first !== 'baseline-taken') return first;
    const second = await this.tryRecordCheckIn(input);
    if (second === 'baseline-taken') throw new Error(`check-in for session ${input.sessionId}: the plan's baseline changed twice while storing`);
    return second;
  }

  private async tryRecordCheckIn(input: {
    clientId: string;
    sessionId: string;
    answers: CheckInAnswers;
    at: string;
  }): Promise<StoredCheckIn | undefined | 'baseline-taken'> {
    const bundle = await this.getClientBundle(input.clientId, true);
    const session = bundle?.sessions.find((s) => s.id === input.sessionId);
    if (!bundle || !session) throw new NotFoundError('session', input.sessionId);
    const plan = bundle.plans.find((p) => p.id === session.planId);
    if (!plan) throw new NotFoundError('plan', session.planId);
    if (bundle.checkIns.some((c) => c.sessionId === session.id)) return undefined;

    const scores = scoresOf(input.answers);
    const earlier = bundle.checkIns.filter((c) => c.planId === plan.id && c.answeredAt <= input.at).sort((a, b) => a.answeredAt.localeCompare(b.answeredAt));
    const previous = earlier.at(-1);
    const isBaseline = !plan.baseline;
    const checkIn: StoredCheckIn = {
      ...input.answers,
      sessionId: session.id,
      planId: plan.id,
      clientId: input.clientId,
      therapistId: plan.therapistId,
      answeredAt: input.at,
      baseline: isBaseline,
      ...(previous ? { previous: scoresOf(previous) } : {}),
      baselineScores: plan.baseline ? scoresOf(plan.baseline) : scores,
    };
    const transactItems: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Put: {
          TableName: this.table,
          Item: {
            ...checkIn,
            ...keys.checkIn(input.clientId, session.id),
            type: 'checkin',
            gsi2pk: keys.therapistIndex(plan.therapistId),
            gsi2sk: `CHECKIN#${input.at}#${session.id}`,
            ...expiryAfter(input.at, this.retention?.checkInDays),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: this.table,
          Key: keys.session(input.clientId, session.id),
          UpdateExpression: 'SET checkInAnsweredAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': input.at },
        },
      },
    ];
    if (isBaseline) {
      transactItems.push({
        Update: {
          TableName: this.table,
          Key: keys.plan(input.clientId, plan.id),
          UpdateExpression: 'SET baseline = :b',
          ConditionExpression: 'attribute_not_exists(baseline)',
          ExpressionAttributeValues: { ':b': { ...scores, sessionId: session.id, at: input.at } },
        },
      });
    }
    try {
      await this.send('TransactWriteItems', new TransactWriteCommand({ TransactItems: transactItems }));
    } catch (error) {
      const failed = conditionFailuresOf(error);
      if (!failed) throw error;
      if (failed.has(0)) return undefined;
      if (failed.has(1)) throw new NotFoundError('session', input.sessionId, { cause: error });
      return 'baseline-taken';
    }
    return checkIn;
  }

  async recordConfirmation(clientId: string, sessionId: string, at: string): Promise<boolean> {
    return this.markSessionOnce(clientId, sessionId, 'confirmedAt', at);
  }

  private async markSessionOnce(clientId: string, sessionId: string, attribute: string, at: string): Promise<boolean> {
    try {
      await this.send(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.session(clientId, sessionId),
          UpdateExpression: 'SET #a = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#a)',
          ExpressionAttributeNames: { '#a': attribute },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async recordRescheduleRequest(request: RescheduleRequest): Promise<boolean> {
    try {
      await this.send(
        'TransactWriteItems',
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...request,
                  ...keys.request(request.clientId, request.sessionId),
                  type: 'request',
                  gsi2pk: keys.therapistIndex(request.therapistId),
                  gsi2sk: `REQUEST#${request.at}#${request.sessionId}`,
                  ...expiryAfter(request.at, this.retention?.checkInDays),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.table,
                Key: keys.session(request.clientId, request.sessionId),
                UpdateExpression: 'SET rescheduleRequestedAt = :at',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: { ':at': request.at },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (transactionConditionFailed(error)) return false;
      throw error;
    }
  }

  async setMaintenanceMark(clientId: string, planId: string, mark: MaintenanceMark | undefined, nextActionAt: string | undefined): Promise<void> {
    const sets = ['updatedAt = :now'];
    const removes: string[] = [];
    const values: Item = { ':now': this.stamp() };
    if (mark) {
      sets.push('maintenanceMark = :m');
      values[':m'] = mark;
    } else removes.push('maintenanceMark');
    if (nextActionAt) {
      sets.push('maintenanceActionAt = :a', 'gsi3pk = :p', 'gsi3sk = :s');
      values[':a'] = nextActionAt;
      values[':p'] = keys.maintenanceMonth(utcMonth(nextActionAt));
      values[':s'] = `${nextActionAt}#${planId}`;
    } else removes.push('maintenanceActionAt', 'gsi3pk', 'gsi3sk');
    await this.send(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table,
        Key: keys.plan(clientId, planId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
      }),
    );
  }

  // ---------------------------------------------------------------- readers

  async getClient(clientId: string): Promise<Client | undefined> {
    return strip<Client>(await this.getItem(keys.client(clientId)));
  }

  async getTherapist(therapistId: string): Promise<Therapist | undefined> {
    return strip<Therapist>(await this.getItem(keys.therapist(therapistId)));
  }

  async getClientBundle(clientId: string, consistent = false): Promise<ClientBundle | undefined> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.clientPartition(clientId) },
      ConsistentRead: consistent,
    });
    const bundle = {
      client: undefined as Client | undefined,
      plans: [] as StoredPlan[],
      sessions: [] as StoredSession[],
      checkIns: [] as StoredCheckIn[],
      requests: [] as RescheduleRequest[],
    };
    for (const item of items) {
      switch (item.type) {
        case 'client':
          bundle.client = strip<Client>(item);
          break;
        case 'plan':
          bundle.plans.push(strip<StoredPlan>(item)!);
          break;
        case 'session':
          bundle.sessions.push(strip<StoredSession>(item)!);
          break;
        case 'checkin':
          bundle.checkIns.push(strip<StoredCheckIn>(item)!);
          break;
        case 'request':
          bundle.requests.push(strip<RescheduleRequest>(item)!);
          break;
        default:
          break;
      }
    }
    if (!bundle.client) return undefined;
    bundle.sessions.sort((a, b) => a.start.localeCompare(b.start));
    return bundle as ClientBundle;
  }

  async findClientIdByEmail(email: string): Promise<string | undefined> {
    return (await this.getItem(keys.email(email)))?.clientId as string | undefined;
  }

  async findSession(sessionId: string): Promise<StoredSession | undefined> {
    const clientId = (await this.getItem(keys.sessionRef(sessionId)))?.clientId as string | undefined;
    if (!clientId) return undefined;
    return strip<StoredSession>(await this.getItem(keys.session(clientId, sessionId)));
  }

  async findPlan(planId: string): Promise<StoredPlan | undefined> {
    const clientId = (await this.getItem(keys.planRef(planId)))?.clientId as string | undefined;
    if (!clientId) return undefined;
    return strip<StoredPlan>(await this.getItem(keys.plan(clientId, planId)));
  }

  async getMessageContext(k: { clientId: string; planId?: string; sessionId?: string; therapistId?: string; dayCapDate?: string }): Promise<MessageContext> {
    const wanted = [keys.client(k.clientId)];
    if (k.planId) wanted.push(keys.plan(k.clientId, k.planId));
    if (k.sessionId) wanted.push(keys.session(k.clientId, k.sessionId));
    if (k.therapistId) wanted.push(keys.therapist(k.therapistId));
    if (k.dayCapDate) wanted.push(keys.dayCap(k.clientId, k.dayCapDate));
    let pending: Array<{ pk: string; sk: string }> = wanted;
    const found: Item[] = [];
    // BatchGet may hand back unprocessed keys under throttling; ask again for just those.
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await this.send<{ Responses?: Record<string, Item[]>; UnprocessedKeys?: Record<string, { Keys?: Array<{ pk: string; sk: string }> }> }>(
        'BatchGetItem',
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending } } }),
      );
      found.push(...(out.Responses?.[this.table] ?? []));
      pending = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      if (pending.length && attempt >= 5) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after retries`);
      if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    const context: { -readonly [K in keyof MessageContext]: MessageContext[K] } = {};
    for (const item of found) {
      switch (item.type) {
        case 'client':
          context.client = strip<Client>(item);
          break;
        case 'plan':
          context.plan = strip<StoredPlan>(item);
          break;
        case 'session':
          context.session = strip<StoredSession>(item);
          break;
        case 'therapist':
          context.therapist = strip<Therapist>(item);
          break;
        case 'daycap':
          context.dayCapHolder = item.holder as string;
          break;
        default:
          break;
      }
    }
    return context;
  }

  async sessionsStartingBetween(from: string, to: string): Promise<StoredSession[]> {
    const sessions: StoredSession[] = [];
    for (let day = Date.parse(utcDate(from)); day <= Date.parse(to); day += 86_400_000) {
      const items = await this.queryAll({
        IndexName: INDEXES.byDay.indexName,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.sessionsDay(new Date(day).toISOString().slice(0, 10)), ':from': from, ':to': `${to}~` },
      });
      sessions.push(...items.map((i) => strip<StoredSession>(i)!));
    }
    return sessions;
  }

  async therapistActivity(therapistId: string, from: string, to: string): Promise<TherapistActivity> {
    const range = async (prefix: string) =>
      this.queryAll({
        IndexName: INDEXES.byTherapist.indexName,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.therapistIndex(therapistId), ':from': `${prefix}#${from}`, ':to': `${prefix}#${to}` },
      });
    const [sessions, checkIns, requests, planChanges] = await Promise.all([range('SESSION'), range('CHECKIN'), range('REQUEST'), range('PLANLOG')]);
    return {
      sessions: sessions.map((i) => strip<StoredSession>(i)!),
      checkIns: checkIns.map((i) => strip<StoredCheckIn>(i)!),
      requests: requests.map((i) => strip<RescheduleRequest>(i)!),
      planChanges: planChanges.map((i) => strip<PlanChange>(i)!),
    };
  }

  async planHistory(clientId: string, planId: string): Promise<PlanChange[]> {
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.clientPartition(clientId), ':prefix': `PLANLOG#${planId}#` },
      ConsistentRead: true,
    });
    return items.map((i) => strip<PlanChange>(i)!).sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }

  async therapistPlans(therapistId: string): Promise<StoredPlan[]> {
    const items = await this.queryAll({
      IndexName: INDEXES.byTherapist.indexName,
      KeyConditionExpression: 'gsi2pk = :pk AND begins_with(gsi2sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.therapistIndex(therapistId), ':p': 'PLAN#' },
    });
    return items.map((i) => strip<StoredPlan>(i)!);
  }

  async plansNeedingMaintenanceAction(until: string, lookbackMonths = 3): Promise<StoredPlan[]> {
    const plans: StoredPlan[] = [];
    const end = new Date(until);
    for (let back = lookbackMonths; back >= 0; back--) {
      const month = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - back, 1)).toISOString().slice(0, 7);
      const items = await this.queryAll({
        IndexName: INDEXES.maintenance.indexName,
        KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk <= :until',
        ExpressionAttributeValues: { ':pk': keys.maintenanceMonth(month), ':until': `${until}~` },
      });
      plans.push(...items.map((i) => strip<StoredPlan>(i)!));
    }
    return plans;
  }

  async listTherapists(): Promise<Therapist[]> {
    const items = await this.queryAll({
      IndexName: INDEXES.byDay.indexName,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.therapistsList },
    });
    return items.map((i) => strip<Therapist>(i)!);
  }

  // ---------------------------------------------------------------- ledger

  /*
   * The outbox (listSince) is the ledger on GSI1 under `OUTBOX#<day>`. Every write to an item
   * carrying those keys also writes the index (projection ALL), so only the writes that settle an
   * entry carry them — sent, failed, skipped, and released (pending a retry) — and the claim
   * does not: a sent email then costs one index write, not two (claim 1 unit, record 2, instead
   * of 2 and 2). The price: a claim is listed once it settles, seconds later; one whose attempt
   * died shows when the retry after the lease marks it failed ("outcome unknown").
   */
  private outboxKeys(name: string, at: string): Item {
    return { gsi1pk: keys.outboxDay(utcDate(at)), gsi1sk: `${at}#${name}` };
  }

  private ledgerItem(request: ClaimRequest, status: string, extra: Item): Item {
    return {
      ...keys.message(request.name),
      type: 'message',
      name: request.name,
      kind: request.kind,
      clientId: request.clientId,
      planId: request.planId,
      sessionId: request.sessionId,
      therapistId: request.therapistId,
      dueAt: request.dueAt,
      status,
      updatedAt: request.now,
      ...expiryAfter(request.now, this.retention?.ledgerDays),
      ...extra,
    };
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    try {
      await this.send(
        'PutItem',
        new PutCommand({
          TableName: this.table,
          // No outbox keys: see outboxKeys. Replacing a released or skipped entry drops its listing.
          Item: this.ledgerItem(request, 'claimed', { claimedAt: request.now, attempts: 1 }),
          // A released claim may be taken again, and so may a plain skip: it sent nothing, and the
          // state that caused it (a paused plan, say) may have changed since. A claim, a send, a
          // failure and a deferral (its `-d1` copy owns the send) stand.
          ConditionExpression: OPEN_ENTRY,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: OPEN_ENTRY_VALUES,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (isConditionFailure(error)) {
        const old = (error as ConditionalCheckFailedException).Item as Item | undefined;
        const existing = old
          ? this.toLedgerEntry(unmarshallOld(old))
          : await this.getItem(keys.message(request.name), true).then((i) => i && this.toLedgerEntry(i));
        if (existing) return { claimed: false, existing };
      }
      throw error;
    }
  }

  async release(name: string): Promise<void> {
    await this.settle(name, { status: 'released' }, this.stamp(), '#status = :claimed', { ':claimed': 'claimed' }).catch((error) => {
      // Settled by someone else meanwhile: there is no claim left to give back.
      if (!isConditionFailure(error)) throw error;
    });
  }

  /** Sets the entry's new status and fields, its update time and its outbox keys (see outboxKeys). */
  private async settle(name: string, fields: Item & { status: string }, now: string, condition: string, conditionValues: Item = {}): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = { ...conditionValues };
    const sets: string[] = [];
    for (const [field, value] of Object.entries({ ...fields, updatedAt: now, ...this.outboxKeys(name, now) })) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    await this.send(
      'UpdateItem',
      new UpdateCommand({
        TableName: this.table,
        Key: keys.message(name),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** A settle that needs the entry in one of `from`: a condition failure means another attempt settled it. */
  private async settleFrom(name: string, from: readonly LedgerStatus[], fields: Item & { status: LedgerStatus }, now: string): Promise<void> {
    const values: Item = Object.fromEntries(from.map((status, i) => [`:from${i}`, status]));
    try {
      await this.settle(name, fields, now, `#status IN (${Object.keys(values).join(', ')})`, values);
    } catch (error) {
      if (isConditionFailure(error)) throw new LedgerConflictError(name, fields.status, { cause: error });
      throw error;
    }
  }

  async markSent(name: string, sesMessageId: string, now: string): Promise<void> {
    await this.settleFrom(name, ['claimed'], { status: 'sent', sesMessageId }, now);
  }

  async markFailed(name: string, reason: string, now: string): Promise<void> {
    await this.settleFrom(name, ['claimed', 'released'], { status: 'failed', reason: reason.slice(0, 500) }, now);
  }

  async clearSkip(name: string): Promise<void> {
    try {
      await this.send(
        'DeleteItem',
        new DeleteCommand({
          TableName: this.table,
          Key: keys.message(name),
          ConditionExpression: '#s = :skipped AND attribute_not_exists(deferredTo)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':skipped': 'skipped' },
        }),
      );
    } catch (error) {
      // Not a plain skip (or no entry): whatever stands there stays.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async settleSkipped(name: string, reason: string, now: string, deferredTo?: string): Promise<void> {
    await this.settleFrom(name, ['claimed'], { status: 'skipped', reason: reason.slice(0, 500), ...(deferredTo ? { deferredTo } : {}) }, now);
  }

  async markSkipped(request: ClaimRequest, reason: string): Promise<LedgerEntry | undefined> {
    try {
      await this.send(
        'PutItem',
        new PutCommand({
          TableName: this.table,
          Item: this.ledgerItem(request, 'skipped', { reason: reason.slice(0, 500), attempts: 0, ...this.outboxKeys(request.name, request.now) }),
          // Only over what a claim could take: a live claim is another attempt's to settle, and a
          // sent, failed or deferred entry is a first terminal outcome, which stands.
          ConditionExpression: OPEN_ENTRY,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: OPEN_ENTRY_VALUES,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = (error as ConditionalCheckFailedException).Item as Item | undefined;
      return old ? this.toLedgerEntry(unmarshallOld(old)) : this.get(request.name);
    }
  }

  async recordDelivery(sesMessageId: string | undefined, name: string, event: string, at: string, detail?: string): Promise<void> {
    try {
      await this.send(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.message(name),
          UpdateExpression: 'SET delivery = :d',
          ConditionExpression: sesMessageId ? 'attribute_exists(pk) AND sesMessageId = :id' : 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':d': { event, at, ...(detail ? { detail: detail.slice(0, 300) } : {}) },
            ...(sesMessageId ? { ':id': sesMessageId } : {}),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async get(name: string): Promise<LedgerEntry | undefined> {
    const item = await this.getItem(keys.message(name), true);
    return item ? this.toLedgerEntry(item) : undefined;
  }

  async holdDayCap(clientId: string, localDate: string, name: string, expiresAt: string): Promise<boolean> {
    try {
      await this.send(
        'PutItem',
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.dayCap(clientId, localDate), type: 'daycap', holder: name, expiresAt: Math.floor(Date.parse(expiresAt) / 1000) },
          ConditionExpression: 'attribute_not_exists(pk) OR holder = :name',
          ExpressionAttributeValues: { ':name': name },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async listSince(since: string, until: string = this.stamp()): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    for (let day = Date.parse(utcDate(since)); day <= Date.parse(until); day += 86_400_000) {
      const items = await this.queryAll({
        IndexName: INDEXES.byDay.indexName,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.outboxDay(new Date(day).toISOString().slice(0, 10)), ':from': since, ':to': `${until}~` },
      });
      entries.push(...items.map((i) => this.toLedgerEntry(i)));
    }
    return entries;
  }

  private toLedgerEntry(item: Item): LedgerEntry {
    const entry = strip<LedgerEntry & { updatedAt?: string }>(item)!;
    return { ...entry, kind: entry.kind as MessageKind, attempts: Number(entry.attempts ?? 0), updatedAt: String(item.updatedAt ?? '') };
  }

  // ---------------------------------------------------------------- tokens

  async consume(tokenId: string, expiresAt: string, clientId?: string): Promise<boolean> {
    try {
      await this.send(
        'PutItem',
        new PutCommand({
          TableName: this.table,
          Item: { ...keys.token(tokenId), type: 'token', ...(clientId ? { clientId } : {}), expiresAt: Math.ceil(Date.parse(expiresAt) / 1000) + 86_400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async isConsumed(tokenId: string): Promise<boolean> {
    // Consistent: a link spent a moment ago, on another Lambda instance, is refused now.
    return (await this.getItem(keys.token(tokenId), true)) !== undefined;
  }

  async takeActionSlot(clientId: string, window: string, limit: number, expiresAt: string): Promise<boolean> {
    try {
      // One conditional ADD: concurrent actions each take a slot or are refused, never both.
      await this.send(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.actions(clientId, window),
          UpdateExpression: 'ADD #n :one SET #t = :type, clientId = :client, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
          ExpressionAttributeNames: { '#n': 'count', '#t': 'type' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':type': 'actions', ':client': clientId, ':exp': Math.ceil(Date.parse(expiresAt) / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** ReturnValuesOnConditionCheckFailure hands back a raw AttributeValue map: unmarshalled in full, nested maps included. */
function unmarshallOld(raw: Item): Item {
  return unmarshall(raw as Record<string, AttributeValue>) as Item;
}
