/**
 * The in-memory state of the local Scheduler (schedule groups and schedules) and the semantics of
 * the API operations on it: defaults, conflicts, not-found, full-replace updates and paging.
 * Each schedule also carries when it next fires, which the firing loop reads and moves on.
 */
import type { Clock } from '../clock.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { isRecurring, nextOccurrence, atInstant, type ScheduleExpression } from './expressions.js';
import { validateListQuery, validateName, validateScheduleRequest, type ScheduleDefinition } from './validate.js';

export const ACCOUNT_ID = '000000000000';
export const DEFAULT_GROUP = 'default';
const DEFAULT_PAGE_SIZE = 100;

/** A schedule as tests and the CLI see it. */
export interface ScheduleRecord {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  readonly definition: ScheduleDefinition;
  readonly creationDate: Date;
  readonly lastModificationDate: Date;
  /** When it fires next; undefined once a one-time schedule has fired or a recurring one has ended. */
  readonly nextFireAt: Date | undefined;
}

export interface StoredSchedule extends ScheduleRecord {
  readonly expression: ScheduleExpression;
  readonly clientToken: string | undefined;
  nextFireAt: Date | undefined;
}

export interface ScheduleGroup {
  readonly name: string;
  readonly arn: string;
  readonly creationDate: Date;
  readonly lastModificationDate: Date;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken: string | undefined;
}

/** An entry of the due-time index: a schedule version and the instant it was set to fire at. */
interface DueEntry {
  readonly at: number;
  /** The key's place in the store's order (Map insertion order), which breaks ties as a scan of the store would. */
  readonly order: number;
  readonly record: StoredSchedule;
}

export class ScheduleStore {
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly groups = new Map<string, ScheduleGroup>();
  /** The schedules' keys in order, rebuilt on the first list after a schedule came or went. */
  private sortedKeys: string[] | undefined;
  /**
   * When each schedule fires next, as a min-heap, so the firing loop does not scan every schedule
   * at every round (a large clinic holds tens of thousands). An entry whose schedule was replaced,
   * deleted, disabled or moved on is dropped when it reaches the top.
   */
  private readonly due: DueEntry[] = [];
  /** Each key's place in `schedules`' insertion order; an update keeps it, a re-create after a delete takes a new one. */
  private readonly order = new Map<string, number>();
  private nextOrder = 0;

  constructor(
    private readonly region: string,
    private readonly clock: Clock,
  ) {
    this.groups.set(DEFAULT_GROUP, this.newGroup(DEFAULT_GROUP));
  }

  createSchedule(name: string, body: unknown): StoredSchedule {
    const request = validateScheduleRequest(name, body, this.clock.now());
    const groupName = request.definition.GroupName;
    this.requireGroup(groupName);
    const existing = this.schedules.get(key(groupName, name));
    if (existing) {
      // A retried request (same client token) gets the original answer instead of a conflict.
      if (request.clientToken !== undefined && existing.clientToken === request.clientToken) return existing;
      throw new ConflictError(`Schedule ${name} already exists.`);
    }
    const now = this.clock.now();
    const record = this.newSchedule(name, request.definition, request.expression, request.clientToken, now, now);
    this.schedules.set(key(groupName, name), record);
    this.order.set(key(groupName, name), this.nextOrder++);
    this.sortedKeys = undefined;
    this.index(record);
    return record;
  }

  /** Replaces the whole definition, as AWS does: fields left out of the request go back to their defaults. */
  updateSchedule(name: string, body: unknown): StoredSchedule {
    const request = validateScheduleRequest(name, body, this.clock.now());
    const groupName = request.definition.GroupName;
    const existing = this.getSchedule(name, groupName);
    const record = this.newSchedule(name, request.definition, request.expression, request.clientToken, existing.creationDate, this.clock.now());
    this.schedules.set(key(groupName, name), record);
    this.index(record);
    return record;
  }

  getSchedule(name: string, groupName: string = DEFAULT_GROUP): StoredSchedule {
    validateName('Name', name);
    validateName('GroupName', groupName);
    this.requireGroup(groupName);
    const record = this.schedules.get(key(groupName, name));
    if (!record) throw new NotFoundError(`Schedule ${name} does not exist.`);
    return record;
  }

  deleteSchedule(name: string, groupName: string = DEFAULT_GROUP): void {
    const record = this.getSchedule(name, groupName);
    this.remove(record);
  }

  /** Deletes the schedule only if `record` is still its current version (it was not updated meanwhile). */
  deleteIfCurrent(record: StoredSchedule): void {
    if (this.schedules.get(key(record.groupName, record.name)) === record) this.remove(record);
  }

