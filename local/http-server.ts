/**
 * Serves the `web` Lambda handler on localhost, the way API Gateway's HTTP API does: each Node
 * HTTP request becomes a payload v2 event (raw path and query, lower-case headers, cookies apart,
 * a binary body in base64) and the handler's result becomes the response (status, headers,
 * cookies, a base64 body decoded). Bodies over 32 KB are refused with 413 before anything reads them.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { MAX_BODY_BYTES } from '../shared/web/http.js';

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

const TEXT_TYPES = /^(text\/|application\/(x-www-form-urlencoded|json|xml)|multipart\/form-data)/i;

class BodyLimitExceeded extends Error {
  override readonly name = 'BodyLimitExceeded';
}

/** The body, or BodyLimitExceeded as soon as it passes the limit (the rest is drained unread). */
function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = declared > MAX_BODY_BYTES;
    if (over) reject(new BodyLimitExceeded());
    request.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        reject(new BodyLimitExceeded());
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The payload v2 event API Gateway would build for this request. */
export function toEvent(request: IncomingMessage, body: Buffer, sourceIp: string): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    if (name === 'cookie') cookies = [...(cookies ?? []), ...value.split(/;\s*/).filter(Boolean)];
    // API Gateway joins repeated headers with commas.
    else headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  const binary = body.length > 0 && !TEXT_TYPES.test(headers['content-type'] ?? '');
  const now = new Date();
  const method = (request.method ?? 'GET').toUpperCase();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: { method, path: url.pathname, protocol: `HTTP/${request.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString(binary ? 'base64' : 'utf8') } : {}),
    isBase64Encoded: binary,
  };
}

/** Writes a handler result as API Gateway would: a bare string or object is a 200 JSON body. */
export function writeResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string' || result === null || typeof result !== 'object' || !('statusCode' in result || 'body' in result || 'headers' in result)) {
    response.writeHead(200, { 'content-type': 'application/json' }).end(typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  const structured = result as Exclude<APIGatewayProxyResultV2, string> & { multiValueHeaders?: Record<string, Array<string | number | boolean>> };
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries(structured.multiValueHeaders ?? {})) headers[name.toLowerCase()] = values.map(String);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body = structured.body === undefined ? Buffer.alloc(0) : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  response.writeHead(structured.statusCode ?? 200, headers).end(body);
}

export async function startWebServer(options: { handler: HttpApiHandler; port?: number; host?: string }): Promise<WebServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(async (request, response) => {
    try {
      let body: Buffer;
      try {
        body = await readBody(request);
      } catch (error) {
        if (!(error instanceof BodyLimitExceeded)) throw error;
        // Answer at once and close the connection; the rest of the body is drained, never kept.
        response.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('Request body too large');
        return;
      }
      const event = toEvent(request, body, request.socket.remoteAddress ?? '127.0.0.1');
      writeResult(response, await options.handler(event));
    } catch {
      // As API Gateway answers a Lambda that threw; the handler's own logs say why.
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      else response.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
