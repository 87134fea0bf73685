/**
 * Progress of a long simulation on stderr: on a terminal a bar with the simulated date, the emails
 * so far and emails per wall second; otherwise (CI, a pipe) the same figures as one line every few
 * seconds, so a long run shows it is alive without flooding a log.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Presets, SingleBar } from 'cli-progress';

export interface SimulationProgress {
  update(done: number, total: number, now: Date): void;
  stop(): void;
}

/** Emails SES local accepted from this process so far (SendEmail requests answered 200). */
export function countSentEmails(): { readonly count: number; stop(): void } {
  let count = 0;
  const onFinish = (message: unknown) => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    if (request.method === 'POST' && request.path.startsWith('/v2/email/outbound-emails') && response.statusCode === 200) count++;
  };
  subscribe('http.client.response.finish', onFinish);
  return {
    get count() {
      return count;
    },
    stop: () => unsubscribe('http.client.response.finish', onFinish),
  };
}

const DAY_MS = 86_400_000;

export function simulationProgress(options: { stream?: NodeJS.WriteStream; terminal?: boolean; everyMs?: number } = {}): SimulationProgress {
  const stream = options.stream ?? process.stderr;
  const terminal = options.terminal ?? Boolean(stream.isTTY);
  const everyMs = options.everyMs ?? 5000;
  const emails = countSentEmails();
  const startedAt = Date.now();
  const figures = (now: Date) => {
    const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
    return { date: now.toISOString().slice(0, 16).replace('T', ' '), emails: emails.count, rate: (emails.count / seconds).toFixed(1) };
  };
  if (terminal) {
    const bar = new SingleBar(
      { format: 'simulating [{bar}] {percentage}% | {date} | {emails} emails | {rate} emails/s', stream, hideCursor: true },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, now) {
        const days = (n: number) => Math.round(n / 3_600_000);
        if (!started) {
          bar.start(days(total), days(done), figures(now));
          started = true;
        } else bar.update(days(done), figures(now));
      },
      stop() {
        if (started) bar.stop();
        emails.stop();
      },
    };
  }
  let lastLine = startedAt;
  return {
    update(done, total, now) {
      if (Date.now() - lastLine < everyMs) return;
      lastLine = Date.now();
      const f = figures(now);
      stream.write(`simulating: ${f.date} UTC, day ${(done / DAY_MS).toFixed(1)} of ${(total / DAY_MS).toFixed(1)}, ${f.emails} emails, ${f.rate} emails/s\n`);
    },
    stop: () => emails.stop(),
  };
}
