/**
 * The domain model: zod schemas at every boundary and the types inferred from them.
 * Field names follow the scenario format (shared/scenario-example.json in the team kit).
 * Fields a writer need not know (preferences, suppression, statuses, version) are optional on
 * input and default to "everything subscribed, active, booked, version 1".
 */
import { Duration } from 'luxon';
import * as z from 'zod';
import { instantTextProblem } from './instant-text.js';
import { instantOf, type Instant } from './time.js';
import { contrastRatio, MIN_CONTRAST_WITH_WHITE, normalizeHex } from './colour.js';
import { isKnownZone } from './zone-name.js';
import { httpsProblem, pageOriginProblem, textProblem, type TextRule } from './text.js';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

export const idSchema = z.string().regex(ID_PATTERN, 'must be 1–40 characters of letters, digits, "-" or "_", starting with a letter or digit');

/** Refuses control and text-direction override characters (shared/domain/text.ts). */
function plainText<S extends z.ZodType<string, unknown>>(schema: S, rule: TextRule = {}, what?: string) {
  return schema.superRefine((s, ctx) => {
    const problem = textProblem(s, rule);
    if (problem) ctx.addIssue({ code: 'custom', message: what ? `${what} ${problem}` : problem });
  });
}

/** A single line of free text: a name, a location, a phone number. */
export const textSchema = (max: number) => plainText(z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

/** Free text that may run over several lines (line feeds only): check-in notes, a reschedule message. */
export const multilineTextSchema = (max: number, what: string) =>
  plainText(z.string().max(max, `${what} must be at most ${max.toLocaleString('en-GB')} characters`), { multiline: true }, what);

/** A URL put in an email or a page: https only. */
export const httpsUrlSchema = z.url('must be an absolute https URL').superRefine((u, ctx) => {
  const problem = httpsProblem(u);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const emailSchema = z
  .string()
  .trim()
  .max(254, 'must be at most 254 characters')
  .refine((s) => textProblem(s) === undefined, 'must not contain control or text-direction characters')
  .pipe(z.email('must be a valid email address'));

export const timezoneSchema = z.string().refine((zone) => isKnownZone(zone), { error: (issue) => `"${String(issue.input)}" is not a known IANA time zone` });

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
export const clockTimeSchema = z.string().regex(HHMM, 'must be a local time "HH:MM" (00:00–23:59)');

/** An ISO-8601 duration that is strictly positive, e.g. P2D, PT48H, P1DT12H. */
export const isoDurationSchema = z.string().refine(
  (text) => {
    if (!/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/.test(text)) return false;
    const d = Duration.fromISO(text);
    return d.isValid && d.toMillis() > 0;
  },
  { error: (issue) => `"${String(issue.input)}" is not a positive ISO-8601 duration such as P2D or PT2H` },
);

/** An instant written with an offset or Z; stored as a UTC ISO string. */
export const instantSchema = z
  .string()
  .superRefine((s, ctx) => {
    const problem = instantTextProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((s) => instantOf(new Date(s)));

/** Thresholds of the plan-adjustment suggestions in the therapist's summary (domain/suggestions.ts). */
export const suggestionRulesSchema = z
  .object({
    /** Pain or stress worse on each of this many maintenance check-ins in a row → a shorter interval. */
    worseningCheckIns: z.number().int().min(2, 'must be at least 2').max(12).default(2),
    /** No score worse across this many maintenance check-ins, some better than baseline → a longer interval. */
    improvingCheckIns: z.number().int().min(2, 'must be at least 2').max(12).default(3),
    /** This many check-ins in a row unanswered → check in by phone. */
    unansweredCheckIns: z.number().int().min(1).max(12).default(3),
  })
  .strict();

/** The pages' and emails' accent until a clinic sets its own: 7.6:1 under white text. */
export const DEFAULT_BRAND_COLOUR = '#0b5d4b';

/**
 * The clinic's look, shared by every email and page: one colour (buttons, links, the page header,
 * always under white text or on white) and an optional logo beside the clinic's name.
 */
export const brandSchema = z
  .object({
    colour: z
      .string()
      .transform((c, ctx) => {
        const hex = normalizeHex(c);
        if (!hex) {
          ctx.addIssue({ code: 'custom', message: `"${c}" is not a hex colour such as #0b5d4b` });
          return z.NEVER;
        }
        const ratio = contrastRatio(hex, '#ffffff');
        if (ratio < MIN_CONTRAST_WITH_WHITE) {
          ctx.addIssue({
            code: 'custom',
            message: `${hex} has a contrast of ${ratio.toFixed(2)}:1 with white button text; WCAG AA needs at least ${MIN_CONTRAST_WITH_WHITE}:1, so choose a darker shade`,
          });
          return z.NEVER;
        }
        return hex;
      })
      .default(DEFAULT_BRAND_COLOUR),
    /** Shown in every email's and page's header; https only (mail clients and the pages' CSP refuse anything else). */
    logoUrl: z
      .string()
      .max(500, 'must be at most 500 characters')
      .superRefine((u, ctx) => {
        // One reason per URL: the first thing wrong with it.
        const problem = !URL.canParse(u)
          ? 'must be an absolute https:// URL of an image'
          : new URL(u).protocol !== 'https:'
            ? 'must start with https:// (an http:// image is blocked by mail clients and the pages)'
            : /[\s"'<>]/.test(u)
              ? 'must not contain spaces, quotes or angle brackets'
              : undefined;
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  })
  .strict();
/**
 * The emails a client gets about a booking itself (domain/booking-emails.ts): each can be turned
 * off, and the confirmation waits `undoMinutes` so a booking changed or cancelled at once is told
 * once, in its final state, or not at all.
 */
export const bookingEmailsSchema = z
  .object({
    /** Minutes a confirmation waits after the booking: a change or cancellation within them folds into it. */
    undoMinutes: z.number().int('must be a whole number of minutes').min(0, 'must be 0 or more').max(120, 'must be at most 120 (2 hours)').default(5),
    /** Send a confirmation when a session is booked. */
    confirmation: z.boolean().default(true),
    /** Send a change notice when a session the client was told of moves. */
    change: z.boolean().default(true),
    /** Send a cancellation notice when a session the client was told of is cancelled. */
    cancellation: z.boolean().default(true),
  })
  .strict();
export type BookingEmailsConfig = z.output<typeof bookingEmailsSchema>;
/**
 * How long the table keeps a client's answers and the message ledger, in days from when each item
 * is written (DynamoDB TTL on `expiresAt`; DynamoDB deletes expired items within days). Absent:
 * kept until the client is erased (`keepwell client erase`). The plan keeps its baseline scores
 * itself, so trends survive the check-in that set them; the ledger must outlive every redelivery
 * of its message (retries stop within days), hence the minimum.
 */
export const retentionSchema = z
  .object({
    /** Check-in answers and reschedule requests (with their messages). */
    checkInDays: z.number().int('must be a whole number of days').min(30, 'must be at least 30 days').max(3650, 'must be at most 3650 days (10 years)'),
    /** Ledger entries: each message's outcome, as the outbox lists it. */
    ledgerDays: z
      .number()
      .int('must be a whole number of days')
      .min(30, 'must be at least 30 days (a message can be redelivered for days)')
      .max(3650, 'must be at most 3650 days (10 years)'),
  })
  .strict();
export type Retention = z.output<typeof retentionSchema>;

export const clinicSchema = z.object({
  name: textSchema(120),
  senderEmail: emailSchema,
  timezone: timezoneSchema,
  /** The pages' origin: https (http only on localhost, where the local twin serves them). */
  baseUrl: z
    .url('must be an absolute https URL')
    .superRefine((u, ctx) => {
      const problem = pageOriginProblem(u);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((u) => u.replace(/\/+$/, '')),
  quietHours: z.object({ start: clockTimeSchema, end: clockTimeSchema }).default({ start: '21:00', end: '08:00' }),
  signature: textSchema(500).optional(),
  bookingUrl: httpsUrlSchema.optional(),
  phone: textSchema(40)
    .refine((p) => /^\+?[0-9][0-9 ().-]{2,39}$/.test(p), 'must be a phone number: digits, spaces and + ( ) . -')
    .optional(),
  /**
   * The local emergency number (999, 911, 112, 000 …), shown to a client whose check-in raised a
   * red flag; without it the page says "your local emergency number".
   */
  emergencyNumber: z
    .string()
    .regex(/^[0-9]{2,6}$/, 'must be the emergency number as 2–6 digits, e.g. 999, 911 or 112')
    .optional(),
  /** Days after maintenance falls due before a plan counts as lapsed. */
  maintenanceGraceDays: z.number().int().min(1).max(365).default(14),
  suggestions: suggestionRulesSchema.default({ worseningCheckIns: 2, improvingCheckIns: 3, unansweredCheckIns: 3 }),
  brand: brandSchema.default({ colour: DEFAULT_BRAND_COLOUR }),
  /** How long the "Adjust plan" links in a therapist's summary work, in hours: short, as they change a plan. */
  adjustLinkHours: z.number().int('must be a whole number of hours').min(24, 'must be at least 24 hours').max(72, 'must be at most 72 hours').default(48),
  bookingEmails: bookingEmailsSchema.default({ undoMinutes: 5, confirmation: true, change: true, cancellation: true }),
  /**
   * The monthly clinic report (counts and averages, no client names) to the clinic's owner,
   * on the 1st of each month at `hour` in the clinic's zone; none without it.
   */
  monthlyReport: z
    .object({
      to: emailSchema,
      hour: z.number().int('must be a whole hour').min(0, 'must be 0–23').max(23, 'must be 0–23').default(8),
    })
    .optional(),
  retention: retentionSchema.optional(),
});
export type Clinic = z.output<typeof clinicSchema>;

export const therapistSchema = z.object({
  id: idSchema,
  name: textSchema(120),
  email: emailSchema,
  timezone: timezoneSchema,
  summary: z
    .object({
      cadence: z.enum(['daily', 'weekly']).default('daily'),
      hour: z.number().int('must be a whole hour').min(0, 'must be 0–23').max(23, 'must be 0–23').default(7),
      /** Weekly summaries go out on this ISO weekday (1 = Monday). */
      weekday: z.number().int().min(1).max(7).default(1),
      /** A period with nothing new: a one-line summary, or none at all. */
      whenEmpty: z.enum(['one-line', 'none']).default('one-line'),
    })
    .default({ cadence: 'daily', hour: 7, weekday: 1, whenEmpty: 'one-line' }),
});
export type Therapist = z.output<typeof therapistSchema>;

export const CATEGORIES = ['reminders', 'check-ins', 'maintenance'] as const;
export type Category = (typeof CATEGORIES)[number];

export const suppressionSchema = z.object({
  reason: z.enum(['bounce', 'complaint', 'manual']),
  at: instantSchema,
  detail: z.string().max(500).optional(),
});

export const clientSchema = z.object({
  id: idSchema,
  name: textSchema(120),
  email: emailSchema,
  /** The client's phone number, when the clinic holds one: shown to the therapist in alerts. */
  phone: textSchema(40).optional(),
  timezone: timezoneSchema,
  preferences: z
    .object({
      reminders: z.boolean().default(true),
      'check-ins': z.boolean().default(true),
      maintenance: z.boolean().default(true),
    })
    .default({ reminders: true, 'check-ins': true, maintenance: true }),
  suppressed: suppressionSchema.optional(),
});
export type Client = z.output<typeof clientSchema>;

export const BUILT_IN_GOALS = ['back-pain', 'sports-injury', 'general-wellness'] as const;

export const phaseSchema = z.object({
  name: textSchema(60),
  sessions: z.number().int('must be a whole number').positive('must be at least 1').optional(),
  everyDays: z.number().int('must be a whole number of days').positive('must be at least 1 day'),
});
export type Phase = z.output<typeof phaseSchema>;

export const planSchema = z
  .object({
    id: idSchema,
    clientId: idSchema,
    therapistId: idSchema,
    /** A built-in goal or a clinic-defined one (lower-case words joined by "-"). */
    goal: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,39}$/, 'must be a goal such as back-pain, sports-injury, general-wellness, or a clinic-defined lower-case-with-dashes name'),
    phases: z.array(phaseSchema).min(1, 'must have at least one phase'),
    reminders: z.array(isoDurationSchema).max(5, 'at most 5 reminders').default(['P2D', 'PT2H']),
    checkInAfter: isoDurationSchema.default('PT24H'),
    status: z.enum(['active', 'paused', 'completed']).default('active'),
  })
  .superRefine((plan, ctx) => {
    plan.phases.forEach((phase, i) => {
      if (i < plan.phases.length - 1 && phase.sessions === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['phases', i, 'sessions'],
          message: 'is required on every phase but the last (the plan moves on after that many sessions)',
        });
      }
    });
    if (new Set(plan.reminders).size !== plan.reminders.length) {
      ctx.addIssue({ code: 'custom', path: ['reminders'], message: 'must not repeat an offset' });
    }
  });
export type Plan = z.output<typeof planSchema>;

export const SESSION_STATUSES = ['booked', 'cancelled', 'completed', 'no-show'] as const;
export const sessionSchema = z.object({
  id: idSchema,
  planId: idSchema,
  start: instantSchema,
  durationMinutes: z.number().int('must be a whole number of minutes').positive('must be more than 0 minutes').max(600, 'must be at most 600 minutes'),
  location: textSchema(200),
  status: z.enum(SESSION_STATUSES).default('booked'),
  version: z.number().int().positive('must be 1 or more').default(1),
});
export type Session = z.output<typeof sessionSchema>;
export type SessionStatus = Session['status'];

const score = (what: string) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a whole number from 0 to 10`) })
    .int(`${what} must be a whole number from 0 to 10`)
    .min(0, `${what} must be a whole number from 0 to 10`)
    .max(10, `${what} must be a whole number from 0 to 10`);

export const checkInAnswersSchema = z.object({
  pain: score('pain'),
  mobility: score('mobility'),
  stress: score('stress'),
  sleep: score('sleep'),
  notes: multilineTextSchema(2000, 'notes').default(''),
  wantsToRebook: z.boolean().default(false),
});
export type CheckInAnswers = z.output<typeof checkInAnswersSchema>;
export const SCORES = ['pain', 'mobility', 'stress', 'sleep'] as const;
export type Score = (typeof SCORES)[number];
export type ScoreSet = { readonly [K in Score]: number };

/** Just the four scores of a check-in (or anything carrying them), for baselines and comparisons. */
export function scoresOf(answers: ScoreSet): ScoreSet {
  return { pain: answers.pain, mobility: answers.mobility, stress: answers.stress, sleep: answers.sleep };
}

/**
 * The intake questionnaire's answers (domain/intake-questionnaire.ts): the check-in's four scores
 * before treatment, and what brings the client in. They become the plan's baseline.
 */
export const INTAKE_REASON_MAX = 2000;
export const intakeAnswersSchema = z.object({
  pain: score('pain'),
  mobility: score('mobility'),
  stress: score('stress'),
  sleep: score('sleep'),
  reason: multilineTextSchema(INTAKE_REASON_MAX, 'what brings you in').default(''),
});
export type IntakeAnswers = z.output<typeof intakeAnswersSchema>;

/**
 * A stored check-in: the answers for one session. `baseline` is true only on answers stored before
 * the intake questionnaire set baselines, when a plan's first check-in became its baseline; no
 * check-in becomes one now.
 */
export interface CheckIn extends CheckInAnswers {
  readonly sessionId: string;
  readonly planId: string;
  readonly clientId: string;
  readonly therapistId: string;
  readonly answeredAt: Instant;
  readonly baseline: boolean;
}
