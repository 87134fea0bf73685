/** Sending one email. The SES v2 adapter implements it; errors are RetryableError or PermanentError. */
export interface OutgoingEmail {
  readonly from: string;
  readonly to: string;
  readonly replyTo?: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Extra headers (List-Unsubscribe …). Values never contain CR or LF. */
  readonly headers?: Readonly<Record<string, string>>;
  /** With a `contentId`, an attachment is inline: the HTML shows it as `cid:<contentId>`. */
  readonly attachments?: ReadonlyArray<{
    readonly filename: string;
    readonly contentType: string;
    readonly content: string | Uint8Array;
    readonly contentId?: string;
  }>;
  /** SES message tags: opaque ids only (message name, kind), never a name, address or answer. */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ readonly messageId: string }>;
}
