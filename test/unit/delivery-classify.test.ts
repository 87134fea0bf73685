/** The one map from an error's class to what happens next. */
import { describe, expect, it } from 'vitest';
import {
  LedgerConflictError,
  NotFoundError,
  PermanentError,
  RetryableError,
  SendOutcomeUnknownError,
  SentButUnrecordedError,
  ValidationError,
} from '../../shared/domain/errors.js';
import { classify, outcomeOf, refusalReason, type FailureAction } from '../../shared/domain/errors.js';

const cases: Array<[string, unknown, FailureAction, FailureAction]> = [
  // [what, error, before the mailer was called, in or after the call]
  ['SES gave no answer', new SendOutcomeUnknownError('no answer'), 'keep', 'keep'],
  ['a send the ledger could not record', new SentButUnrecordedError('rm.s-1.P2D.v1'), 'keep', 'keep'],
  ['throttling', new RetryableError('SES is throttling'), 'retry', 'retry'],
  ['a refusal', new PermanentError('SES refused the email', 'MessageRejected'), 'fail', 'fail'],
  ['invalid data', new ValidationError('session', [{ path: 'start', reason: 'bad' }]), 'skip', 'skip'],
  ['a missing record', new NotFoundError('session', 's-1'), 'skip', 'skip'],
  ['a time no clock can hold', new RangeError('Invalid time value'), 'skip', 'skip'],
  ['an error of no known class', new Error('socket hang up'), 'retry', 'fail'],
  ['a lost ledger race (the pipeline settles it before classifying)', new LedgerConflictError('rm.s-1.P2D.v1', 'failed'), 'retry', 'fail'],
  ['something thrown that is not an error', 'boom', 'retry', 'fail'],
];

describe('classify', () => {
  it.each(cases)('maps %s to %s before the send and %s once the mailer was called', (_what, error, beforeSend, atSend) => {
    expect(classify(error, 'before-send')).toBe(beforeSend);
    expect(classify(error, 'send')).toBe(atSend);
  });

  it('takes an error as before the send when no stage is given', () => {
    expect(classify(new Error('socket hang up'))).toBe('retry');
  });
});

describe('outcomeOf, for work that sends no email', () => {
  it.each([
    [new PermanentError('refused', 'ValidationException'), 'skip'],
    [new ValidationError('plan', [{ path: 'phases', reason: 'bad' }]), 'skip'],
    [new NotFoundError('plan', 'p-1'), 'skip'],
    [new RangeError('P99999Y'), 'skip'],
    [new RetryableError('throttled'), 'retry'],
    [new SendOutcomeUnknownError('no answer'), 'retry'],
    [new Error('ECONNRESET'), 'retry'],
  ] as const)('maps %s to %s', (error, outcome) => {
    expect(outcomeOf(error)).toBe(outcome);
  });
});

describe('refusalReason', () => {
  it("records a refusal's code and message, and any other error by its class name only", () => {
    expect(refusalReason(new PermanentError('SES refused the email (MessageRejected)', 'MessageRejected'))).toBe(
      'MessageRejected: SES refused the email (MessageRejected)',
    );
    expect(refusalReason(new ValidationError('client', [{ path: 'email', reason: 'sam@example.com is taken' }]))).toBe('ValidationError');
  });
});
