/**
 * The intake Lambda behind `POST /intake/{source}` on the HTTP API (payload v2): booking systems'
 * signed webhooks. A thin adapter: the event becomes an IntakeRequest (the raw body bytes, which
 * the signature covers), shared/intake/receive.ts answers it.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { intakeStoreFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { secretsFromEnv } from '../../shared/adapters/intake-secrets.js';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { intakeConfigFromEnv } from '../../shared/intake/config.js';
import { receiveIntake, type ReceiveDeps } from '../../shared/intake/receive.js';
import { systemClock } from '../../shared/ports/clock.js';

export type IntakeHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function createHandler(deps: ReceiveDeps): IntakeHandler {
  return async (event) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = value;
    const body = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const response = await receiveIntake(deps, { method: (event.requestContext?.http?.method ?? '').toUpperCase(), path: event.rawPath ?? '', headers, body });
    return {
      statusCode: response.status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(response.body),
      isBase64Encoded: false,
    };
  };
}

/** The Lambda entry point (shared/adapters/lambda/entry.ts); each source's secret is read from SSM the first time it posts. */
export const handler = lambdaEntry('intake', ({ env, log }) => {
  const config = intakeConfigFromEnv(env);
  const store = intakeStoreFromEnv(env);
  return createHandler({ config, clinic: clinicFromEnv(env), store, secret: secretsFromEnv(config, env), now: () => systemClock.now(), log });
});
