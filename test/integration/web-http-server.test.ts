/**
 * local/http-server.ts translates real HTTP to API Gateway HTTP API payload v2 events and the
 * handler's results back, as API Gateway does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { startWebServer, type WebServer } from '../../local/http-server.js';

describe('the local HTTP API', () => {
  let server: WebServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const serve = async (result: APIGatewayProxyResultV2 | (() => never)) => {
    const events: APIGatewayProxyEventV2[] = [];
    server = await startWebServer({
      handler: async (event) => {
        events.push(event);
        return typeof result === 'function' ? result() : result;
      },
    });
    return { url: server.url, events };
  };

  it('hands the handler a payload v2 event: raw path and query, lower-case headers, cookies apart, method and source IP', async () => {
    const { url, events } = await serve({ statusCode: 204 });
    await fetch(`${url}/check-in/abc.def?x=1&x=2&y=%20`, {
      method: 'POST',
      headers: { 'X-Custom': 'A', Cookie: 'a=1; b=2', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'pain=3',
    });
    const [event] = events;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/check-in/abc.def',
      rawQueryString: 'x=1&x=2&y=%20',
      queryStringParameters: { x: '1,2', y: ' ' },
      cookies: ['a=1', 'b=2'],
      body: 'pain=3',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/check-in/abc.def', sourceIp: '127.0.0.1' }, stage: '$default' },
    });
    expect(event?.headers['x-custom']).toBe('A');
    expect(event?.headers.cookie).toBeUndefined();
  });

  it('passes a binary body in base64', async () => {
    const { url, events } = await serve({ statusCode: 204 });
    const bytes = Buffer.from([0, 255, 1, 254]);
    await fetch(`${url}/upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(events[0]).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
  });

  it('writes status, headers, several values of one header, cookies and a base64 body back', async () => {
    const { url } = await serve({
      statusCode: 201,
      headers: { 'X-One': '1' },
      multiValueHeaders: { 'x-many': ['a', 'b'] },
      cookies: ['s=1; HttpOnly', 't=2'],
      body: Buffer.from('héllo').toString('base64'),
      isBase64Encoded: true,
    } as APIGatewayProxyResultV2);
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.get('x-many')).toBe('a, b');
    expect(response.headers.getSetCookie()).toEqual(['s=1; HttpOnly', 't=2']);
    expect(await response.text()).toBe('héllo');
  });

  it('treats a bare string result as a 200 JSON body, as API Gateway does', async () => {
    const { url } = await serve('{"ok":true}');
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('answers 500 when the handler throws, as for a failed Lambda', async () => {
    const { url } = await serve(() => {
      throw new Error('boom');
    });
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('boom');
  });

  it('refuses a body over 32 KB with 413 without calling the handler, declared or streamed', async () => {
    const { url, events } = await serve({ statusCode: 200 });
    expect((await fetch(`${url}/`, { method: 'POST', body: 'x'.repeat(32 * 1024 + 1) })).status).toBe(413);
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode('y'.repeat(1024)));
        controller.close();
      },
    });
    expect((await fetch(`${url}/`, { method: 'POST', body: chunks, duplex: 'half' } as RequestInit)).status).toBe(413);
    expect((await fetch(`${url}/`, { method: 'POST', body: 'x'.repeat(32 * 1024) })).status).toBe(200);
    expect(events).toHaveLength(1);
  });
});
