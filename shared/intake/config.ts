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
export const INTAKE_FORMATS = ['keepwell', 'cal.com'] as const;
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
  eventType: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  therapistId: idSchema,
  /** Where the session takes place when the booking does not say. */
  location: textSchema(200),
  plan: planTemplateSchema,
});
export type ServiceMapping = z.output<typeof serviceMappingSchema>;

export const sourceSchema = z.object({
  format: z.enum(INTAKE_FORMATS, { error: `must be one of ${INTAKE_FORMATS.join(', ')}` }),
  /** The SSM SecureString holding the webhook secret; defaults to /keepwell/<stage>/intake/<source>. */
  secretParameter: z.string().regex(SSM_PARAMETER_NAME, 'must be an SSM parameter path such as /keepwell/prod/intake/calcom').optional(),
  services: z.array(serviceMappingSchema).max(100, 'at most 100 services per source'),
}).strict();

export const intakeConfigSchema = z.object({
  sources: z.record(z.string(), sourceSchema),
}).strict().superRefine((config, ctx) => {
  for (const [name, source] of Object.entries(config.sources)) {
    // The name is the last segment of /intake/<source> and of the default secret parameter.
    if (!SOURCE_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['sources', name], message: 'is not a source name: use 1–31 lower-case letters, digits or "-", starting with a letter' });
    const seen = new Set<string>();
    source.services.forEach((service, i) => {
      if (seen.has(service.eventType)) ctx.addIssue({ code: 'custom', path: ['sources', name, 'services', i, 'eventType'], message: `maps "${service.eventType}" a second time` });
      seen.add(service.eventType);
    });
  }
});

export interface IntakeSource {
  readonly format: IntakeFormat;
  readonly secretParameter: string;
  readonly services: readonly ServiceMapping[];
}
export interface IntakeConfig {
  readonly sources: Readonly<Record<string, IntakeSource>>;
}

export function defaultSecretParameter(stage: string, source: string): string {
  return `/keepwell/${stage}/intake/${source}`;
}

/** The validated config with every secret parameter named (the default filled in). */
export function resolveIntakeConfig(input: unknown, stage: string): IntakeConfig {
  const parsed = parseOrThrow(intakeConfigSchema, input ?? { sources: {} }, 'intake');
  return {
    sources: Object.fromEntries(Object.entries(parsed.sources).map(([name, s]) => [name, { format: s.format, secretParameter: s.secretParameter ?? defaultSecretParameter(stage, name), services: s.services }])),
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
  const parsed = parseOrThrow(z.object({ sources: z.record(z.string(), sourceSchema.required({ secretParameter: true })) }), json, 'INTAKE_CONFIG');
  return parsed as IntakeConfig;
}
