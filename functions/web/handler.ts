/**
 * The client pages' Lambda, behind an API Gateway HTTP API (payload v2). A thin adapter: checks
 * the event's shape, turns it into a WebRequest, runs the pages (shared/web/app.ts), and turns
 * the WebResponse back into an API Gateway result. The pages log the route name, never the path.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { PowertoolsDeliveryMetrics } from '../../shared/adapters/metrics/powertools.js';
import { WEB_METRICS_SERVICE } from '../../shared/adapters/metrics/names.js';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { fromEnv as tokenSignerFromEnv } from '../../shared/adapters/token-key.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { parseOrThrow, ValidationError } from '../../shared/domain/validation.js';
import { systemClock } from '../../shared/ports/clock.js';
import { createWebApp, type WebDeps } from '../../shared/web/app.js';
import { SECURITY_HEADERS, type WebRequest } from '../../shared/web/http.js';

export type WebHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The part of a payload v2 event the pages read. */
const eventSchema = z.object({
  rawPath: z.string().max(4096),
  headers: z.record(z.string(), z.string().optional()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({ http: z.object({ method: z.string().min(1).max(16) }) }),
});

export function toWebRequest(event: unknown): WebRequest {
  const parsed = parseOrThrow(eventSchema, event, 'API Gateway event');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed.headers)) if (value !== undefined) headers[name.toLowerCase()] = value;
  return {
    method: parsed.requestContext.http.method.toUpperCase(),
    path: parsed.rawPath,
    headers,
    ...(parsed.body !== undefined ? { body: Buffer.from(parsed.body, parsed.isBase64Encoded ? 'base64' : 'utf8') } : {}),
  };
}

export function createHandler(deps: WebDeps): WebHandler {
  const app = createWebApp(deps);
  return async (event) => {
    let request: WebRequest;
    try {
      request = toWebRequest(event);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // Only a misconfigured integration sends this: say so to the caller, not to a client.
      deps.log?.error('malformed API Gateway event', { error: error.name });
      return {
        statusCode: 400,
        headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
        body: 'Bad request',
        isBase64Encoded: false,
      };
    }
    const response = await app(request);
    return { statusCode: response.status, headers: { ...response.headers }, body: response.body, isBase64Encoded: false };
  };
}

async function depsFromEnv(): Promise<WebDeps> {
  const store = storeFromEnv();
  return {
    store,
    ledger: store,
    tokens: store,
    mailer: mailerFromEnv(),
    clinic: clinicFromEnv(),
    signer: await tokenSignerFromEnv(),
    clock: systemClock,
    log: new Logger({ serviceName: 'keepwell-web' }),
    metrics: new PowertoolsDeliveryMetrics(WEB_METRICS_SERVICE),
  };
}

let built: Promise<WebHandler> | undefined;

/**
 * Built once per container, on the first request; the token keys are read from SSM then (and
 * re-read by the keyring when they may have rotated: shared/adapters/token-key.ts).
 */
export const handler: WebHandler = async (event) => {
  built ??= depsFromEnv().then(createHandler);
  // A failed build (SSM unreachable) is not cached: the next request tries again.
  const ready = await built.catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return ready(event);
};
