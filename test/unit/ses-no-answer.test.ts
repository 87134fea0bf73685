/**
 * When SES gives no answer, the email may be on its way: the mailer says "outcome unknown"
 * instead of "retry", so no caller sends it twice. Only an answer SES gave may be retried.
 */
import { SESv2ServiceException, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { classifySesError, SesMailer } from '../../shared/adapters/ses/mailer.js';
import { PermanentError, RetryableError, SendOutcomeUnknownError } from '../../shared/domain/errors.js';

const email = { from: 'care@harbour.example', to: 'sam@example.com', subject: 'Reminder', html: '<p>Hi</p>', text: 'Hi' };

describe('an SES call that got no answer', () => {
  it.each([
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout after the SDK’s own retries', Object.assign(new Error('Request timed out'), { name: 'TimeoutError', $metadata: { attempts: 3 } })],
  ])('is outcome unknown after %s, never a retry', (_what, error) => {
    const classified = classifySesError(error);

    expect(classified).toBeInstanceOf(SendOutcomeUnknownError);
    expect(classified).not.toBeInstanceOf(RetryableError);
    expect(classified).toMatchObject({ cause: error });
  });

  it('reaches the caller of send as outcome unknown', async () => {
    const mailer = new SesMailer({ client: { send: async () => Promise.reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })) } });

    await expect(mailer.send(email)).rejects.toBeInstanceOf(SendOutcomeUnknownError);
  });
});

describe('an SES call that got an answer', () => {
  it('is retried on throttling or a 5xx, even one the SDK does not model', () => {
    expect(classifySesError(new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }))).toBeInstanceOf(RetryableError);
    expect(classifySesError(Object.assign(new Error('Bad Gateway'), { $metadata: { httpStatusCode: 502 } }))).toBeInstanceOf(RetryableError);
  });

  it('is permanent on a 4xx that is not throttling', () => {
    expect(classifySesError(new SESv2ServiceException({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 } }))).toBeInstanceOf(
      PermanentError,
    );
    expect(classifySesError(Object.assign(new Error('Forbidden'), { $metadata: { httpStatusCode: 403 } }))).toMatchObject({ code: 'UnexpectedResponse' });
  });
});
