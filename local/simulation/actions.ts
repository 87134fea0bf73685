/**
 * Things a client or a mail server does to a running twin, done the way the real system receives
 * them: a check-in answered through the use case the web form calls, a bounce delivered to the
 * ses-events handler as SNS delivers SES's event from the configuration set's topic. The simulation and the demo both act through here.
 */
import { randomUUID } from 'node:crypto';
import { recordCheckIn } from '../../shared/use-cases/record-check-in.js';
import { recordIntake } from '../../shared/use-cases/record-intake.js';
import { ValidationError } from '../../shared/domain/validation.js';
import type { Mailer } from '../../shared/ports/mailer.js';
import { toInstant } from '../../shared/domain/time.js';
import { sameEmail } from '../../shared/domain/email-address.js';
import { LOCAL_ACCOUNT } from '../twin.js';
import { LOCAL_REGION } from '../services.js';
import type { Twin } from '../twin.js';
import { fetchSesStore } from './outbox.js';

/** Answers one check-in as its client would from the form; invalid answers are a ValidationError. */
export async function answerCheckIn(
  twin: Twin,
  mailer: Mailer,
  input: { clientId: string; sessionId: string; answers: unknown },
  now: Date | string,
): Promise<'recorded' | 'already-answered'> {
  const result = await recordCheckIn({ store: twin.store, ledger: twin.store, mailer, clinic: twin.clinic }, { ...input, now });
  if (result.status === 'invalid') throw new ValidationError(`check-in answers for session ${input.sessionId}`, result.issues);
  return result.status;
}

/** Answers a plan's intake questionnaire as its client would from the page; invalid answers are a ValidationError. */
export async function answerIntake(
  twin: Twin,
  input: { clientId: string; planId: string; answers: unknown },
  now: Date | string,
): Promise<'recorded' | 'already-answered'> {
  const result = await recordIntake({ store: twin.store }, { ...input, now });
  if (result.status === 'invalid') throw new ValidationError(`intake answers for plan ${input.planId}`, result.issues);
  return result.status;
}

/** How far back a bounce looks for the email it answers. */
const BOUNCE_LOOKBACK_MS = 14 * 86_400_000;

/** One SES event as SNS hands it to a subscribed function: a single record whose Message is SES's JSON. */
export function snsDelivery(sesEvent: Record<string, unknown>, at: string): Record<string, unknown> {
  const topic = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:keepwell-ses-events`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topic}:${randomUUID()}`,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topic,
          Subject: null,
          Message: JSON.stringify(sesEvent),
          Timestamp: at,
          MessageAttributes: {},
        },
      },
    ],
  };
}

/**
 * SES's bounce event (Permanent) for the latest email the twin sent to `email`, as the
 * configuration set publishes it to its topic: the message id and tags of that email, so the
 * handler can tie the bounce to its ledger entry. With no email sent yet, the ids are made up.
 */
export async function bounceEvent(twin: Twin, email: string): Promise<Record<string, unknown>> {
  const now = twin.clock.now();
  const at = toInstant(now);
  const sent = (await fetchSesStore(twin.sesEndpoint)).filter((e) => e.destination.to.some((to) => sameEmail(to, email)));
  const ledger = sent.length > 0 ? await twin.store.listSince(toInstant(now.getTime() - BOUNCE_LOOKBACK_MS), at) : [];
  const ids = new Set(sent.map((e) => e.messageId));
  const latest = ledger
    .filter((e) => e.status === 'sent' && e.sesMessageId && ids.has(e.sesMessageId))
    .sort((a, b) => (a.updatedAt < b.updatedAt ? -1 : 1))
    .at(-1);
  const configurationSet = process.env.CONFIGURATION_SET ?? 'keepwell-local';
  return snsDelivery(
    {
      eventType: 'Bounce',
      bounce: {
        feedbackId: randomUUID(),
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: email, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        timestamp: at,
        reportingMTA: 'dns; local.keepwell',
      },
      mail: {
        timestamp: latest?.updatedAt ?? at,
        source: twin.clinic.senderEmail,
        sendingAccountId: LOCAL_ACCOUNT,
        messageId: latest?.sesMessageId ?? randomUUID(),
        destination: [email],
        tags: {
          'ses:configuration-set': [configurationSet],
          ...(latest ? { message: [latest.name], kind: [latest.kind] } : {}),
        },
      },
    },
    at,
  );
}
