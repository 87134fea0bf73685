/**
 * The Mailer port on SES v2 SendEmail, with `Content.Simple`: SES builds the MIME message from the
 * subject, both bodies, the extra headers and the attachments. Simple rather than Raw because
 * (1) SES then owns MIME encoding, folding and boundaries, so nothing here can get them wrong, and
 * the dispatch bundle needs no MIME library; (2) SES v2 local keeps `headers` only for Simple
 * content, so the tests can prove List-Unsubscribe reached SES. The configuration set routes
 * bounce, complaint and delivery events back to ses-events; tags carry opaque ids only.
 *
 * SDK errors become the domain's RetryableError (an HTTP answer saying throttling, quota or 5xx:
 * SES did not take the email), PermanentError (rejected, unverified sender, sending paused,
 * suspended account, bad request) or SendOutcomeUnknownError (no HTTP answer at all — a reset
 * connection, a timeout — so SES may have accepted the email and a retry could send it twice).
 * What each of those means for the message (retry, fail, keep the claim) is decided in one place
 * only, by classify (shared/domain/errors.ts).
 */
import {
  AccountSuspendedException,
  BadRequestException,
  InternalServiceErrorException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendEmailCommand,
  SendingPausedException,
  SESv2Client,
  SESv2ServiceException,
  TooManyRequestsException,
  type SendEmailCommandOutput,
} from '@aws-sdk/client-sesv2';
import { PermanentError, RetryableError, SendOutcomeUnknownError } from '../../domain/errors.js';
import type { Mailer, OutgoingEmail } from '../../ports/mailer.js';
import { readEnv } from '../../config/env.js';
import { AnsweredOnlyRetryStrategy, SES_MAX_ATTEMPTS } from './retry.js';

/** The one SES call the mailer makes; a test can wrap the real client to inject faults. */
export interface SesSendClient {
  send(command: SendEmailCommand): Promise<SendEmailCommandOutput>;
}

const RETRYABLE = [TooManyRequestsException, LimitExceededException, InternalServiceErrorException];
const PERMANENT = [
  MessageRejected,
  MailFromDomainNotVerifiedException,
  SendingPausedException,
  AccountSuspendedException,
  BadRequestException,
  NotFoundException,
];

/** The HTTP status SES answered with, if an answer came back at all. */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Maps an error from SendEmail to RetryableError, PermanentError or SendOutcomeUnknownError; the
 * code is the SDK's error name. Only an error SES answered with may be retried: without an answer
 * the email may be on its way.
 */
export function classifySesError(error: unknown): RetryableError | PermanentError | SendOutcomeUnknownError {
  if (error instanceof RetryableError || error instanceof PermanentError || error instanceof SendOutcomeUnknownError) return error;
  if (RETRYABLE.some((type) => error instanceof type))
    return new RetryableError(`SES is throttling or over quota (${(error as Error).name})`, { cause: error });
  if (PERMANENT.some((type) => error instanceof type)) {
    const name = (error as Error).name;
    return new PermanentError(`SES refused the email (${name})`, name, { cause: error });
  }
  // A service exception is only ever built from an SES response.
  if (error instanceof SESv2ServiceException) {
    const status = httpStatusOf(error) ?? 0;
    // ThrottlingException is the SDK's generic, unmodelled throttling error.
    if (error.$fault === 'server' || status >= 500 || status === 429 || error.name === 'ThrottlingException' || error.$retryable) {
      return new RetryableError(`SES failed temporarily (${error.name}, HTTP ${status})`, { cause: error });
    }
    return new PermanentError(`SES refused the email (${error.name}, HTTP ${status})`, error.name, { cause: error });
  }
  const status = httpStatusOf(error);
  // No answer at all (a reset connection, a timeout, an aborted request): SES may have the email.
  if (status === undefined)
    return new SendOutcomeUnknownError(`SES gave no answer (${error instanceof Error ? error.name : 'unknown error'}): it may have accepted the email`, {
      cause: error,
    });
  // An answer the SDK did not model: a 5xx or 429 is temporary, anything else is not.
  if (status >= 500 || status === 429) return new RetryableError(`SES failed temporarily (HTTP ${status})`, { cause: error });
  return new PermanentError(`SES refused the email (HTTP ${status})`, 'UnexpectedResponse', { cause: error });
}

