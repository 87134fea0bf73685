import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { messageName } from '../../shared/domain/message.js';
import type { LedgerEntry } from '../../shared/ports/store.js';
import { joinOutbox, kindOfName, offsetOfName, type SesStoredEmail } from '../../local/simulation/outbox.js';
import { parseScenario } from '../../local/simulation/scenario.js';
import { demoScenario } from '../../local/demo/clinic.js';
import { instant } from '../support/instant.js';

function entry(overrides: Partial<LedgerEntry> & Pick<LedgerEntry, 'name' | 'status' | 'updatedAt'>): LedgerEntry {
  return { kind: kindOfName(overrides.name) ?? 'reminder', attempts: 1, ...overrides };
}

function stored(messageId: string, to: string, subject: string): SesStoredEmail {
  return { messageId, from: 'care@clinic.example', destination: { to: [to] }, subject, body: { text: `${subject} (text)`, html: `<p>${subject}</p>` }, at: 1 };
}

describe('message names', () => {
  it('yield the reminder offset exactly as the plan wrote it', () => {
    expect(offsetOfName('rm.s-sam-1.P2D.v3')).toBe('P2D');
    expect(offsetOfName('rm.s_kai-1.PT48H.v1')).toBe('PT48H');
  });

  it('yield no offset once shortened with a hash', () => {
    const long = messageName({ kind: 'reminder', subjectId: 's'.repeat(40), offset: 'P1Y2M3W4DT5H6M7S', version: 100 });

    expect(long).toHaveLength(64);
    expect(offsetOfName(long)).toBeUndefined();
  });

  it('yield their kind from the code in front', () => {
    expect(['rm.s.P2D.v1', 'ci.s.after.v1', 'mn.p.20270301.v1', 'su.t.20270301.v1', 'ta.s.checkin.v1', 'xx.s.v1'].map(kindOfName)).toEqual([
      'reminder',
      'check-in',
      'maintenance-nudge',
      'summary',
      'therapist-alert',
      undefined,
    ]);
  });
});

describe('joinOutbox', () => {
  it('joins each sent ledger entry with the email SES accepted under its message id, in send order', () => {
    const entries = [
      entry({
        name: 'ci.s-1.after.v1',
        status: 'sent',
        updatedAt: instant('2027-02-02T15:00:00.000Z'),
        sesMessageId: 'm-2',
        clientId: 'c-1',
        sessionId: 's-1',
        planId: 'p-1',
      }),
      entry({
        name: 'rm.s-1.P2D.v1',
        status: 'sent',
        updatedAt: instant('2027-01-30T14:00:00.000Z'),
        sesMessageId: 'm-1',
        clientId: 'c-1',
        sessionId: 's-1',
        planId: 'p-1',
        therapistId: 't-1',
      }),
    ];
    const ses = [
      stored('m-1', 'sam@example.com', 'Reminder'),
      stored('m-2', 'sam@example.com', 'How are you?'),
      stored('m-other', 'x@example.com', 'Not ours'),
    ];

    const { emails, unmatched } = joinOutbox(entries, ses);

    expect(emails).toEqual([
      {
        sentAt: '2027-01-30T14:00:00.000Z',
        to: 'sam@example.com',
        kind: 'reminder',
        offset: 'P2D',
        subject: 'Reminder',
        name: 'rm.s-1.P2D.v1',
        clientId: 'c-1',
        sessionId: 's-1',
        planId: 'p-1',
        therapistId: 't-1',
        text: 'Reminder (text)',
        html: '<p>Reminder</p>',
      },
      {
        sentAt: '2027-02-02T15:00:00.000Z',
        to: 'sam@example.com',
        kind: 'check-in',
        subject: 'How are you?',
        name: 'ci.s-1.after.v1',
        clientId: 'c-1',
        sessionId: 's-1',
        planId: 'p-1',
        text: 'How are you? (text)',
        html: '<p>How are you?</p>',
      },
    ]);
    expect(unmatched).toEqual([]);
  });

  it('lists skipped and failed entries with their reasons, and leaves claims in progress out', () => {
    const entries = [
      entry({
        name: 'rm.s-2.P2D.v1',
        status: 'skipped',
        updatedAt: instant('2027-02-01T09:00:00.000Z'),
        reason: 'superseded by a later reminder',
        dueAt: instant('2027-01-31T09:00:00.000Z'),
        sessionId: 's-2',
      }),
      entry({
        name: 'ci.s-2.after.v1',
        status: 'failed',
        updatedAt: instant('2027-02-03T09:00:00.000Z'),
        reason: 'PermanentError: MessageRejected',
        sessionId: 's-2',
      }),
      entry({ name: 'rm.s-3.PT2H.v1', status: 'claimed', updatedAt: instant('2027-02-03T09:00:00.000Z') }),
      entry({ name: 'rm.s-4.PT2H.v1', status: 'released', updatedAt: instant('2027-02-03T09:00:00.000Z') }),
    ];

    const outbox = joinOutbox(entries, []);

    expect(outbox.skipped).toEqual([
      {
        at: '2027-02-01T09:00:00.000Z',
        kind: 'reminder',
        name: 'rm.s-2.P2D.v1',
        reason: 'superseded by a later reminder',
        dueAt: '2027-01-31T09:00:00.000Z',
        sessionId: 's-2',
      },
    ]);
    expect(outbox.failed).toEqual([
      { at: '2027-02-03T09:00:00.000Z', kind: 'check-in', name: 'ci.s-2.after.v1', reason: 'PermanentError: MessageRejected', sessionId: 's-2' },
    ]);
    expect(outbox.emails).toEqual([]);
  });

  it('counts an entry read twice once, at its latest state', () => {
    const claimed = entry({ name: 'rm.s-1.P2D.v1', status: 'claimed', updatedAt: instant('2027-01-30T14:00:00.000Z') });
    const sent = { ...claimed, status: 'sent' as const, updatedAt: instant('2027-01-30T14:00:01.000Z'), sesMessageId: 'm-1' };

    const { emails } = joinOutbox([sent, claimed, sent], [stored('m-1', 'sam@example.com', 'Reminder')]);

    expect(emails.map((e) => [e.name, e.sentAt])).toEqual([['rm.s-1.P2D.v1', '2027-01-30T14:00:01.000Z']]);
  });

  it('names a sent entry whose email SES does not hold, instead of reporting an email it cannot show', () => {
    const { emails, unmatched } = joinOutbox(
      [entry({ name: 'rm.s-1.P2D.v1', status: 'sent', updatedAt: instant('2027-01-30T14:00:00.000Z'), sesMessageId: 'gone' })],
      [],
    );

    expect(emails).toEqual([]);
    expect(unmatched).toEqual(['rm.s-1.P2D.v1']);
  });
});

describe('the demo clinic example', () => {
  it('is the demo scenario at its start, so the example and `npm start` tell the same story', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/demo-clinic.json', import.meta.url), 'utf8')) as { simulate: { from: string } };

    expect(example).toEqual(demoScenario(new Date(example.simulate.from)));
  });

  it('is a valid scenario that answers three check-ins after the past ones', () => {
    const scenario = parseScenario(demoScenario(new Date('2027-03-01T06:00:00Z')));

    expect(scenario.dataset.clients).toHaveLength(5);
    expect(scenario.events.filter((e) => e.at > scenario.simulate.from).map((e) => e.type === 'check-in-response' && e.sessionId)).toEqual([
      's-sam-2',
      's-mia-1',
      's-leo-3',
    ]);
  });
});
