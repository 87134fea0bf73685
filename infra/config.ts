/**
 * Per-stage configuration, read from CDK context (`cdk.json` → `context.stages.<name>`, chosen
 * with `-c stage=NAME`, default `dev`) and validated with zod before any construct exists, so a
 * typo fails the synth with the stage, the field path and the reason instead of surfacing as a
 * broken deployment. The clinic defaults are checked with the same `clinicSchema` the functions
 * use to read CLINIC_CONFIG, so what synthesizes is what the handlers accept.
 */
import * as z from 'zod';
import { clinicSchema, emailSchema, type Clinic } from '../shared/domain/model.js';
import { intakeConfigSchema, resolveIntakeConfig, type IntakeConfig } from '../shared/intake/config.js';

export const DEFAULT_STAGE = 'dev';

/** The retention periods CloudWatch Logs accepts (aws-logs RetentionDays). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const SSM_PARAMETER_NAME = /^(\/[A-Za-z0-9_.-]+){1,15}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const US_EAST_1_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

const stageSchema = z
  .object({
    /** Where to deploy; omit both for an environment-agnostic synth (the CLI's credentials decide). */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-2')
      .optional(),
    sender: z.object({
      /** The From address of every email. */
      email: emailSchema,
      /** The SES identity to verify and send as: the sender address itself, or its domain. */
      identity: z
        .string()
        .trim()
        .toLowerCase()
        .refine((v) => DOMAIN.test(v) || emailSchema.safeParse(v).success, 'must be an email address or a domain name'),
    }),
    /** The clinic defaults the emails and pages use; its sender address and base URL are this stage's `sender.email` and `baseUrl`. */
    clinic: clinicSchema.omit({ senderEmail: true, baseUrl: true }).strict(),
    /** The public origin of the client pages, links in every email start with it; omit it to use the API's own execute-api address. */
    baseUrl: z
      .url('must be an absolute https URL')
      .refine((u) => u.startsWith('https://'), 'must start with https:// (the links carry single-use tokens)')
      .optional(),
    /** Serve the pages on baseUrl's host through an API Gateway custom domain with this ACM certificate. */
    customDomain: z.object({ certificateArn: z.string().regex(ACM_CERTIFICATE_ARN, 'must be an ACM certificate ARN in the stack region') }).optional(),
    alarmEmail: emailSchema,
    logRetentionDays: z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`),
    api: z.object({
      /** Steady-state requests per second for the whole page API. */
      throttleRate: z.number().positive('must be more than 0').max(10_000, 'must be at most 10000'),
      /** Burst above the rate. */
      throttleBurst: z.number().int('must be a whole number').positive('must be at least 1').max(5_000, 'must be at most 5000'),
    }),
    /** The SSM SecureString parameter that holds the link-token key (ops create it; docs/DEPLOY.md). */
    tokenKey: z
      .object({
        /** Parameter name. */
        parameter: z.string().regex(SSM_PARAMETER_NAME, 'must be an SSM parameter path such as /keepwell/prod/token-key').optional(),
        /** The previous key during a rotation (it may be absent: no rotation in progress). @default `<parameter>-previous` */
        previousParameter: z.string().regex(SSM_PARAMETER_NAME, 'must be an SSM parameter path such as /keepwell/prod/token-key-previous').optional(),
        /** The customer-managed KMS key the SecureStrings are encrypted with; omit for the AWS managed key alias/aws/ssm. */
        kmsKeyArn: z.string().regex(KMS_KEY_ARN, 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)').optional(),
      })
      .strict()
      .optional(),
    /** CloudFront and AWS WAF in front of the page API: a per-address rate limit, and the pages' security headers on every answer. */
    waf: z
      .object({
        /** Requests one address (IP) may send in any 5 minutes before WAF answers 429. */
        requestsPer5Minutes: z
          .number()
          .int('must be a whole number')
          .min(10, 'must be at least 10 (the WAF minimum)')
          .max(2_000_000_000, 'must be at most 2000000000'),
        /** The ACM certificate for baseUrl's host, in us-east-1 (CloudFront's region); required with customDomain. */
        certificateArn: z
          .string()
          .regex(US_EAST_1_CERTIFICATE_ARN, 'must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there)')
          .optional(),
      })
      .strict()
      .optional(),
    /** IAM roles that run the `keepwell` CLI against this stage: they may use the table and queue keys. */
    operatorRoleArns: z
      .array(z.string().regex(IAM_ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)'))
      .max(20, 'must list at most 20 roles')
      .optional(),
    /** How far ahead reconcile heals missing message schedules. */
    reconcileLookAheadHours: z
      .number()
      .int('must be a whole number of hours')
      .min(1, 'must be at least 1')
      .max(24 * 30, 'must be at most 720 (30 days)'),
    /** Booking systems that post webhooks to /intake/<source>, and how their bookings map (docs/INTEGRATIONS.md). */
    intake: intakeConfigSchema.optional(),
  })
  .strict()
  .superRefine((stage, ctx) => {
    const { email, identity } = stage.sender;
    const address = email.toLowerCase();
    if (identity !== address && address.split('@')[1] !== identity) {
      ctx.addIssue({ code: 'custom', path: ['sender', 'identity'], message: `must be the sender address "${email}" or its domain "${address.split('@')[1]}"` });
    }
    if (stage.waf && (stage.account === undefined || stage.region === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['waf'],
        message: 'needs account and region set: the web ACL lives in us-east-1 and the app stack reads it across regions',
      });
    }
    if (stage.waf && stage.customDomain && stage.waf.certificateArn === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['waf', 'certificateArn'],
        message: "is required with customDomain: CloudFront serves baseUrl's host with a us-east-1 certificate",
      });
    }
    if (stage.customDomain && stage.baseUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'is required when customDomain is set (its host is the domain name)' });
    } else if (stage.customDomain && stage.baseUrl && new URL(stage.baseUrl).pathname.replace(/\/+$/, '') !== '') {
      ctx.addIssue({
        code: 'custom',
        path: ['baseUrl'],
        message: 'must be an origin without a path when customDomain is set (the domain maps to the API root)',
      });
    }
  });

export interface StageConfig {
  readonly stage: string;
  readonly account?: string;
  readonly region?: string;
  readonly sender: { readonly email: string; readonly identity: string };
  /** The clinic as the functions read it from CLINIC_CONFIG (through clinicSchema), but for its baseUrl. */
  readonly clinic: Omit<Clinic, 'baseUrl'>;
  /** The origin of the pages; undefined: the API's execute-api address, known only at deploy time. */
  readonly baseUrl?: string;
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
  readonly alarmEmail: string;
  readonly logRetentionDays: (typeof LOG_RETENTION_DAYS)[number];
  readonly api: { readonly throttleRate: number; readonly throttleBurst: number };
  readonly reconcileLookAheadHours: number;
  /** CloudFront and WAF in front of the page API, when the stage asks for them. */
  readonly waf?: { readonly requestsPer5Minutes: number; readonly certificateArn?: string };
  /** Roles that run the CLI against this stage (table and queue keys); empty: none. */
  readonly operatorRoleArns: readonly string[];
  /** Where the link-token keys are: SSM SecureString parameters (the previous one may not exist), and their KMS key when not alias/aws/ssm. */
  readonly tokenKey: { readonly parameter: string; readonly previousParameter: string; readonly kmsKeyArn?: string };
  /** The intake sources with their secret parameters named, and their mappings. */
  readonly intake: IntakeConfig;
}

/** The token key's parameter when a stage does not name one. */
export function defaultTokenKeyParameter(stage: string): string {
  return `/keepwell/${stage}/token-key`;
}

export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[]): string {
  return issues.map((issue) => `  - ${[...prefix, ...issue.path].map(String).join('.')}: ${issue.message}`).join('\n');
}

/**
 * Picks and validates one stage from the `stages` context value.
 * @param stages the `stages` object from CDK context (cdk.json or `-c stages=…`)
 * @param stage the stage name; `dev` when omitted
 */
export function loadStageConfig(stages: unknown, stage: string = DEFAULT_STAGE): StageConfig {
  if (!STAGE_NAME.test(stage)) {
    throw new StageConfigError(`stage "${stage}" is not a valid stage name: use 1–20 lower-case letters, digits or "-", starting with a letter`);
  }
  if (typeof stages !== 'object' || stages === null || Array.isArray(stages)) {
    throw new StageConfigError('no stage configuration: add `"stages": { "dev": { … } }` to the "context" of cdk.json (see docs/DEPLOY.md)');
  }
  const known = Object.keys(stages);
  const raw = (stages as Record<string, unknown>)[stage];
  if (raw === undefined) {
    throw new StageConfigError(
      `unknown stage "${stage}": cdk.json defines ${known.length ? known.map((k) => `"${k}"`).join(', ') : 'no stages'}; pick one with -c stage=NAME`,
    );
  }
  const parsed = stageSchema.safeParse(raw);
  if (!parsed.success) {
    throw new StageConfigError(`stage "${stage}" in cdk.json is invalid:\n${describeIssues(parsed.error.issues, ['stages', stage])}`, { cause: parsed.error });
  }
  const value = parsed.data;
  // Both fields were validated above with the same rules, so this only assembles the value (the
  // stack fills in the API's address when there is no baseUrl).
  const { baseUrl, ...clinic } = clinicSchema.parse({
    ...value.clinic,
    senderEmail: value.sender.email,
    baseUrl: value.baseUrl ?? 'https://execute-api.invalid',
  });
  return {
    stage,
    ...(value.account ? { account: value.account } : {}),
    ...(value.region ? { region: value.region } : {}),
    sender: { email: value.sender.email, identity: value.sender.identity },
    clinic,
    ...(value.baseUrl ? { baseUrl } : {}),
    ...(value.customDomain && value.baseUrl
      ? { customDomain: { domainName: new URL(value.baseUrl).hostname, certificateArn: value.customDomain.certificateArn } }
      : {}),
    alarmEmail: value.alarmEmail,
    logRetentionDays: value.logRetentionDays as StageConfig['logRetentionDays'],
    api: value.api,
    reconcileLookAheadHours: value.reconcileLookAheadHours,
    operatorRoleArns: value.operatorRoleArns ?? [],
    ...(value.waf
      ? { waf: { requestsPer5Minutes: value.waf.requestsPer5Minutes, ...(value.waf.certificateArn ? { certificateArn: value.waf.certificateArn } : {}) } }
      : {}),
    tokenKey: {
      parameter: value.tokenKey?.parameter ?? defaultTokenKeyParameter(stage),
      previousParameter: value.tokenKey?.previousParameter ?? `${value.tokenKey?.parameter ?? defaultTokenKeyParameter(stage)}-previous`,
      ...(value.tokenKey?.kmsKeyArn ? { kmsKeyArn: value.tokenKey.kmsKeyArn } : {}),
    },
    intake: resolveIntakeConfig(value.intake, stage),
  };
}
