/**
 * The ClinicStore's readers on the table. No Scan: every read is a GetItem, a BatchGetItem or a
 * Query on a partition whose size follows the question asked (one client, one day, one therapist,
 * one month). Every item read goes through its codec (codecs.ts).
 */
import type { Client, Therapist } from '../../domain/model.js';
import type { PlanChange } from '../../domain/plan-change.js';
import type {
  ClientBundle,
  ClinicStore,
  MessageContext,
  RescheduleRequest,
  StoredCheckIn,
  StoredPlan,
  StoredSession,
  TherapistActivity,
} from '../../ports/store.js';
import { decode, decodeIfAny } from './codecs.js';
import { keys } from './keys.js';
import { INDEXES } from './table-definition.js';
import { OnTable, utcDaysBetween, type Key } from './table.js';

type ClinicReads = Pick<
  ClinicStore,
  | 'getClient'
  | 'getTherapist'
  | 'getClientBundle'
  | 'findClientIdByEmail'
  | 'findSession'
  | 'findPlan'
  | 'getMessageContext'
  | 'sessionsStartingBetween'
  | 'therapistActivity'
  | 'therapistPlans'
  | 'planHistory'
  | 'plansNeedingMaintenanceAction'
  | 'listTherapists'
>;

export class DynamoClinicReader extends OnTable implements ClinicReads {
  async getClient(clientId: string): Promise<Client | undefined> {
    return decodeIfAny(decode.client, await this.db.getItem(keys.client(clientId)));
  }

  async getTherapist(therapistId: string): Promise<Therapist | undefined> {
    return decodeIfAny(decode.therapist, await this.db.getItem(keys.therapist(therapistId)));
  }

  async getClientBundle(clientId: string, consistent = false): Promise<ClientBundle | undefined> {
    const items = await this.db.queryAll({
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
          bundle.client = decode.client(item);
          break;
        case 'plan':
          bundle.plans.push(decode.plan(item));
          break;
        case 'session':
          bundle.sessions.push(decode.session(item));
          break;
        case 'checkin':
          bundle.checkIns.push(decode.checkIn(item));
          break;
        case 'request':
          bundle.requests.push(decode.request(item));
          break;
        default:
          break;
      }
    }
    if (!bundle.client) return undefined;
    bundle.sessions.sort((a, b) => a.start.localeCompare(b.start));
    return bundle as ClientBundle;
  }

  /** The client a lookup or reference item points to, if it exists. */
  protected async pointedClient(key: Key, consistent = false): Promise<string | undefined> {
    return decodeIfAny(decode.pointer, await this.db.getItem(key, consistent))?.clientId;
  }

  async findClientIdByEmail(email: string): Promise<string | undefined> {
    return this.pointedClient(keys.email(email));
  }

  async findSession(sessionId: string): Promise<StoredSession | undefined> {
    const clientId = await this.pointedClient(keys.sessionRef(sessionId));
    if (!clientId) return undefined;
    return decodeIfAny(decode.session, await this.db.getItem(keys.session(clientId, sessionId)));
  }

  async findPlan(planId: string): Promise<StoredPlan | undefined> {
    const clientId = await this.pointedClient(keys.planRef(planId));
    if (!clientId) return undefined;
    return decodeIfAny(decode.plan, await this.db.getItem(keys.plan(clientId, planId)));
  }

  async getMessageContext(k: { clientId: string; planId?: string; sessionId?: string; therapistId?: string; dayCapDate?: string }): Promise<MessageContext> {
    const wanted = [keys.client(k.clientId)];
    if (k.planId) wanted.push(keys.plan(k.clientId, k.planId));
    if (k.sessionId) wanted.push(keys.session(k.clientId, k.sessionId));
    if (k.therapistId) wanted.push(keys.therapist(k.therapistId));
    if (k.dayCapDate) wanted.push(keys.dayCap(k.clientId, k.dayCapDate));
    const found = await this.db.batchGet(wanted);
    const context: { -readonly [K in keyof MessageContext]: MessageContext[K] } = {};
    for (const item of found) {
      switch (item.type) {
        case 'client':
          context.client = decode.client(item);
          break;
        case 'plan':
          context.plan = decode.plan(item);
          break;
        case 'session':
          context.session = decode.session(item);
          break;
        case 'therapist':
          context.therapist = decode.therapist(item);
          break;
        case 'daycap':
          context.dayCapHolder = decode.dayCap(item).holder;
          break;
        default:
          break;
      }
    }
    return context;
  }

  async sessionsStartingBetween(from: string, to: string): Promise<StoredSession[]> {
    const sessions: StoredSession[] = [];
    for (const day of utcDaysBetween(from, to)) {
      const items = await this.db.queryAll({
        IndexName: INDEXES.byDay.indexName,
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.sessionsDay(day), ':from': from, ':to': `${to}~` },
      });
      sessions.push(...items.map(decode.session));
    }
    return sessions;
  }

  async therapistActivity(therapistId: string, from: string, to: string): Promise<TherapistActivity> {
    const range = async (prefix: string) =>
      this.db.queryAll({
        IndexName: INDEXES.byTherapist.indexName,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': keys.therapistIndex(therapistId), ':from': `${prefix}#${from}`, ':to': `${prefix}#${to}` },
      });
    const [sessions, checkIns, requests, planChanges] = await Promise.all([range('SESSION'), range('CHECKIN'), range('REQUEST'), range('PLANLOG')]);
    return {
      sessions: sessions.map(decode.session),
      checkIns: checkIns.map(decode.checkIn),
      requests: requests.map(decode.request),
      planChanges: planChanges.map(decode.planChange),
    };
  }

  async planHistory(clientId: string, planId: string): Promise<PlanChange[]> {
    const items = await this.db.queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.clientPartition(clientId), ':prefix': `PLANLOG#${planId}#` },
      ConsistentRead: true,
    });
    return items.map(decode.planChange).sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }

  async therapistPlans(therapistId: string): Promise<StoredPlan[]> {
    const items = await this.db.queryAll({
      IndexName: INDEXES.byTherapist.indexName,
      KeyConditionExpression: 'gsi2pk = :pk AND begins_with(gsi2sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.therapistIndex(therapistId), ':p': 'PLAN#' },
    });
    return items.map(decode.plan);
  }

  async plansNeedingMaintenanceAction(until: string, lookbackMonths = 3): Promise<StoredPlan[]> {
    const end = new Date(until);
    // One query per month partition, all at once; the plans come back oldest month first.
    const months = Array.from({ length: lookbackMonths + 1 }, (_, i) =>
      new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - (lookbackMonths - i), 1)).toISOString().slice(0, 7),
    );
    const pages = await Promise.all(
      months.map((month) =>
        this.db.queryAll({
          IndexName: INDEXES.maintenance.indexName,
          KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk <= :until',
          ExpressionAttributeValues: { ':pk': keys.maintenanceMonth(month), ':until': `${until}~` },
        }),
      ),
    );
    return pages.flat().map(decode.plan);
  }

  async listTherapists(): Promise<Therapist[]> {
    const items = await this.db.queryAll({
      IndexName: INDEXES.byDay.indexName,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.therapistsList },
    });
    return items.map(decode.therapist);
  }
}