  private remove(record: StoredSchedule): void {
    this.schedules.delete(key(record.groupName, record.name));
    this.order.delete(key(record.groupName, record.name));
    this.sortedKeys = undefined;
  }

  /** The earliest instant an enabled schedule fires at, if any. */
  earliestFireAt(): Date | undefined {
    const top = this.validTop();
    return top ? new Date(top.at) : undefined;
  }

  /**
   * Every enabled schedule due by `instant`, each with the occurrence it is due for, in the order a
   * scan of the store gives ties: by that occurrence, then by the schedule's place in the store.
   * Each one's next occurrence is set (`following`) and indexed before this returns.
   */
  takeDue(instant: Date, following: (record: StoredSchedule, fired: Date) => Date | undefined): Array<{ record: StoredSchedule; scheduledTime: Date }> {
    const taken: DueEntry[] = [];
    for (let top = this.validTop(); top && top.at <= instant.getTime(); top = this.validTop()) {
      this.pop();
      taken.push(top);
    }
    taken.sort((a, b) => a.at - b.at || a.order - b.order);
    return taken.map(({ record }) => {
      const scheduledTime = record.nextFireAt as Date;
      record.nextFireAt = following(record, scheduledTime);
      this.index(record);
      return { record, scheduledTime };
    });
  }

  private index(record: StoredSchedule): void {
    const order = this.order.get(key(record.groupName, record.name));
    if (record.nextFireAt === undefined || record.definition.State !== 'ENABLED' || order === undefined) return;
    const heap = this.due;
    heap.push({ at: record.nextFireAt.getTime(), order, record });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as DueEntry, heap[parent] as DueEntry)) break;
      [heap[i], heap[parent]] = [heap[parent] as DueEntry, heap[i] as DueEntry];
      i = parent;
    }
  }

  /** The top entry once every stale one above it is dropped: its schedule still current, enabled and due at that instant. */
  private validTop(): DueEntry | undefined {
    for (let top = this.due[0]; top; top = this.due[0]) {
      const { record } = top;
      const current = this.schedules.get(key(record.groupName, record.name)) === record;
      if (current && record.definition.State === 'ENABLED' && record.nextFireAt?.getTime() === top.at) return top;
      this.pop();
    }
    return undefined;
  }

  private pop(): void {
    const heap = this.due;
    const last = heap.pop();
    if (heap.length === 0 || !last) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left] as DueEntry, heap[smallest] as DueEntry)) smallest = left;
      if (right < heap.length && before(heap[right] as DueEntry, heap[smallest] as DueEntry)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as DueEntry, heap[i] as DueEntry];
      i = smallest;
    }
  }

  listSchedules(query: Record<string, string | undefined>): Page<StoredSchedule> {
    const { GroupName, NamePrefix, State, MaxResults, NextToken } = validateListQuery(query);
    // With a group, only the keys under `<group>/<prefix>` are looked at: a range of the sorted keys.
    const candidates =
      GroupName === undefined
        ? [...this.schedules.values()]
        : this.keysStartingWith(key(GroupName, NamePrefix ?? '')).map((k) => this.schedules.get(k) as StoredSchedule);
    const matching = candidates.filter(
      (record) =>
        (GroupName === undefined || record.groupName === GroupName) &&
        (NamePrefix === undefined || record.name.startsWith(NamePrefix)) &&
        (State === undefined || record.definition.State === State),
    );
    return paginate(matching, (record) => key(record.groupName, record.name), MaxResults, NextToken);
  }

  private keysStartingWith(prefix: string): string[] {
    this.sortedKeys ??= [...this.schedules.keys()].sort(compareKeys);
    const keys = this.sortedKeys;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(keys[mid] as string, prefix) < 0) low = mid + 1;
      else high = mid;
    }
    const found: string[] = [];
    for (let i = low; i < keys.length && (keys[i] as string).startsWith(prefix); i++) found.push(keys[i] as string);
    return found;
  }

  /** Every schedule, for the firing loop. */
  all(): StoredSchedule[] {
    return [...this.schedules.values()];
  }

  createGroup(name: string): ScheduleGroup {
    validateName('Name', name);
    if (this.groups.has(name)) throw new ConflictError(`Schedule group ${name} already exists.`);
    const group = this.newGroup(name);
    this.groups.set(name, group);
    return group;
  }

  getGroup(name: string): ScheduleGroup {
    validateName('Name', name);
    return this.requireGroup(name);
  }

  /** Deletes the group and every schedule in it, as AWS does. */
  deleteGroup(name: string): void {
    this.getGroup(name);
    if (name === DEFAULT_GROUP) throw new ValidationError('The default schedule group cannot be deleted.');
    this.groups.delete(name);
    for (const record of this.all()) {
      if (record.groupName === name) this.remove(record);
    }
  }

  listGroups(query: Record<string, string | undefined>): Page<ScheduleGroup> {
    const { NamePrefix, MaxResults, NextToken } = validateListQuery(query);
    const matching = [...this.groups.values()].filter((group) => NamePrefix === undefined || group.name.startsWith(NamePrefix));
    return paginate(matching, (group) => group.name, MaxResults, NextToken);
  }

  scheduleArn(groupName: string, name: string): string {
    return `arn:aws:scheduler:${this.region}:${ACCOUNT_ID}:schedule/${groupName}/${name}`;
  }

  private requireGroup(name: string): ScheduleGroup {
    const group = this.groups.get(name);
    if (!group) throw new NotFoundError(`Schedule group ${name} does not exist.`);
    return group;
  }

  private newGroup(name: string): ScheduleGroup {
    const now = this.clock.now();
    return {
      name,
      arn: `arn:aws:scheduler:${this.region}:${ACCOUNT_ID}:schedule-group/${name}`,
      creationDate: now,
      lastModificationDate: now,
    };
  }

  private newSchedule(
    name: string,
    definition: ScheduleDefinition,
    expression: ScheduleExpression,
    clientToken: string | undefined,
    creationDate: Date,
    modifiedAt: Date,
  ): StoredSchedule {
    return {
      name,
      groupName: definition.GroupName,
      arn: this.scheduleArn(definition.GroupName, name),
      definition,
      expression,
      clientToken,
      creationDate,
      lastModificationDate: modifiedAt,
      nextFireAt: firstFireAt(definition, expression, modifiedAt),
    };
  }
}

