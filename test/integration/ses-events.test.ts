/**
 * ses-events on DynamoDB Local: SES configuration-set events, as SNS delivers them from the
 * configuration set's topic, for emails dispatch really sent through SES v2 local.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { virtualClock } from '../../local/clock.js';
import { createHandler as createDispatch } from '../../functions/dispatch/handler.js';
import { createHandler } from '../../functions/ses-events/handler.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { InMemoryMessageScheduler } from '../support/memory-scheduler.js';
import { messageName } from '../../shared/domain/message.js';
import type { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import type { OpaqueLog } from '../../shared/ports/log.js';
import { snsDelivery } from '../../local/simulation/actions.js';
import { createTestTable, sesClient } from '../support/local-aws.js';
import { clinicFixture, payloadFor, reminderIdentity, seedClinic, testSigner, type SeededClinic } from '../support/memory-clinic.js';

const SENT_AT = '2027-01-30T14:00:00.000Z';
const clock = virtualClock(new Date(SENT_AT));
let store: DynamoStore;
const lines: string[] = [];
const log: OpaqueLog = {
  info: (message, ...attributes) => lines.push(JSON.stringify({ message, ...Object.assign({}, ...attributes) })),
  warn: (message, ...attributes) => lines.push(JSON.stringify({ message, ...Object.assign({}, ...attributes) })),
  error: (message, ...attributes) => lines.push(JSON.stringify({ message, ...Object.assign({}, ...attributes) })),
};
const silent: OpaqueLog = { info: () => {}, warn: () => {}, error: () => {} };

beforeAll(async () => {
  store = (await createTestTable({ now: () => clock.now() })).store;
});

function dispatch() {
  return createDispatch({
    store,
    ledger: store,
    mailer: new SesMailer({ client: sesClient() }),
    scheduler: new InMemoryMessageScheduler(),
    tokens: testSigner(),
    clinic: clinicFixture(),
    clock,
    log: silent,
  });
}

/** A client with a reminder really sent through SES local: its message name and SES message id. */
async function sentReminder(): Promise<{ seeded: SeededClinic; name: string; sesMessageId: string }> {
  const seeded = await seedClinic(store);
  const identity = reminderIdentity(seeded.sessions.at(-1)!);
  clock.set(new Date(SENT_AT));
  const result = await dispatch()(payloadFor(seeded, identity, SENT_AT));
  if (result.status !== 'sent') throw new Error(`expected the reminder to be sent, got ${result.status}`);
  return { seeded, name: messageName(identity), sesMessageId: result.sesMessageId };
}

/** SES's JSON for one event type, in the one-record SNS delivery the function receives. */
function sesEvent(detailType: string, sent: { name: string; sesMessageId: string }, email: string, extra: Record<string, unknown>) {
  return snsDelivery(
    {
      eventType: EVENT_TYPES[detailType] ?? detailType,
      mail: {
        timestamp: '2027-01-30T14:00:00.000Z',
        source: 'hello@calm.test',
        messageId: sent.sesMessageId,
        destination: [email],
        tags: { message: [sent.name], kind: ['reminder'], 'ses:configuration-set': ['keepwell'] },
      },
      ...extra,
    },
    '2027-01-30T14:00:09.000Z',
  );
}

/** The detail types these tests name, as SES's own eventType. */
const EVENT_TYPES: Record<string, string> = {
  'Email Bounced': 'Bounce',
  'Email Complaint Received': 'Complaint',
  'Email Delivered': 'Delivery',
  'Email Rejected': 'Reject',
  'Email Delivery Delayed': 'DeliveryDelay',
  'Email Opened': 'Open',
  'Email Sent': 'Send',
};

/** Built per call: `store` exists only once beforeAll has run. */
const handle = (event: unknown) => createHandler({ store, ledger: store, clock, log })(event);

describe('a hard bounce', () => {
  it('suppresses the address for every category and notes the bounce on the ledger entry', async () => {
    const sent = await sentReminder();
    const email = sent.seeded.client.email;

    const result = await handle(
      sesEvent('Email Bounced', sent, email, {
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          timestamp: '2027-01-30T14:00:08.000Z',
          bouncedRecipients: [{ emailAddress: email, diagnosticCode: `smtp; 550 ${email} does not exist` }],
        },
      }),
    );

    expect(result).toMatchObject({ status: 'suppressed', clients: 1, message: sent.name });
    expect((await store.getClient(sent.seeded.client.id))?.suppressed).toEqual({
      reason: 'bounce',
      at: '2027-01-30T14:00:08.000Z',
      detail: 'Permanent/General',
    });
    expect((await store.get(sent.name))?.delivery).toEqual({ event: 'bounce', at: '2027-01-30T14:00:08.000Z', detail: 'Permanent/General' });
  });

  it('stops every later email to that client', async () => {
    const sent = await sentReminder();
    const email = sent.seeded.client.email;
    await handle(
      sesEvent('Email Bounced', sent, email, { bounce: { bounceType: 'Permanent', bounceSubType: 'NoEmail', bouncedRecipients: [{ emailAddress: email }] } }),
    );
    clock.set(new Date('2027-02-01T12:00:00.000Z'));

    const next = await dispatch()(payloadFor(sent.seeded, reminderIdentity(sent.seeded.sessions.at(-1)!, 'PT2H'), '2027-02-01T12:00:00.000Z'));

    expect(next).toMatchObject({ status: 'skipped', reason: 'address suppressed (bounce)' });
  });
});

