/**
 * The twin's side of intake: the sources it serves (the dev stage's `intake` from cdk.json unless a
 * test passes its own), a fresh random webhook secret per source (handed to the function in
 * INTAKE_SECRETS, where AWS reads SSM), and the HTTP API's routing — the manifest's `http-route`
 * functions first, the pages' catch-all after, as API Gateway matches the more specific route.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../infra/topology.js';
import { resolveIntakeConfig, WEBHOOK_FORMATS, type IntakeConfig } from '../shared/intake/config.js';

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
  const webhookSources = Object.entries(config.sources).filter(([, s]) => WEBHOOK_FORMATS.includes(s.format)).map(([name]) => name);
  return { config, secrets: Object.fromEntries(webhookSources.map((name) => [name, randomBytes(24).toString('hex')])) };
}

/** `/intake/{source}` → a RegExp that matches one path segment per `{param}`. */
function routePattern(path: string): RegExp {
  return new RegExp(`^${path.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+')}$`);
}

export function intakeRouter(invoke: (name: FunctionName, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>) {
  const routes = FUNCTIONS.flatMap((spec) => (spec.trigger.kind === 'http-route' ? [{ name: spec.name, method: spec.trigger.method, pattern: routePattern(spec.trigger.path) }] : []));
  return (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
    const route = routes.find((r) => r.method === event.requestContext.http.method && r.pattern.test(event.rawPath));
    return invoke(route?.name ?? 'web', event);
  };
}
