/**
 * The twin's side of intake: the sources it serves (the dev stage's `intake` from cdk.json unless a
 * test passes its own), a fresh random webhook secret per source (handed to the function in
 * INTAKE_SECRETS, where AWS reads SSM), and the HTTP API's routing — the manifest's `http-route`
 * functions first, the pages' catch-all after, as API Gateway matches the more specific route.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../shared/config/manifest.js';
import { resolveIntakeConfig, WEBHOOK_FORMATS, type IntakeConfig } from '../shared/intake/config.js';
import { CAL_SIGNATURE_HEADER, KEEPWELL_SIGNATURE_HEADER } from '../shared/intake/receive.js';
import { hmacHex, keepwellSignature } from '../shared/intake/signature.js';
import { lambdaContext, type Twin } from './twin.js';

export interface LocalIntake {
  readonly config: IntakeConfig;
  /** Source name → its webhook secret. */
  readonly secrets: Readonly<Record<string, string>>;
}

function devStageIntake(): unknown {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: { stages?: { dev?: { intake?: unknown } } } };
  return cdkJson.context?.stages?.dev?.intake;
}

export function localIntakeSetup(intake: unknown): LocalIntake {
  const config = resolveIntakeConfig(intake === undefined ? devStageIntake() : intake, 'local', { allowLoopbackHttp: true });
  const webhookSources = Object.entries(config.sources)
    .filter(([, s]) => WEBHOOK_FORMATS.includes(s.format))
    .map(([name]) => name);
  return { config, secrets: Object.fromEntries(webhookSources.map((name) => [name, randomBytes(24).toString('hex')])) };
}

/** `/intake/{source}` → a RegExp that matches one path segment per `{param}`. */
function routePattern(path: string): RegExp {
  return new RegExp(
    `^${path
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}$`,
  );
}

export function intakeRouter(invoke: (name: FunctionName, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>) {
  const routes = FUNCTIONS.flatMap((spec) =>
    spec.trigger.kind === 'http-route' ? [{ name: spec.name, method: spec.trigger.method, pattern: routePattern(spec.trigger.path) }] : [],
  );
  return (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
    const route = routes.find((r) => r.method === event.requestContext.http.method && r.pattern.test(event.rawPath));
    return invoke(route?.name ?? 'web', event);
  };
}

/**
 * Delivers `body` to the twin's `/intake/<source>` as the booking system would: signed with the
 * source's secret in its own header, handed to the intake function as an HTTP API event (so it
 * works with or without the twin's HTTP server).
 */
export async function postWebhook(twin: Twin, source: string, body: string): Promise<{ status: number; body: string }> {
  const secret = twin.intake.secrets[source];
  const format = twin.intake.config.sources[source]?.format;
  if (!secret || !format) throw new Error(`the twin has no webhook source "${source}"; it serves ${Object.keys(twin.intake.secrets).join(', ') || 'none'}`);
  const signature =
    format === 'cal.com'
      ? { [CAL_SIGNATURE_HEADER]: hmacHex(secret, body) }
      : { [KEEPWELL_SIGNATURE_HEADER]: keepwellSignature(secret, body, twin.clock.now()) };
  const now = twin.clock.now();
  const event = {
    version: '2.0',
    routeKey: 'POST /intake/{source}',
    rawPath: `/intake/${source}`,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...signature },
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'POST', path: `/intake/${source}`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'keepwell-simulate' },
      requestId: now.getTime().toString(36),
      routeKey: 'POST /intake/{source}',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  } satisfies APIGatewayProxyEventV2;
  const result = (await twin.handlers.intake(event, lambdaContext('intake'))) as APIGatewayProxyStructuredResultV2;
  await twin.settle();
  return { status: result.statusCode ?? 200, body: String(result.body ?? '') };
}