describe('other SES events', () => {
  it('suppresses a complaining address', async () => {
    const sent = await sentReminder();
    const email = sent.seeded.client.email;

    await handle(
      sesEvent('Email Complaint Received', sent, email, {
        complaint: { complaintFeedbackType: 'abuse', timestamp: '2027-01-30T15:00:00.000Z', complainedRecipients: [{ emailAddress: email.toUpperCase() }] },
      }),
    );

    expect((await store.getClient(sent.seeded.client.id))?.suppressed).toEqual({ reason: 'complaint', at: '2027-01-30T15:00:00.000Z', detail: 'abuse' });
    expect((await store.get(sent.name))?.delivery).toMatchObject({ event: 'complaint' });
  });

  it('does not suppress on a transient bounce, but notes it', async () => {
    const sent = await sentReminder();
    const email = sent.seeded.client.email;

    const result = await handle(
      sesEvent('Email Bounced', sent, email, {
        bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', bouncedRecipients: [{ emailAddress: email }] },
      }),
    );

    expect(result).toEqual({ status: 'recorded', event: 'bounce-transient', message: sent.name });
    expect((await store.getClient(sent.seeded.client.id))?.suppressed).toBeUndefined();
    expect((await store.get(sent.name))?.delivery).toMatchObject({ event: 'bounce-transient', detail: 'Transient/MailboxFull' });
  });

  it('records a delivery on the ledger entry of the message named in the tag', async () => {
    const sent = await sentReminder();

    await handle(
      sesEvent('Email Delivered', sent, sent.seeded.client.email, {
        delivery: { timestamp: '2027-01-30T14:00:03.120Z', recipients: [sent.seeded.client.email], smtpResponse: '250 ok' },
      }),
    );

    expect(await store.get(sent.name)).toMatchObject({
      status: 'sent',
      sesMessageId: sent.sesMessageId,
      delivery: { event: 'delivery', at: '2027-01-30T14:00:03.120Z' },
    });
  });

  it('leaves the ledger alone when the SES message id is not the one recorded for that name', async () => {
    const sent = await sentReminder();

    await handle(
      sesEvent('Email Delivered', { ...sent, sesMessageId: 'some-other-id' }, sent.seeded.client.email, {
        delivery: { timestamp: '2027-01-30T14:00:03.000Z' },
      }),
    );

    expect((await store.get(sent.name))?.delivery).toBeUndefined();
  });

  it('ignores a detail type it does not act on, with a log line', async () => {
    const sent = await sentReminder();

    const result = await handle(sesEvent('Email Opened', sent, sent.seeded.client.email, { open: { ipAddress: '192.0.2.1' } }));

    expect(result).toEqual({ status: 'ignored', detailType: 'Email Opened' });
    expect(lines.at(-1)).toContain('"detailType":"Email Opened"');
  });

  it('drops a malformed event, naming the bad field', async () => {
    const result = await handle(snsDelivery({ eventType: 'Bounce', bounce: { bounceType: 'Permanent' } }, '2027-01-30T14:00:09.000Z'));

    expect(result).toMatchObject({ status: 'invalid', issues: [{ path: 'detail.mail' }] });
  });

  it('drops what SNS would never deliver: an EventBridge-shaped event, a Message that is not JSON', async () => {
    const onTheDefaultBus = await handle({ 'detail-type': 'Email Bounced', source: 'aws.ses', detail: { mail: { messageId: 'm-1' } } });
    const notJson = await handle({ Records: [{ Sns: { Message: 'not json' } }] });

    expect(onTheDefaultBus).toMatchObject({ status: 'invalid', issues: [{ path: 'Records' }] });
    expect(notJson).toMatchObject({ status: 'invalid', issues: expect.arrayContaining([expect.objectContaining({ path: 'detail' })]) });
  });
});

describe('logs', () => {
  it('carry detail types, message names and counts, never an address', async () => {
    lines.length = 0;
    const sent = await sentReminder();
    const email = sent.seeded.client.email;

    await handle(sesEvent('Email Bounced', sent, email, { bounce: { bounceType: 'Permanent', bouncedRecipients: [{ emailAddress: email }] } }));
    await handle(sesEvent('Email Delivered', sent, email, { delivery: {} }));
    await handle(sesEvent('Email Sent', sent, email, {}));

    const text = lines.join('\n');
    expect(text).toContain('addresses suppressed after SES event');
    expect(text).toContain(sent.name);
    expect(text).not.toContain(email);
    expect(text).not.toContain(email.split('@')[0]!);
    expect(text).not.toContain(sent.seeded.client.name);
  });
});
