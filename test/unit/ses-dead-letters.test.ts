/**
 * A failed SES event leaves only ids in the failed-invocations queue, never an address or a
 * header, and `keepwell dlq redrive` handles it again by finding the recipient through the ledger.
 */
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/ses-events/handler.js';
import { snsDelivery } from '../../local/simulation/actions.js';
import { deadLetterFromSqs } from '../../local/cli/target.js';
import { sesDeadLetterSchema, type SesDeadLetter } from '../../shared/domain/ses-dead-letter.js';
import { deadLetterOf, redriveSesDeadLetter, sesEventSchema } from '../../shared/use-cases/handle-ses-event.js';
import { clientFixture } from '../support/memory-clinic.js';
import { MemoryStore } from '../support/memory-store.js';
import { instant } from '../support/instant.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const clock = { now: () => new Date('2027-02-01T09:00:00.000Z') };
const EMAIL = 'rowan.ash@example.com';
const bounce = (message: string) => ({
  eventType: 'Bounce',
  mail: {
    messageId: 'ses-1',
    source: 'hello@calm.test',
    destination: [EMAIL],
    headers: [{ name: 'To', value: `Rowan Ash <${EMAIL}>` }],
    tags: { message: [message], kind: ['reminder'] },
  },
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    timestamp: '2027-02-01T08:59:00.000Z',
    bouncedRecipients: [{ emailAddress: EMAIL, diagnosticCode: `smtp; 550 ${EMAIL} unknown` }],
  },
});

/** A client with a reminder sent to them, on the ledger under `name`. */
async function sentTo(store: MemoryStore, name: string) {
  const client = clientFixture({ email: EMAIL, name: 'Rowan Ash' });
  await store.putClient(client);
  await store.claim({ name, kind: 'reminder', clientId: client.id, now: instant('2027-02-01T08:58:00.000Z') });
  await store.markSent(name, 'ses-1', instant('2027-02-01T08:58:01.000Z'));
  return client;
}

describe('a dead letter of an SES event', () => {
  it('holds the type, the message name, the SES id and the bounce type: no address, no header, no diagnostic', () => {
    const letter = deadLetterOf(sesEventSchema.parse({ 'detail-type': 'Email Bounced', detail: bounce('rm.s-1.PT2H.v1') }));

    expect(letter).toEqual({
      kind: 'ses-event',
      detailType: 'Email Bounced',
      message: 'rm.s-1.PT2H.v1',
      sesMessageId: 'ses-1',
      at: '2027-02-01T08:59:00.000Z',
      bounceType: 'Permanent',
      bounceSubType: 'General',
    });
    expect(JSON.stringify(letter)).not.toContain('rowan');
    expect(sesDeadLetterSchema.parse(letter)).toEqual(letter);
  });

  it('is what ses-events sends when storing fails, and the invocation then succeeds', async () => {
    const store = new MemoryStore();
    await sentTo(store, 'rm.s-1.PT2H.v1');
    store.failNext('suppressByEmail', new Error('DynamoDB is unavailable'));
    const sent: unknown[] = [];

    const result = await createHandler({ store, ledger: store, clock, log: silent, deadLetters: { send: async (letter) => void sent.push(letter) } })(
      snsDelivery(bounce('rm.s-1.PT2H.v1'), '2027-02-01T08:59:01.000Z'),
    );

    expect(result).toEqual({ status: 'dead-lettered', detailType: 'Email Bounced' });
    expect(sent).toHaveLength(1);
    expect(JSON.stringify(sent)).not.toMatch(/rowan|Rowan|550/);
  });

  it('throws, for Lambda to retry, where there is no queue to send to (the twin) or the send fails', async () => {
    const store = new MemoryStore();
    store.failNext('suppressByEmail', new Error('DynamoDB is unavailable'), 2);
    const event = snsDelivery(bounce('rm.s-1.PT2H.v1'), '2027-02-01T08:59:01.000Z');

    await expect(createHandler({ store, ledger: store, clock, log: silent })(event)).rejects.toThrow('DynamoDB is unavailable');
    await expect(
      createHandler({ store, ledger: store, clock, log: silent, deadLetters: { send: () => Promise.reject(new Error('SQS is unavailable')) } })(event),
    ).rejects.toThrow('SQS is unavailable');
  });

  it('is redriven by finding the recipient through the ledger entry: the client is suppressed and the bounce noted', async () => {
    const store = new MemoryStore({ now: () => clock.now() });
    const client = await sentTo(store, 'rm.s-1.PT2H.v1');
    const letter = deadLetterFromSqs(
      { MessageId: 'q-1', Body: JSON.stringify(deadLetterOf(sesEventSchema.parse({ 'detail-type': 'Email Bounced', detail: bounce('rm.s-1.PT2H.v1') }))) },
      'failed invocations',
    );

    const outcome = await redriveSesDeadLetter({ store, ledger: store, clock, log: silent }, letter.payload as SesDeadLetter);

    expect(outcome).toMatchObject({ status: 'suppressed', clients: 1, message: 'rm.s-1.PT2H.v1' });
    expect((await store.getClient(client.id))?.suppressed).toMatchObject({ reason: 'bounce', detail: 'Permanent/General' });
    expect((await store.get('rm.s-1.PT2H.v1'))?.delivery).toMatchObject({ event: 'bounce' });
  });
});
