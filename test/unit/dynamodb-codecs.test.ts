/** The DynamoDB store's item codecs: what a read hands back, and how a malformed item is reported. */
import { describe, expect, it } from 'vitest';
import { decode, ledgerEntryFromImage } from '../../shared/adapters/dynamodb/codecs.js';
import { ValidationError } from '../../shared/domain/validation.js';

const sessionItem = {
  pk: 'CLIENT#c-1',
  sk: 'SESSION#s-1',
  type: 'session',
  gsi1pk: 'SESSIONS#2027-03-01',
  gsi1sk: '2027-03-01T10:00:00.000Z#s-1',
  gsi2pk: 'THERAPIST#t-amy',
  gsi2sk: 'SESSION#2027-03-01T10:00:00.000Z#s-1',
  updatedAt: '2027-02-01T09:00:00.000Z',
  id: 's-1',
  planId: 'p-1',
  clientId: 'c-1',
  therapistId: 't-amy',
  start: '2027-03-01T10:00:00.000Z',
  durationMinutes: 60,
  location: 'Room 3',
  status: 'booked',
  version: 1,
  intakeVersion: 4,
};

function errorOf(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('the item codecs', () => {
  it('hand back the domain object without keys or bookkeeping, keeping attributes a newer writer added', () => {
    const { pk, sk, type, gsi1pk, gsi1sk, gsi2pk, gsi2sk, updatedAt, ...session } = sessionItem;

    expect(decode.session(sessionItem)).toEqual(session);
  });

  it('leave the item read as it was', () => {
    const item = { ...sessionItem };

    decode.session(item);

    expect(item).toEqual(sessionItem);
  });

  it('refuse a malformed item, naming its key and every bad field, and no value', () => {
    const error = errorOf(() => decode.session({ ...sessionItem, start: 42, status: 'lost in time', location: undefined }));

    expect(error.message).toMatch(/^stored session item CLIENT#c-1 \/ SESSION#s-1 is invalid: /);
    expect(error.issues.map((i) => i.path).sort()).toEqual(['location', 'start', 'status']);
    expect(error.message).not.toContain('lost in time');
  });

  it('mask an address in the key of a malformed lookup item', () => {
    const error = errorOf(() => decode.pointer({ pk: 'EMAIL#sam@example.com', sk: 'EMAIL', type: 'email' }));

    expect(error.message).toMatch(/^stored lookup item EMAIL#… \/ EMAIL is invalid: clientId: /);
    expect(error.message).not.toContain('sam@example.com');
  });

  it('keep a ledger entry’s update time, and count no attempt where none was written', () => {
    const entry = decode.ledgerEntry({
      pk: 'MSG#ci.s-1.after.v1',
      sk: 'MSG',
      type: 'message',
      name: 'ci.s-1.after.v1',
      kind: 'check-in',
      status: 'skipped',
      updatedAt: '2027-03-02T10:00:00.000Z',
      expiresAt: 1_900_000_000,
    });

    expect(entry).toEqual({ name: 'ci.s-1.after.v1', kind: 'check-in', status: 'skipped', attempts: 0, updatedAt: '2027-03-02T10:00:00.000Z' });
  });

  it('read a ledger entry from a refused write’s raw image, nested maps included', () => {
    const entry = ledgerEntryFromImage({
      pk: { S: 'MSG#rm.s-1.P2D.v1' },
      sk: { S: 'MSG' },
      name: { S: 'rm.s-1.P2D.v1' },
      kind: { S: 'reminder' },
      status: { S: 'sent' },
      attempts: { N: '1' },
      sesMessageId: { S: 'ses-1' },
      delivery: { M: { event: { S: 'Delivery' }, at: { S: '2027-03-02T10:00:01.000Z' } } },
      updatedAt: { S: '2027-03-02T10:00:00.000Z' },
    });

    expect(entry).toEqual({
      name: 'rm.s-1.P2D.v1',
      kind: 'reminder',
      status: 'sent',
      attempts: 1,
      sesMessageId: 'ses-1',
      delivery: { event: 'Delivery', at: '2027-03-02T10:00:01.000Z' },
      updatedAt: '2027-03-02T10:00:00.000Z',
    });
  });

  it('refuse a ledger entry in a status the ledger does not have', () => {
    const error = errorOf(() => decode.ledgerEntry({ pk: 'MSG#x', sk: 'MSG', name: 'x', kind: 'reminder', status: 'lost' }));

    expect(error.issues.map((i) => i.path)).toEqual(['status']);
  });
});
