/**
 * The intake Lambda behind `POST /intake/{source}` on the HTTP API (payload v2): booking systems'
 * signed webhooks. A thin adapter: the event becomes an IntakeRequest (the raw body bytes, which
 * the signature covers), shared/intake/receive.ts answers it. Built once per container; each
 * source's secret is read from SSM the first time that source posts.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoIntakeStore } from '../../shared/adapters/dynamodb/intake-store.js';
import { secretsFromEnv } from '../../shared/adapters/intake-secrets.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { optionalEnv, readEnv } from '../../shared/config/env.js';
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

function depsFromEnv(): ReceiveDeps {
  const { TABLE_NAME } = readEnv(['TABLE_NAME']);
  const endpoint = optionalEnv('DYNAMODB_ENDPOINT');
  const config = intakeConfigFromEnv();
  return {
    config,
    clinic: clinicFromEnv(),
    store: new DynamoIntakeStore({ tableName: TABLE_NAME, client: createDocumentClient(endpoint ? { endpoint } : {}), now: () => systemClock.now() }),
    secret: secretsFromEnv(config),
    now: () => systemClock.now(),
    log: new Logger({ serviceName: 'keepwell-intake' }),
  };
}

let built: IntakeHandler | undefined;

export const handler: IntakeHandler = async (event) => {
  built ??= createHandler(depsFromEnv());
  return built(event);
};
