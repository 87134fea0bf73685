import {
  AccountSuspendedException,
  InternalServiceErrorException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SendingPausedException,
  SESv2ServiceException,
  TooManyRequestsException,
  type SendEmailCommand,
  type SendEmailCommandOutput,
} from '@aws-sdk/client-sesv2';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../shared/domain/errors.js';
import { classifySesError, SesMailer, type SesSendClient } from '../../shared/adapters/ses/mailer.js';
import type { OutgoingEmail } from '../../shared/ports/mailer.js';

class RecordingSes implements SesSendClient {
  readonly commands: SendEmailCommand[] = [];
  constructor(private readonly answer: () => Promise<SendEmailCommandOutput> = async () => ({ MessageId: 'ses-1', $metadata: {} })) {}
  async send(command: SendEmailCommand): Promise<SendEmailCommandOutput> {
    this.commands.push(command);
    return this.answer();
  }
}

const email: OutgoingEmail = {
  from: '"Calm & Co" <hello@calm.test>',
  to: 'sam@clients.test',
  subject: 'Reminder: your session on Mon 1 Feb, 2:00 pm',
  html: '<p>Hello</p>',
  text: 'Hello',
  headers: { 'List-Unsubscribe': '<https://x.test/unsubscribe/t>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
  attachments: [{ filename: 'session.ics', contentType: 'text/calendar; charset=utf-8; method=REQUEST', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' }],
  tags: { message: 'rm.s-1.P2D.v1', kind: 'reminder' },
};

const sdkError = <T>(Type: new (opts: { message: string; $metadata: object }) => T) => new Type({ message: 'from SES', $metadata: {} });

describe('the SES v2 mailer', () => {
  it('sends Simple content with both parts, the headers, the attachment, the configuration set and the tags', async () => {
    const ses = new RecordingSes();

    const result = await new SesMailer({ client: ses, configurationSet: 'keepwell' }).send(email);

    expect(result).toEqual({ messageId: 'ses-1' });
    const input = ses.commands[0]!.input;
    expect(input).toMatchObject({
      FromEmailAddress: email.from,
      Destination: { ToAddresses: ['sam@clients.test'] },
      ConfigurationSetName: 'keepwell',
      EmailTags: [
        { Name: 'message', Value: 'rm.s-1.P2D.v1' },
        { Name: 'kind', Value: 'reminder' },
      ],
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Html: { Data: '<p>Hello</p>' }, Text: { Data: 'Hello' } },
          Headers: [
            { Name: 'List-Unsubscribe', Value: '<https://x.test/unsubscribe/t>' },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
          ],
        },
      },
    });
    const [attachment] = input.Content!.Simple!.Attachments!;
    expect(attachment).toMatchObject({
      FileName: 'session.ics',
      ContentType: 'text/calendar; charset=utf-8; method=REQUEST',
      ContentDisposition: 'ATTACHMENT',
    });
    expect(Buffer.from(attachment!.RawContent!).toString('utf8')).toBe('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n');
  });

  it('turns an SES refusal into a PermanentError carrying the SDK error name', async () => {
    const ses = new RecordingSes(() => Promise.reject(sdkError(MessageRejected)));

    const failure = await new SesMailer({ client: ses }).send(email).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(PermanentError);
    expect(failure).toMatchObject({ code: 'MessageRejected' });
  });
});

describe('classifying SES errors', () => {
  it.each([
    ['TooManyRequestsException', sdkError(TooManyRequestsException)],
    ['InternalServiceErrorException', sdkError(InternalServiceErrorException)],
    ['a generic ThrottlingException', new SESv2ServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['any 5xx', new SESv2ServiceException({ name: 'ServiceUnavailable', $fault: 'server', $metadata: { httpStatusCode: 503 } })],
  ])('retries %s', (_what, error) => {
    expect(classifySesError(error)).toBeInstanceOf(RetryableError);
  });

  it.each([
    ['MessageRejected', sdkError(MessageRejected)],
    ['MailFromDomainNotVerifiedException', sdkError(MailFromDomainNotVerifiedException)],
    ['SendingPausedException', sdkError(SendingPausedException)],
    ['AccountSuspendedException', sdkError(AccountSuspendedException)],
  ])('does not retry %s', (code, error) => {
    const classified = classifySesError(error);

    expect(classified).toBeInstanceOf(PermanentError);
    expect(classified).toMatchObject({ code, cause: error });
  });
});
