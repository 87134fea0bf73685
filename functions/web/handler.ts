/**
 * The client pages' Lambda, behind an API Gateway HTTP API (payload v2). A thin adapter: the
 * event becomes a WebRequest (shared/adapters/lambda/api-gateway.ts), the pages answer it
 * (shared/web/app.ts), and the WebResponse goes back as an API Gateway result. The pages log the
 * route name, never the path. The token keys are read from SSM at start (and re-read by the
 * keyring when they may have rotated: shared/adapters/token-key.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { storeFromEnv } from '../../shared/adapters/dynamodb/from-env.js';
import { toWebRequest } from '../../shared/adapters/lambda/api-gateway.js';
import { lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { WEB_METRICS_SERVICE } from '../../shared/adapters/metrics/names.js';
import { PowertoolsDeliveryMetrics } from '../../shared/adapters/metrics/powertools.js';
import { fromEnv as mailerFromEnv } from '../../shared/adapters/ses/mailer.js';
import { fromEnv as tokenSignerFromEnv } from '../../shared/adapters/token-key.js';
import { clinicFromEnv } from '../../shared/config/clinic.js';
import { ValidationError } from '../../shared/domain/validation.js';
import { systemClock } from '../../shared/ports/clock.js';
import { createWebApp, type WebDeps } from '../../shared/web/app.js';
import { SECURITY_HEADERS, type WebRequest } from '../../shared/web/http.js';

export type WebHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

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

/** The Lambda entry point (shared/adapters/lambda/entry.ts). */
export const handler = lambdaEntry('web', async ({ env, log }) => {
  const store = storeFromEnv(env);
  const [mailer, clinic, signer] = [mailerFromEnv(env), clinicFromEnv(env), await tokenSignerFromEnv(env)];
  const metrics = new PowertoolsDeliveryMetrics(WEB_METRICS_SERVICE);
  return createHandler({ store, ledger: store, tokens: store, mailer, clinic, signer, clock: systemClock, log, metrics });
});
