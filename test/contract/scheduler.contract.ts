/**
 * The MessageScheduler contract, run against the in-memory scheduler (unit tier) and the
 * EventBridge adapter on the twin's local Scheduler (integration tier). `read` looks a schedule up
 * past the port (the fake's map, GetSchedule on the Scheduler), to see what an upsert stored.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { messageName, type MessageIdentity } from '../../shared/domain/message.js';
import type { MessageScheduler, OneTimeSchedule } from '../../shared/ports/scheduler.js';
import { instant } from '../support/instant.js';
import type { Instant } from '../../shared/domain/time.js';

export interface SchedulerSubject {
  readonly scheduler: MessageScheduler;
  /** The stored schedule's time and payload, or undefined when there is none. */
  read(name: string): Promise<{ at: string; payload: OneTimeSchedule['payload'] } | undefined>;
}

function schedule(subjectId: string, at: Instant, extra: Partial<OneTimeSchedule['payload']> = {}): OneTimeSchedule {
  const message: MessageIdentity = { kind: 'reminder', subjectId, offset: 'P1D', version: 1 };
  return { name: messageName(message), at, payload: { message, clientId: 'c-contract', sessionId: subjectId, ...extra } };
}

export function schedulerContract(make: () => Promise<SchedulerSubject>): void {
  const subject = () => `s-${randomUUID().slice(0, 8)}`;

  it('creates a schedule, then replaces it in full', async () => {
    const { scheduler, read } = await make();
    const first = schedule(subject(), instant('2030-06-01T09:00:00.000Z'), { planId: 'p-contract', therapistId: 't-contract' });
    const second: OneTimeSchedule = { ...first, at: instant('2030-06-02T10:30:00.000Z'), payload: { message: first.payload.message, clientId: 'c-other' } };

    expect(await scheduler.upsert(first)).toBe('created');
    expect(await read(first.name)).toEqual({ at: first.at, payload: first.payload });
    expect(await scheduler.upsert(second)).toBe('updated');
    // Nothing of the first definition survives: no plan or therapist id, the new time and client.
    expect(await read(first.name)).toEqual({ at: second.at, payload: second.payload });
  });

  it('removes a schedule: true, then false once it is gone', async () => {
    const { scheduler, read } = await make();
    const s = schedule(subject(), instant('2030-06-01T09:00:00.000Z'));
    await scheduler.upsert(s);

    expect(await scheduler.remove(s.name)).toBe(true);
    expect(await read(s.name)).toBeUndefined();
    expect(await scheduler.remove(s.name)).toBe(false);
  });

  it('lists the schedules whose names start with a prefix, and only those', async () => {
    const { scheduler } = await make();
    const mine = subject();
    const names = [];
    for (const offset of ['P1D', 'PT2H']) {
      const message: MessageIdentity = { kind: 'reminder', subjectId: mine, offset, version: 1 };
      names.push(messageName(message));
      await scheduler.upsert({ name: messageName(message), at: instant('2030-06-01T09:00:00.000Z'), payload: { message, clientId: 'c-contract' } });
    }
    await scheduler.upsert(schedule(subject(), instant('2030-06-01T09:00:00.000Z')));

    const listed = await scheduler.list(`rm.${mine}.`);

    expect(listed.map((e) => e.name).sort()).toEqual(names.sort());
    expect(await scheduler.list(`rm.${subject()}.`)).toEqual([]);
  });
}
