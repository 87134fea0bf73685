/**
 * An in-memory Mailer: keeps every email it accepts, and can fail the next sends with the errors
 * the SES adapter raises (RetryableError for throttling, PermanentError for a rejection).
 */
import type { Mailer, OutgoingEmail } from '../../shared/ports/mailer.js';

export class MemoryMailer implements Mailer {
  readonly sent: Array<OutgoingEmail & { readonly messageId: string }> = [];
  private readonly faults: unknown[] = [];
  private counter = 0;

  /** The next `times` sends throw `error` and send nothing. */
  failNext(error: unknown, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(error);
  }

  async send(email: OutgoingEmail): Promise<{ readonly messageId: string }> {
    if (this.faults.length > 0) throw this.faults.shift();
    const messageId = `mem-${++this.counter}`;
    this.sent.push({ ...structuredClone(email), messageId });
    return { messageId };
  }

  to(address: string): OutgoingEmail[] {
    return this.sent.filter((e) => e.to.toLowerCase() === address.toLowerCase());
  }
}
