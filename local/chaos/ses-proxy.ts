/**
 * A loopback HTTP proxy in front of SES v2 local that makes the faults SES local cannot make
 * itself. Every request is passed through untouched, except a SendEmail call the fault layer picks:
 *
 * - `throttle`: answered 429 TooManyRequestsException (SES did not take the email);
 * - `5xx`: answered 503 (SES did not take the email);
 * - `no-answer`: passed to SES, which keeps the email, then the connection is reset;
 * - `crash`: passed to SES, which keeps the email, and the answer is held back for good while the
 *   fault layer ends the invocation that sent it, as a Lambda that dies at that point would.
 *
 * The decision gets the message name and kind from the call's `message` and `kind` tags, and may
 * first do something while the email is in flight (`beforeSend`: a reschedule, say).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type SesFault = 'none' | 'throttle' | '5xx' | 'no-answer' | 'crash';

export interface SendEmailCall {
  /** The `message` tag: the message name (schedule name, ledger key). */
  readonly name: string | undefined;
  readonly kind: string | undefined;
}

export interface SesFaultRules {
  /** Awaited before the call is decided: what the fault layer does while this email is in flight. */
  beforeSend?(call: SendEmailCall): Promise<void>;
  decide(call: SendEmailCall): SesFault;
  /** SES kept the email of a `crash` call: end the invocation that sent it. */
  crashed?(call: SendEmailCall): void;
}

export interface SesFaultProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

const SEND_EMAIL_PATH = '/v2/email/outbound-emails';

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The message and kind tags of a SendEmail body; nothing when it is not one. */
export function sendEmailCall(body: Buffer): SendEmailCall {
  try {
    const tags = (JSON.parse(body.toString('utf8')) as { EmailTags?: Array<{ Name?: unknown; Value?: unknown }> }).EmailTags ?? [];
    const tag = (name: string) => {
      const value = tags.find((t) => t.Name === name)?.Value;
      return typeof value === 'string' ? value : undefined;
    };
    return { name: tag('message'), kind: tag('kind') };
  } catch {
    return { name: undefined, kind: undefined };
  }
}

export async function startSesFaultProxy(upstream: string, rules: SesFaultRules): Promise<SesFaultProxy> {
  const held = new Set<Socket>();
  const forward = async (req: IncomingMessage, body: Buffer) => {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<
      string,
      string
    >;
    return fetch(`${upstream}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body.length > 0 ? { body } : {}) });
  };
  const answer = async (res: ServerResponse, upstreamAnswer: Response) => {
    const text = Buffer.from(await upstreamAnswer.arrayBuffer());
    res.writeHead(upstreamAnswer.status, { 'content-type': upstreamAnswer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      if (req.method !== 'POST' || !req.url?.startsWith(SEND_EMAIL_PATH)) return answer(res, await forward(req, body));
      const call = sendEmailCall(body);
      await rules.beforeSend?.(call);
      const fault = rules.decide(call);
      switch (fault) {
        case 'throttle':
          res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' });
          res.end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
          return;
        case '5xx':
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('Service Unavailable');
          return;
        case 'no-answer': {
          await (await forward(req, body)).arrayBuffer();
          req.socket.resetAndDestroy();
          return;
        }
        case 'crash': {
          await (await forward(req, body)).arrayBuffer();
          // The answer never comes: the invocation that asked is gone.
          held.add(req.socket);
          rules.crashed?.(call);
          return;
        }
        case 'none':
          return answer(res, await forward(req, body));
      }
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
    });
  });
  // An idle keep-alive connection closed by the server just as the SDK reuses it is a reset the
  // SDK cannot tell from SES losing the answer; the proxy must not add faults of its own.
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
