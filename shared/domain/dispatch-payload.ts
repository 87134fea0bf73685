/**
 * What a one-time schedule hands to dispatch: opaque ids, the message identity and the
 * Scheduler's context attributes. Never a name, an email address or an answer.
 */
import * as z from 'zod';
import { idSchema } from './model.js';
import { messageIdentitySchema } from './message.js';

export const dispatchPayloadSchema = z.object({
  message: messageIdentitySchema,
  clientId: idSchema,
  planId: idSchema.optional(),
  sessionId: idSchema.optional(),
  therapistId: idSchema.optional(),
  /**
   * Set on a retry schedule dispatch made for itself after a retryable error: how many retries
   * this is, and when the message was first meant to go (the time its rules are judged at).
   */
  redelivery: z
    .object({
      count: z.number().int().min(1).max(1000),
      intendedAt: z.iso.datetime({ message: 'must be a UTC ISO-8601 instant' }),
    })
    .optional(),
  /** Filled in by EventBridge Scheduler from its context attributes. */
  scheduledTime: z.string().optional(),
  executionId: z.string().optional(),
  attempt: z.union([z.string(), z.number()]).optional(),
});
export type DispatchPayload = z.output<typeof dispatchPayloadSchema>;

/** The Scheduler context attributes, as placeholders in the schedule's Input. */
export const SCHEDULER_CONTEXT = {
  scheduledTime: '<aws.scheduler.scheduled-time>',
  executionId: '<aws.scheduler.execution-id>',
  attempt: '<aws.scheduler.attempt-number>',
} as const;
