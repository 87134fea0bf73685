/**
 * Request validation with the constraints the real service documents, so code that passes here
 * passes on AWS. Every failure becomes a `ValidationError` naming the field and the reason.
 */
import * as z from 'zod';
import { isKnownZone } from '../../shared/domain/zone-name.js';
import { InvalidScheduleExpressionError, ValidationError } from './errors.js';
import { isRecurring, parseScheduleExpression, type ScheduleExpression } from './expressions.js';

const NAME_PATTERN = /^[0-9a-zA-Z\-_.]+$/;
const SQS_ARN_PATTERN = /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/;
/** AWS refuses a recurring schedule whose StartDate is further back than this. */
const START_DATE_TOLERANCE_MS = 5 * 60_000;

/** The message for a missing field or one of the wrong JSON type. */
const missingOr = (expected: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${expected}`);

const name = () =>
  z
    .string({ error: missingOr('a string') })
    .min(1, { error: 'must be 1 to 64 characters' })
    .max(64, { error: 'must be 1 to 64 characters' })
    .regex(NAME_PATTERN, { error: "may only contain letters, digits, '-', '_' and '.'" });

const whole = (min: number, max: number) =>
  z
    .number({ error: missingOr('a number') })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be from ${min} to ${max}` })
    .max(max, { error: `must be from ${min} to ${max}` });

const text = (min: number, max: number) =>
  z
    .string({ error: missingOr('a string') })
    .min(min, { error: `must be ${min} to ${max} characters` })
    .max(max, { error: `must be ${min} to ${max} characters` });

/** The SDK sends timestamps as epoch seconds; ISO strings are accepted for hand-written requests. */
const timestamp = z.union([z.number(), z.string()], { error: 'must be a timestamp' }).transform((value, ctx) => {
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `${String(value)} is not a valid timestamp` });
    return z.NEVER;
  }
  return date;
});

const expressionText = text(1, 256).superRefine((value, ctx) => {
  try {
    parseScheduleExpression(value);
  } catch (error) {
    if (!(error instanceof InvalidScheduleExpressionError)) throw error;
    ctx.addIssue({ code: 'custom', message: `${value} is not valid: ${error.reason}` });
  }
});

const retryPolicy = z.object({
  MaximumEventAgeInSeconds: whole(60, 86_400).optional(),
  MaximumRetryAttempts: whole(0, 185).optional(),
});

// Target is kept loose: parameters for other target types (ECS, SQS, …) are stored and returned as given.
const target = z.looseObject(
  {
    Arn: text(1, 1600),
    RoleArn: text(1, 1600),
    Input: text(1, 8192).optional(),
    RetryPolicy: retryPolicy.optional(),
    DeadLetterConfig: z.object({ Arn: z.string().regex(SQS_ARN_PATTERN, { error: 'must be the ARN of an SQS queue' }).optional() }).optional(),
  },
  { error: missingOr('an object') },
);

const flexibleTimeWindow = z
  .object(
    {
      Mode: z.enum(['OFF', 'FLEXIBLE'], { error: missingOr('OFF or FLEXIBLE') }),
      MaximumWindowInMinutes: whole(1, 1440).optional(),
    },
    { error: missingOr('an object') },
  )
  .superRefine((window, ctx) => {
    if (window.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['MaximumWindowInMinutes'], message: 'is required when Mode is FLEXIBLE' });
    }
  });

const scheduleRequest = z.object({
  ScheduleExpression: expressionText,
  ScheduleExpressionTimezone: text(1, 50)
    .refine((zone) => isKnownZone(zone), { error: (issue) => `${String(issue.input)} is not a valid IANA time zone` })
    .optional(),
  GroupName: name().optional(),
  StartDate: timestamp.optional(),
  EndDate: timestamp.optional(),
  Description: text(0, 512).optional(),
  State: z.enum(['ENABLED', 'DISABLED'], { error: 'must be ENABLED or DISABLED' }).optional(),
  KmsKeyArn: text(1, 2048).optional(),
  ActionAfterCompletion: z.enum(['NONE', 'DELETE'], { error: 'must be NONE or DELETE' }).optional(),
  FlexibleTimeWindow: flexibleTimeWindow,
  Target: target,
  ClientToken: text(1, 64).optional(),
});

