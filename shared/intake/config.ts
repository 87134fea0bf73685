/**
 * How a clinic's booking systems map onto Keepwell: the sources that may post webhooks (each with
 * its own signing secret in SSM Parameter Store) and, per source, which event type / service goes
 * to which therapist on which plan template. Validated at synth (infra/config.ts) and again by the
 * intake function when it reads INTAKE_CONFIG, with the same schema.
 */
import * as z from 'zod';
import { idSchema, isoDurationSchema, phaseSchema, textSchema } from '../domain/model.js';
import { parseOrThrow, ValidationError } from '../domain/validation.js';
import { readEnv } from '../config/env.js';

export const SOURCE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SSM_PARAMETER_NAME = /^(\/[A-Za-z0-9_.-]+){1,15}$/;

/** The webhook formats an intake source may speak. */
export const INTAKE_FORMATS = ['keepwell', 'cal.com', 'ical'] as const;
/** The formats that post signed webhooks (an `ical` source is a feed Keepwell polls). */
export const WEBHOOK_FORMATS: readonly IntakeFormat[] = ['keepwell', 'cal.com'];
export type IntakeFormat = (typeof INTAKE_FORMATS)[number];

export const planTemplateSchema = z.object({
  goal: z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, 'must be a goal such as back-pain or a clinic-defined lower-case-with-dashes name'),
  phases: z.array(phaseSchema).min(1, 'must have at least one phase'),
  reminders: z.array(isoDurationSchema).max(5, 'at most 5 reminders').default(['P2D', 'PT2H']),
  checkInAfter: isoDurationSchema.default('PT24H'),
});
export type PlanTemplate = z.output<typeof planTemplateSchema>;

export const serviceMappingSchema = z.object({
  /** The source's name for the booking type: a Cal.com event type slug or id, the generic format's `service`. */
  eventType: textSchema(200),
  therapistId: idSchema,
  /** Where the session takes place when the booking does not say. */
  location: textSchema(200),
  plan: planTemplateSchema,
});
export type ServiceMapping = z.output<typeof serviceMappingSchema>;

export const sourceSchema = z
  .object({
    format: z.enum(INTAKE_FORMATS, { error: `must be one of ${INTAKE_FORMATS.join(', ')}` }),
    /** The SSM SecureString holding the webhook secret; defaults to /keepwell/<stage>/intake/<source>. */
    secretParameter: z.string().regex(SSM_PARAMETER_NAME, 'must be an SSM parameter path such as /keepwell/prod/intake/calcom').optional(),
    /** An `ical` source's feed: https only (the twin also allows http on loopback, for its tests). */
    url: z.url('must be an absolute URL').optional(),
    services: z.array(serviceMappingSchema).max(100, 'at most 100 services per source'),
  })
  .strict();

const intakeConfigBase = z
  .object({
    sources: z.record(z.string(), sourceSchema),
  })
  .strict();

export const intakeConfigSchema = intakeConfigBase.superRefine((config, ctx) => {
  for (const [name, source] of Object.entries(config.sources)) {
    // The name is the last segment of /intake/<source> and of the default secret parameter.
    if (!SOURCE_NAME.test(name))
      ctx.addIssue({
        code: 'custom',
        path: ['sources', name],
        message: 'is not a source name: use 1–31 lower-case letters, digits or "-", starting with a letter',
      });
    if (source.format === 'ical' && !source.url) ctx.addIssue({ code: 'custom', path: ['sources', name, 'url'], message: 'is required for an ical feed' });
    if (source.format === 'ical' && source.url && !source.url.startsWith('https://'))
      ctx.addIssue({ code: 'custom', path: ['sources', name, 'url'], message: 'must start with https:// (a feed names clients and times)' });
    if (source.format !== 'ical' && source.url)
      ctx.addIssue({ code: 'custom', path: ['sources', name, 'url'], message: `is only for an ical feed; a ${source.format} source posts webhooks` });
    if (source.format === 'ical' && source.secretParameter)
      ctx.addIssue({ code: 'custom', path: ['sources', name, 'secretParameter'], message: 'is only for a webhook source; a feed is polled' });
    const seen = new Set<string>();
    source.services.forEach((service, i) => {
      if (seen.has(service.eventType))
        ctx.addIssue({ code: 'custom', path: ['sources', name, 'services', i, 'eventType'], message: `maps "${service.eventType}" a second time` });
      seen.add(service.eventType);
    });
  }
});

export interface IntakeSource {
  readonly format: IntakeFormat;
  /** Webhook sources only. */
  readonly secretParameter?: string;
  /** ical feeds only. */
  readonly url?: string;
  readonly services: readonly ServiceMapping[];
}
export interface IntakeConfig {
  readonly sources: Readonly<Record<string, IntakeSource>>;
}

export function defaultSecretParameter(stage: string, source: string): string {
  return `/keepwell/${stage}/intake/${source}`;
}

/** The validated config with every secret parameter named (the default filled in). */
export function resolveIntakeConfig(input: unknown, stage: string, options: { allowLoopbackHttp?: boolean } = {}): IntakeConfig {
  // The twin's feeds are served on loopback without TLS: its config is read with https swapped in.
  const checked = options.allowLoopbackHttp ? withLoopbackAsHttps(input) : input;
  parseOrThrow(intakeConfigSchema, checked ?? { sources: {} }, 'intake');
  const parsed = parseOrThrow(intakeConfigBase, input ?? { sources: {} }, 'intake');
  return {
    sources: Object.fromEntries(
      Object.entries(parsed.sources).map(([name, s]) => [
        name,
        s.format === 'ical'
          ? { format: s.format, ...(s.url ? { url: s.url } : {}), services: s.services }
          : { format: s.format, secretParameter: s.secretParameter ?? defaultSecretParameter(stage, name), services: s.services },
      ]),
    ),
  };
}

/** The config with every loopback http:// feed URL read as https:// (for validation only). */
function withLoopbackAsHttps(input: unknown): unknown {
  const sources = (input as { sources?: Record<string, { url?: unknown }> } | undefined)?.sources;
  if (!sources || typeof sources !== 'object') return input;
  const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;
  return {
    ...(input as object),
    sources: Object.fromEntries(
      Object.entries(sources).map(([name, s]) => [
        name,
        typeof s?.url === 'string' && loopback.test(s.url) ? { ...s, url: s.url.replace(/^http:/, 'https:') } : s,
      ]),
    ),
  };
}

/** The intake configuration from INTAKE_CONFIG (JSON written by the CDK stack or the local twin). */
export function intakeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): IntakeConfig {
  const { INTAKE_CONFIG } = readEnv(['INTAKE_CONFIG'], env);
  let json: unknown;
  try {
    json = JSON.parse(INTAKE_CONFIG);
  } catch (error) {
    throw new ValidationError('INTAKE_CONFIG', [{ path: '', reason: 'is not valid JSON' }], { cause: error });
  }
  const parsed = parseOrThrow(z.object({ sources: z.record(z.string(), sourceSchema) }), json, 'INTAKE_CONFIG');
  return parsed as IntakeConfig;
}
