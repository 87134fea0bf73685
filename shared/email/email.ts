/**
 * A rendered email and how it becomes an OutgoingEmail: the From line, the unsubscribe headers and
 * the SES tags. Every template returns a RenderedEmail; every sender (dispatch, summary, the web
 * pages' alerts) composes it here, so headers are made safe in one place.
 */
import type { Clinic } from '../domain/model.js';
import type { OutgoingEmail } from '../ports/mailer.js';
import { headerSafe } from './escape.js';

export interface EmailAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: string;
}

/** A picture shown inline where the HTML says `cid:<contentId>` (a summary's trend chart). */
export interface InlineImage {
  readonly filename: string;
  readonly contentType: 'image/png';
  readonly content: Uint8Array;
  readonly contentId: string;
}

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Extra headers, e.g. List-Unsubscribe; values are header-safe. */
  readonly headers: Readonly<Record<string, string>>;
  readonly attachments: readonly EmailAttachment[];
  readonly inlineImages?: readonly InlineImage[];
  /** Where a reply should go when not to the sender (a therapist replying to a client). */
  readonly replyTo?: string;
}

// RFC 5322 `atext` plus space: a display name made only of these can be written as a quoted string.
const QUOTABLE = /^[\x20-\x7e]*$/;

/**
 * A mailbox with a display name, `"Calm & Co" <hello@calm.test>`. A name outside printable ASCII
 * is written as an RFC 2047 encoded word, which SES requires for non-ASCII sender names.
 */
export function mailbox(name: string, address: string): string {
  const safeName = headerSafe(name);
  const safeAddress = headerSafe(address);
  if (safeName === '') return safeAddress;
  if (QUOTABLE.test(safeName)) return `"${safeName.replace(/(["\\])/g, '\\$1')}" <${safeAddress}>`;
  return `=?UTF-8?B?${Buffer.from(safeName, 'utf8').toString('base64')}?= <${safeAddress}>`;
}

/** The clinic as sender: `"<clinic name>" <senderEmail>`. */
export function clinicSender(clinic: Pick<Clinic, 'name' | 'senderEmail'>): string {
  return mailbox(clinic.name, clinic.senderEmail);
}

/** Headers that let a mail client unsubscribe in one click (RFC 8058). */
export function unsubscribeHeaders(unsubscribeUrl: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${headerSafe(unsubscribeUrl)}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** SES tag values allow [A-Za-z0-9_.@-] up to 256 characters; ids and message names fit. */
const TAG_VALUE = /^[A-Za-z0-9_.@-]{1,256}$/;

/** Builds what the Mailer sends. `tags` must carry opaque ids only (message name, kind). */
export function composeEmail(input: {
  readonly clinic: Pick<Clinic, 'name' | 'senderEmail'>;
  readonly to: string;
  readonly rendered: RenderedEmail;
  readonly tags?: Readonly<Record<string, string>>;
}): OutgoingEmail {
  const { rendered } = input;
  for (const [name, value] of Object.entries(input.tags ?? {})) {
    if (!TAG_VALUE.test(name) || !TAG_VALUE.test(value)) throw new RangeError(`SES tag ${name} must be 1–256 characters of [A-Za-z0-9_.@-]`);
  }
  const headers = Object.fromEntries(Object.entries(rendered.headers).map(([name, value]) => [headerSafe(name), headerSafe(value)]));
  return {
    from: clinicSender(input.clinic),
    to: headerSafe(input.to),
    ...(rendered.replyTo ? { replyTo: headerSafe(rendered.replyTo) } : {}),
    subject: headerSafe(rendered.subject),
    html: rendered.html,
    text: rendered.text,
    headers,
    attachments: [...rendered.attachments, ...(rendered.inlineImages ?? [])],
    ...(input.tags ? { tags: input.tags } : {}),
  };
}