export interface SesMailerOptions {
  readonly client: SesSendClient;
  /** The configuration set that publishes bounce, complaint and delivery events. */
  readonly configurationSet?: string;
}

export class SesMailer implements Mailer {
  private readonly client: SesSendClient;
  private readonly configurationSet: string | undefined;

  constructor(options: SesMailerOptions) {
    this.client = options.client;
    this.configurationSet = options.configurationSet;
  }

  async send(email: OutgoingEmail): Promise<{ readonly messageId: string }> {
    const command = new SendEmailCommand({
      FromEmailAddress: email.from,
      Destination: { ToAddresses: [email.to] },
      ...(email.replyTo ? { ReplyToAddresses: [email.replyTo] } : {}),
      ...(this.configurationSet ? { ConfigurationSetName: this.configurationSet } : {}),
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Html: { Data: email.html, Charset: 'UTF-8' }, Text: { Data: email.text, Charset: 'UTF-8' } },
          ...(email.headers && Object.keys(email.headers).length > 0
            ? { Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })) }
            : {}),
          ...(email.attachments && email.attachments.length > 0
            ? {
                Attachments: email.attachments.map((a) => ({
                  FileName: a.filename,
                  ContentType: a.contentType,
                  ContentDisposition: a.contentId ? ('INLINE' as const) : ('ATTACHMENT' as const),
                  ...(a.contentId ? { ContentId: a.contentId } : {}),
                  RawContent: typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : a.content,
                })),
              }
            : {}),
        },
      },
      ...(email.tags ? { EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value })) } : {}),
    });
    let output: SendEmailCommandOutput;
    try {
      output = await this.client.send(command);
    } catch (error) {
      throw classifySesError(error);
    }
    // Accepted without an id: the email may be on its way, so a retry could send it twice.
    if (!output.MessageId) throw new PermanentError('SES accepted the email but returned no message id', 'NoMessageId');
    return { messageId: output.MessageId };
  }
}

let shared: SESv2Client | undefined;

/**
 * An SES client whose SDK retries only calls SES answered with throttling or a 5xx: a call with no
 * answer may have sent the email, so it is never repeated blind (see retry.ts).
 */
export function createSesClient(config: ConstructorParameters<typeof SESv2Client>[0] = {}): SESv2Client {
  return new SESv2Client({ ...config, maxAttempts: SES_MAX_ATTEMPTS, retryStrategy: new AnsweredOnlyRetryStrategy() });
}

/**
 * The SES client, created once per container; SES_ENDPOINT points it at SES v2 local in the twin.
 * A Lambda container sends one email at a time, so the SDK's pool of 50 connections never binds
 * there. In the twin every function shares this one client, as many containers at once, so its
 * pool has no limit: a request whose answer never comes (an invocation the chaos layer ended after
 * SES kept its email) holds its own connection, not one of 50 every later send would queue behind.
 */
export function sesClientFromEnv(env: NodeJS.ProcessEnv = process.env): SESv2Client {
  shared ??= createSesClient(env.SES_ENDPOINT ? { endpoint: env.SES_ENDPOINT, requestHandler: { httpAgent: { maxSockets: Infinity } } } : {});
  return shared;
}

/** The mailer for a handler: the shared client and the CONFIGURATION_SET from the environment. */
export function fromEnv(env: NodeJS.ProcessEnv = process.env): SesMailer {
  const { CONFIGURATION_SET } = readEnv(['CONFIGURATION_SET'], env);
  return new SesMailer({ client: sesClientFromEnv(env), configurationSet: CONFIGURATION_SET });
}
