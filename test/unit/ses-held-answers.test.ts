/**
 * In the twin every function shares one SES client, as many Lambda containers at once would each
 * have their own. A send whose answer never comes (an invocation ended after SES kept its email)
 * must not hold a connection every later send has to queue behind: with the SDK's pool of 50,
 * the 51st such send stopped the whole twin.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sesClientFromEnv } from '../../shared/adapters/ses/mailer.js';

const HELD = 60;
let server: Server;
let endpoint: string;
const held = new Set<Socket>();
let received = 0;

beforeAll(async () => {
  // The twin's local credentials, as startTwin sets them.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'eu-west-2' });
  // Keeps back the answer to the first HELD sends, as SES behind the chaos proxy's `crash` does; answers the rest.
  server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      if (received <= HELD) {
        held.add(req.socket);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ MessageId: `m-${received}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of held) socket.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const send = (client: ReturnType<typeof sesClientFromEnv>, n: number) =>
  client.send(
    new SendEmailCommand({
      FromEmailAddress: 'care@harbour.example',
      Destination: { ToAddresses: [`client-${n}@example.com`] },
      Content: { Simple: { Subject: { Data: 'Reminder' }, Body: { Text: { Data: 'Hi' } } } },
    }),
  );

describe('the twin’s shared SES client', () => {
  it('answers a send while more than 50 earlier sends wait for answers that never come', async () => {
    const client = sesClientFromEnv({ SES_ENDPOINT: endpoint, AWS_REGION: 'eu-west-2' });
    const waiting = Array.from({ length: HELD }, (_, n) => send(client, n).catch(() => undefined));
    await expect.poll(() => received, { timeout: 10_000 }).toBe(HELD);

    const answered = await Promise.race([send(client, HELD), new Promise((resolve) => setTimeout(() => resolve('still queued'), 5_000))]);

    expect(answered).toMatchObject({ MessageId: `m-${HELD + 1}` });
    expect(held.size).toBe(HELD);
    void waiting;
  }, 30_000);
});
