/**
 * The Mailer contract, run against the in-memory mailer (unit tier) and the SES adapter on SES v2
 * local (integration tier). `stored` reads back what the mail service kept for a message id (the
 * fake's list, SES local's store), in one shape, for the fields the use cases rely on: sender,
 * recipient, reply-to, subject, both bodies, extra headers (List-Unsubscribe) and attachments
 * (the calendar invitation). Tags are not compared: SES v2 local does not keep them.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Mailer, OutgoingEmail } from '../../shared/ports/mailer.js';

export interface StoredMail {
  readonly from: string;
  readonly to: string;
  readonly replyTo?: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly headers: Record<string, string>;
  readonly attachments: Array<{ filename: string; contentType: string; base64: string }>;
}

export interface MailerSubject {
  readonly mailer: Mailer;
  stored(messageId: string): Promise<StoredMail | undefined>;
}

/** The stored shape of an outgoing email, as the contract expects both sides to keep it. */
export function expectedMail(email: OutgoingEmail): StoredMail {
  return {
    from: email.from,
    to: email.to,
    ...(email.replyTo ? { replyTo: email.replyTo } : {}),
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: { ...email.headers },
    attachments: (email.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      base64: Buffer.from(typeof a.content === 'string' ? Buffer.from(a.content, 'utf8') : a.content).toString('base64'),
    })),
  };
}

export function mailerContract(make: () => Promise<MailerSubject>): void {
  const email = (): OutgoingEmail => {
    const id = randomUUID().slice(0, 8);
    return {
      from: 'Harbour Clinic <hello@harbour.example>',
      to: `sam.${id}@example.com`,
      replyTo: 'amy@harbour.example',
      subject: 'Your session on Monday 1 February at 14:00 — reminder',
      html: '<p>See you soon, Sam — <a href="https://harbour.example/confirm/abc">confirm</a></p>',
      text: 'See you soon, Sam — confirm: https://harbour.example/confirm/abc',
      headers: { 'List-Unsubscribe': `<https://harbour.example/unsubscribe/${id}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      attachments: [
        { filename: 'session.ics', contentType: 'text/calendar; method=REQUEST', content: 'BEGIN:VCALENDAR\r\nSUMMARY:Massage — Room 1\r\nEND:VCALENDAR\r\n' },
      ],
      tags: { message: `rm.s-${id}.P1D.v1`, kind: 'reminder' },
    };
  };

  it('returns a distinct message id for every email, even the same email twice', async () => {
    const { mailer } = await make();
    const one = email();

    const ids = [(await mailer.send(one)).messageId, (await mailer.send(one)).messageId, (await mailer.send(email())).messageId];

    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(3);
  });

  it('keeps what the use cases rely on: addresses, subject, both bodies, headers and attachments', async () => {
    const { mailer, stored } = await make();
    const sent = email();

    const { messageId } = await mailer.send(sent);

    expect(await stored(messageId)).toEqual(expectedMail(sent));
  });

  it('keeps an email without reply-to, headers or attachments as just that', async () => {
    const { mailer, stored } = await make();
    const { replyTo: _r, headers: _h, attachments: _a, ...plain } = email();

    const { messageId } = await mailer.send(plain);

    expect(await stored(messageId)).toEqual(expectedMail(plain));
  });
}
