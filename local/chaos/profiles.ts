/**
 * The faults a simulation can turn on (`npm run simulate -- <scenario> --chaos <profile>`, or a
 * scenario's `chaos` field), one profile per fault and `all` for every fault at once.
 *
 * Each fault applies inside a window of the twin's clock (`from`/`until`, the whole run when
 * absent), at a `rate` (the chance per opportunity: a firing, a SendEmail call, a reminder in
 * flight), or `count` times spread evenly over the window (a restart, a malformed item). The
 * draws come from one seeded generator, so a run with the same seed injects the same faults.
 */
import * as z from 'zod';
import { instantSchema } from '../../shared/domain/model.js';
import { issuesFromZod, ValidationError } from '../../shared/domain/validation.js';

export const FAULTS = [
  'duplicate-sequential',
  'duplicate-concurrent',
  'ses-throttle',
  'ses-5xx',
  'ses-no-answer',
  'dispatch-crash',
  'dynamodb-restart',
  'malformed-item',
  'reschedule-in-flight',
] as const;
export type Fault = (typeof FAULTS)[number];

export const CHAOS_PROFILES = [...FAULTS, 'all'] as const;
export type ChaosProfile = (typeof CHAOS_PROFILES)[number];

export interface FaultSpec {
  readonly fault: Fault;
  /** Chance per opportunity, 0–1 (rate faults). */
  readonly rate?: number;
  /** Times over the window (dynamodb-restart, malformed-item). */
  readonly count?: number;
  readonly from?: string;
  readonly until?: string;
}

export interface ChaosSettings {
  readonly seed: number;
  readonly faults: readonly FaultSpec[];
}

/** Faults injected a number of times over the window rather than at a rate. */
const COUNTED: readonly Fault[] = ['dynamodb-restart', 'malformed-item'];

/** One fault alone: strong enough that every run meets it many times. */
const ALONE: Record<Fault, Omit<FaultSpec, 'fault'>> = {
  'duplicate-sequential': { rate: 1 },
  'duplicate-concurrent': { rate: 1 },
  'ses-throttle': { rate: 0.3 },
  'ses-5xx': { rate: 0.3 },
  'ses-no-answer': { rate: 0.1 },
  'dispatch-crash': { rate: 0.1 },
  'dynamodb-restart': { count: 2 },
  'malformed-item': { count: 4 },
  'reschedule-in-flight': { rate: 0.3 },
};

/** Every fault together, each less often, so most messages still meet at most one. */
const TOGETHER: Record<Fault, Omit<FaultSpec, 'fault'>> = {
  'duplicate-sequential': { rate: 0.2 },
  'duplicate-concurrent': { rate: 0.2 },
  'ses-throttle': { rate: 0.1 },
  'ses-5xx': { rate: 0.1 },
  'ses-no-answer': { rate: 0.05 },
  'dispatch-crash': { rate: 0.05 },
  'dynamodb-restart': { count: 2 },
  'malformed-item': { count: 4 },
  'reschedule-in-flight': { rate: 0.1 },
};

export function profileFaults(profile: ChaosProfile): FaultSpec[] {
  if (profile === 'all') return FAULTS.map((fault) => ({ fault, ...TOGETHER[fault] }));
  return [{ fault: profile, ...ALONE[profile] }];
}

export const DEFAULT_CHAOS_SEED = 12;

const faultSpecSchema = z
  .object(
    {
      fault: z.enum(FAULTS, { error: `must be one of ${FAULTS.join(', ')}` }),
      rate: z.number({ error: 'must be a number from 0 to 1' }).min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').optional(),
      count: z.number({ error: 'must be a whole number' }).int('must be a whole number').min(1, 'must be at least 1').max(50, 'must be at most 50').optional(),
      from: instantSchema.optional(),
      until: instantSchema.optional(),
    },
    { error: 'must be an object { fault, rate | count, from?, until? }' },
  )
  .strict()
  .superRefine((spec, ctx) => {
    const counted = COUNTED.includes(spec.fault);
    if (counted && spec.rate !== undefined) ctx.addIssue({ code: 'custom', path: ['rate'], message: `is not used by ${spec.fault}; give count` });
    if (!counted && spec.count !== undefined) ctx.addIssue({ code: 'custom', path: ['count'], message: `is not used by ${spec.fault}; give rate` });
    if (spec.from && spec.until && spec.from >= spec.until) ctx.addIssue({ code: 'custom', path: ['until'], message: `must be after from (${spec.from})` });
  });

export const chaosSchema = z
  .object(
    {
      profile: z.enum(CHAOS_PROFILES, { error: `must be one of ${CHAOS_PROFILES.join(', ')}` }).optional(),
      seed: z.number({ error: 'must be a whole number' }).int('must be a whole number').optional(),
      faults: z.array(faultSpecSchema, { error: 'must be a list of faults' }).optional(),
    },
    { error: 'must be an object { profile?, seed?, faults? }' },
  )
  .strict();

/** A scenario's `chaos` field: a profile, explicit faults, or both (the faults added to the profile's). */
export function parseChaos(input: unknown, path = 'chaos'): ChaosSettings {
  const result = chaosSchema.safeParse(input);
  if (!result.success) throw new ValidationError('chaos', issuesFromZod(result.error, path));
  const { profile, seed, faults } = result.data;
  return { seed: seed ?? DEFAULT_CHAOS_SEED, faults: [...(profile ? profileFaults(profile) : []), ...((faults ?? []) as FaultSpec[])] };
}
