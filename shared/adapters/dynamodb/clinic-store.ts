/**
 * The ClinicStore's writers on the table (its readers: clinic-reader.ts). Each keeps the derived
 * fields (session numbers, indexes, the email lookup, references) consistent in one transaction.
 */
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CheckInAnswers, Client, IntakeAnswers, Plan, Session, Therapist, Category } from '../../domain/model.js';
import { checkInComparison } from '../../domain/baseline.js';
import { CATEGORIES, scoresOf } from '../../domain/model.js';
import type {
  ClinicStore,
  MaintenanceMark,
  PlanBaseline,
  PlanChangeResult,
  RescheduleRequest,
  StoredCheckIn,
  StoredPlan,
  StoredSession,
} from '../../ports/store.js';
import type { PlanChange } from '../../domain/plan-change.js';
import { EmailInUseError, NotFoundError } from '../../domain/errors.js';
import { sameEmail } from '../../domain/email-address.js';
import { clientItemOf, decode, decodeIfAny, emailItemOf, planItemOf, refItemOf, sessionWrites, therapistItemOf } from './codecs.js';
import { DynamoClinicReader } from './clinic-reader.js';
import { keys } from './keys.js';
import { conditionFailuresOf, expiryAfter, isConditionFailure, transactionConditionFailed, utcMonth, type Item, type TransactItems } from './table.js';

export class DynamoClinicStore extends DynamoClinicReader implements ClinicStore {
  async putTherapist(therapist: Therapist): Promise<void> {
    await this.send(
      'PutItem',
      new PutCommand({
        TableName: this.table,
        Item: therapistItemOf(therapist, this.stamp()),
      }),
    );
  }

  async putClient(client: Client, options: { expectNew?: boolean } = {}): Promise<void> {
    const previous = options.expectNew ? undefined : decodeIfAny(decode.client, await this.db.getItem(keys.client(client.id), true));
    const items: TransactItems = [
      {
        Put: {
          TableName: this.table,
          Item: clientItemOf(client, this.stamp()),
          ...(options.expectNew ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
        },
      },
      {
        // One address, one client: the lookup item may be taken only by its own client.
        Put: {
          TableName: this.table,
          Item: emailItemOf(client),
          ConditionExpression: 'attribute_not_exists(pk) OR clientId = :client',
          ExpressionAttributeValues: { ':client': client.id },
        },
      },
    ];
    if (previous && !sameEmail(previous.email, client.email)) {
      items.push({ Delete: { TableName: this.table, Key: keys.email(previous.email) } });
    }
    try {
      await this.db.transact(items);
    } catch (error) {
      if (conditionFailuresOf(error)?.has(1)) {
        const heldBy = await this.findClientIdByEmail(client.email);
        throw new EmailInUseError(client.id, heldBy, { cause: error });
      }
      throw error;
    }
  }

  async putPlan(plan: Plan): Promise<void> {
    const existing = decodeIfAny(decode.plan, await this.db.getItem(keys.plan(plan.clientId, plan.id), true));
    const item: Item = { ...existing, ...planItemOf(plan, this.stamp()) };
    if (existing?.maintenanceActionAt && plan.status === 'active') {
      item.gsi3pk = keys.maintenanceMonth(utcMonth(existing.maintenanceActionAt));
      item.gsi3sk = `${existing.maintenanceActionAt}#${plan.id}`;
    }
    await this.db.transact([
      { Put: { TableName: this.table, Item: item } },
      { Put: { TableName: this.table, Item: refItemOf(keys.planRef(plan.id), plan.clientId) } },
    ]);
  }

  async saveSession(session: Session): Promise<StoredSession> {
    const clientId = await this.pointedClient(keys.planRef(session.planId), true);
    if (!clientId) throw new NotFoundError('plan', session.planId);
    const bundle = await this.getClientBundle(clientId, true);
    const plan = bundle?.plans.find((p) => p.id === session.planId);
    if (!bundle || !plan) throw new NotFoundError('plan', session.planId);

    const writes = sessionWrites(plan, clientId, bundle.sessions, session, this.stamp());
    // A transaction holds at most 100 items; a plan renumbering beyond that is split, session first.
    const chunks: Item[][] = [];
    for (let i = 0; i < writes.length; i += 98) chunks.push(writes.slice(i, i + 98));
    for (const [index, chunk] of chunks.entries()) {
      const transactItems: TransactItems = chunk.map((Item) => ({ Put: { TableName: this.table, Item } }));
      if (index === 0) transactItems.push({ Put: { TableName: this.table, Item: refItemOf(keys.sessionRef(session.id), clientId) } });
      await this.db.transact(transactItems);
    }
    return decode.session(writes[0]!);
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
      return decode.plan(out.Attributes!);
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
                ConditionExpression: `attribute_exists(pk) AND #status = :was AND #phases[${phaseIndex}].#every = :wasEvery`,
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
    const plan = decodeIfAny(decode.plan, await this.db.getItem(keys.plan(change.clientId, change.planId), true));
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
      return decode.client(out.Attributes!);
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
    return decodeIfAny(decode.client, out.Attributes);
  }

  async recordCheckIn(input: { clientId: string; sessionId: string; answers: CheckInAnswers; at: string }): Promise<StoredCheckIn | undefined> {
    const bundle = await this.getClientBundle(input.clientId, true);
    const session = bundle?.sessions.find((s) => s.id === input.sessionId);
    if (!bundle || !session) throw new NotFoundError('session', input.sessionId);
    const plan = bundle.plans.find((p) => p.id === session.planId);
    if (!plan) throw new NotFoundError('plan', session.planId);
    if (bundle.checkIns.some((c) => c.sessionId === session.id)) return undefined;

    const checkIn: StoredCheckIn = {
      ...input.answers,
      sessionId: session.id,
      planId: plan.id,
      clientId: input.clientId,
      therapistId: plan.therapistId,
      answeredAt: input.at,
      baseline: false,
      ...checkInComparison(plan, bundle.checkIns, input.at),
    };
    const transactItems: TransactItems = [
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
    try {
      await this.send('TransactWriteItems', new TransactWriteCommand({ TransactItems: transactItems }));
    } catch (error) {
      const failed = conditionFailuresOf(error);
      if (!failed) throw error;
      if (failed.has(0)) return undefined;
      throw new NotFoundError('session', input.sessionId, { cause: error });
    }
    return checkIn;
  }

  /** One UpdateItem on the plan, conditional on it existing with no baseline: the first intake answers win whole. */
  async recordBaseline(input: { clientId: string; planId: string; answers: IntakeAnswers; at: string }): Promise<'recorded' | 'already-answered'> {
    const { reason, ...scores } = input.answers;
    const baseline: PlanBaseline = { ...scoresOf(scores), at: input.at, ...(reason ? { reason } : {}) };
    try {
      await this.send(
        'UpdateItem',
        new UpdateCommand({
          TableName: this.table,
          Key: keys.plan(input.clientId, input.planId),
          UpdateExpression: 'SET baseline = :b, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(baseline)',
          ExpressionAttributeValues: { ':b': baseline, ':now': this.stamp() },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'recorded';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = (error as { Item?: Record<string, unknown> }).Item;
      if (existing && 'baseline' in existing) return 'already-answered';
      throw new NotFoundError('plan', input.planId, { cause: error });
    }
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
}
