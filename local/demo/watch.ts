/**
 * Follows a running twin's outbox: every email the ledger marks sent, joined with SES local's copy,
 * handed over once, in send order. Polls, because the twin's clock runs by itself here.
 */
import { DateTime } from 'luxon';
import type { Twin } from '../twin.js';
import { fetchSesStore, joinOutbox, type SentEmail } from '../simulation/outbox.js';
import { MESSAGE_KINDS } from '../../shared/domain/message.js';

/** Every kind's name fits the column, so the lines stay aligned whatever was sent. */
const KIND_WIDTH = Math.max(...MESSAGE_KINDS.map((k) => k.length));

export interface OutboxWatch {
  stop(): Promise<void>;
}

/**
 * Ledger stamps are taken when a handler starts writing; a write still in flight when a poll runs
 * lands with a stamp a little in the past. Each poll therefore looks back this much real time.
 */
const LOOKBACK_REAL_MS = 10_000;

export function watchOutbox(options: {
  twin: Twin /** Virtual seconds per real second, now. */;
  speed: () => number;
  intervalMs?: number;
  onEmail: (email: SentEmail) => Promise<void> | void;
  onError?: (error: unknown) => void;
}): OutboxWatch {
  const { twin } = options;
  const seen = new Set<string>();
  const sesSince = Math.floor(Date.now() / 1000) - 1;
  let from = twin.clock.now().toISOString();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const poll = async () => {
    const now = twin.clock.now();
    const entries = await twin.store.listSince(from, now.toISOString());
    const fresh = entries.filter((e) => e.status === 'sent' && !seen.has(e.name));
    if (fresh.length > 0) {
      const { emails } = joinOutbox(fresh, await fetchSesStore(twin.sesEndpoint, sesSince));
      for (const email of emails) {
        seen.add(email.name);
        await options.onEmail(email);
      }
    }
    const back = new Date(now.getTime() - LOOKBACK_REAL_MS * options.speed()).toISOString();
    if (back > from) from = back;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = poll()
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, options.intervalMs ?? 250);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** One line per email: the twin's time in the clinic's zone, kind, recipient, subject. */
export function emailLine(email: SentEmail, zone: string): string {
  const when = DateTime.fromISO(email.sentAt, { zone }).toFormat('ccc d LLL HH:mm');
  return `${when}  ${email.kind.padEnd(KIND_WIDTH)}  ${email.to.padEnd(30)}  ${email.subject}`;
}

/** The check-in form link in a check-in email (the first `/check-in/<token>` URL). */
export function checkInLink(email: SentEmail): string | undefined {
  return /https?:\/\/[^\s"'<>]+\/check-in\/[A-Za-z0-9_.~-]+/.exec(`${email.text}\n${email.html}`)?.[0];
}