type ScheduleRequest = z.output<typeof scheduleRequest>;

export type Target = ScheduleRequest['Target'];
export type FlexibleTimeWindow = ScheduleRequest['FlexibleTimeWindow'];
export type ScheduleState = 'ENABLED' | 'DISABLED';

/** A schedule as the API describes it, with AWS's defaults filled in. */
export interface ScheduleDefinition {
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone?: string;
  readonly GroupName: string;
  readonly StartDate?: Date;
  readonly EndDate?: Date;
  readonly Description?: string;
  readonly State: ScheduleState;
  readonly KmsKeyArn?: string;
  readonly ActionAfterCompletion: 'NONE' | 'DELETE';
  readonly FlexibleTimeWindow: FlexibleTimeWindow;
  readonly Target: Target;
}

export interface ValidScheduleRequest {
  readonly definition: ScheduleDefinition;
  readonly expression: ScheduleExpression;
  readonly clientToken?: string;
}

/** Validates a CreateSchedule / UpdateSchedule request; `now` is the Scheduler's clock. */
export function validateScheduleRequest(scheduleName: string, body: unknown, now: Date): ValidScheduleRequest {
  validateName('Name', scheduleName);
  const request = parseOrThrow(scheduleRequest, body);
  const expression = parseScheduleExpression(request.ScheduleExpression);
  const { StartDate: start, EndDate: end } = request;
  // AWS ignores StartDate and EndDate for one-time schedules, so it only checks them on recurring ones.
  if (isRecurring(expression)) {
    if (start && end && end.getTime() <= start.getTime()) {
      throw new ValidationError('EndDate must be later than StartDate.');
    }
    if (start && start.getTime() < now.getTime() - START_DATE_TOLERANCE_MS) {
      throw new ValidationError('The StartDate you specify cannot be earlier than 5 minutes ago.');
    }
    if (end && end.getTime() <= now.getTime()) {
      throw new ValidationError('The EndDate you specify cannot be earlier than the current time.');
    }
  }
  const { ClientToken: clientToken, ...definition } = request;
  return {
    definition: {
      ...definition,
      GroupName: request.GroupName ?? 'default',
      State: request.State ?? 'ENABLED',
      ActionAfterCompletion: request.ActionAfterCompletion ?? 'NONE',
    },
    expression,
    ...(clientToken === undefined ? {} : { clientToken }),
  };
}

type NameField = 'Name' | 'GroupName' | 'NamePrefix';
// Built once per field: a zod schema costs far more to build than to run.
const nameSchemas = new Map<NameField, z.ZodType>();

export function validateName(field: NameField, value: string): void {
  let schema = nameSchemas.get(field);
  if (!schema) {
    schema = z.object({ [field]: name() });
    nameSchemas.set(field, schema);
  }
  parseOrThrow(schema, { [field]: value });
}

const listQuery = z.object({
  NamePrefix: name().optional(),
  GroupName: name().optional(),
  State: z.enum(['ENABLED', 'DISABLED'], { error: 'must be ENABLED or DISABLED' }).optional(),
  MaxResults: z.coerce.number({ error: 'must be a number' }).pipe(whole(1, 100)).optional(),
  NextToken: text(1, 2048).optional(),
});

export type ListQuery = z.output<typeof listQuery>;

export function validateListQuery(query: Record<string, string | undefined>): ListQuery {
  return parseOrThrow(listQuery, query);
}

function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? issue.message : `${path} ${issue.message}`;
  });
  const count = problems.length;
  throw new ValidationError(`${count} validation error${count === 1 ? '' : 's'} detected: ${problems.join('; ')}`);
}