/**
 * When a schedule created or updated at `now` first fires. A one-time schedule fires at its at()
 * time even when that is already past (AWS then fires it straight away); a recurring one fires at its
 * first occurrence from now or its StartDate, whichever is later, and a rate counts from its
 * StartDate or, without one, from now.
 */
function firstFireAt(definition: ScheduleDefinition, expression: ScheduleExpression, now: Date): Date | undefined {
  const timezone = definition.ScheduleExpressionTimezone ?? 'UTC';
  if (expression.kind === 'at') return atInstant(expression.at, timezone);
  const start = definition.StartDate;
  const from = start && start.getTime() > now.getTime() ? start : now;
  return occurrenceWithinEnd(definition, expression, from, start ?? now);
}

/** The occurrence after the one a recurring schedule has just fired at. */
export function followingFireAt(record: StoredSchedule, firedOccurrence: Date): Date | undefined {
  if (!isRecurring(record.expression)) return undefined;
  const rateAnchor = record.definition.StartDate ?? record.lastModificationDate;
  return occurrenceWithinEnd(record.definition, record.expression, new Date(firedOccurrence.getTime() + 1), rateAnchor);
}

function occurrenceWithinEnd(definition: ScheduleDefinition, expression: ScheduleExpression, from: Date, rateAnchor: Date): Date | undefined {
  const timezone = definition.ScheduleExpressionTimezone ?? 'UTC';
  const next = nextOccurrence(expression, from, { timezone, rateAnchor });
  const end = definition.EndDate;
  return next && end && next.getTime() > end.getTime() ? undefined : next;
}

function before(a: DueEntry, b: DueEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function key(groupName: string, name: string): string {
  return `${groupName}/${name}`;
}

/** Pages in key order; the token is the last key returned, so deletions between pages skip nothing. */
function paginate<T>(items: T[], keyOf: (item: T) => string, maxResults: number | undefined, nextToken: string | undefined): Page<T> {
  const sorted = items.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const after = nextToken === undefined ? undefined : decodeToken(nextToken);
  const remaining = after === undefined ? sorted : sorted.filter((entry) => entry.key > after);
  const size = maxResults ?? DEFAULT_PAGE_SIZE;
  const page = remaining.slice(0, size);
  const last = page.at(-1);
  return {
    items: page.map((entry) => entry.item),
    nextToken: remaining.length > size && last ? Buffer.from(last.key, 'utf8').toString('base64url') : undefined,
  };
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (decoded === '' || Buffer.from(decoded, 'utf8').toString('base64url') !== token) {
    throw new ValidationError('NextToken is not a token this service issued.');
  }
  return decoded;
}
