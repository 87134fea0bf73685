/**
 * SendEmail through a loopback proxy in front of SES v2 local that injects the faults SES local
 * cannot produce itself: a connection reset after SES kept the email, and throttling answers.
 * Only an answered throttling or 5xx is retried by the SDK; no answer is outcome unknown at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createSesClient, SesMailer } from '../../shared/adapters/ses/mailer.js';
import { SendOutcomeUnknownError } from '../../shared/domain/errors.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { sesEmails } from '../support/local-aws.js';

type Fault = 'none' | 'reset-after-ses-answered' | 'throttle-once' | 'server-error-once';

let fault: Fault = 'none';
let requests = 0;
let server: Server;
let proxyEndpoint: string;

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  const upstream = inject('sesEndpoint');
  server = createServer(async (req, res) => {
    requests += 1;
    const body = await bodyOf(req);
    if (fault === 'throttle-once' && requests === 1) {
      res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' });
      res.end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
      return;
    }
    if (fault === 'server-error-once' && requests === 1) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('Service Unavailable');
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name))) as Record<
      string,
      string
    >;
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined });
    const text = await answer.text();
    if (fault === 'reset-after-ses-answered') {
      // SES has kept the email; the client never hears so.
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxyEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = 0;
});

const config = () => ({ endpoint: proxyEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

function emailTo(to: string) {
  return { from: 'care@harbour.example', to, subject: 'Reminder: massage on Friday', html: '<p>See you Friday</p>', text: 'See you Friday' };
}

function uniqueAddress(label: string): string {
  return `${label}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
}

describe('SendEmail when the connection resets after SES kept the email', () => {
  it('makes one attempt, reports outcome unknown, and SES holds exactly one copy', async () => {
    fault = 'reset-after-ses-answered';
    const to = uniqueAddress('reset');
    const mailer = new SesMailer({ client: createSesClient(config()) });

    const sent = mailer.send(emailTo(to));

    await expect(sent).rejects.toBeInstanceOf(SendOutcomeUnknownError);
    expect(requests).toBe(1);
    expect(await sesEmails(to)).toHaveLength(1);
  });

  it('would be sent three times by the SDK’s default retry strategy (the fault this guards against)', async () => {
    fault = 'reset-after-ses-answered';
    const to = uniqueAddress('default');
    const mailer = new SesMailer({ client: new SESv2Client({ ...config(), retryStrategy: undefined }) });

    await expect(mailer.send(emailTo(to))).rejects.toBeInstanceOf(SendOutcomeUnknownError);

    expect(requests).toBe(3);
    expect(await sesEmails(to)).toHaveLength(3);
  });
});

describe('SendEmail when SES answers that it did not take the email', () => {
  it.each([
    ['throttling (429 TooManyRequestsException)', 'throttle-once' as const],
    ['a 503 from the service', 'server-error-once' as const],
  ])('retries after %s and sends one copy', async (_what, injected) => {
    fault = injected;
    const to = uniqueAddress(injected);
    const mailer = new SesMailer({ client: createSesClient(config()) });

    const result = await mailer.send(emailTo(to));

    expect(result.messageId).toEqual(expect.any(String));
    expect(requests).toBe(2);
    expect(await sesEmails(to)).toHaveLength(1);
  });
});
