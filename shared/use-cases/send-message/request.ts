/** What dispatch accepts: the kinds it sends, and a payload whose ids agree with its message. */
import type * as z from 'zod';
import { dispatchPayloadSchema } from '../../domain/dispatch-payload.js';
import { BOOKING_KINDS, type MessageKind } from '../../domain/message.js';

/** The kinds dispatch sends; summaries and therapist alerts have their own senders. */
export const DISPATCH_KINDS = ['reminder', 'check-in', 'maintenance-nudge', ...BOOKING_KINDS, 'intake-questionnaire'] as const satisfies readonly MessageKind[];
export type DispatchKind = (typeof DISPATCH_KINDS)[number];

/** The dispatch payload, plus what only dispatch needs: a kind it sends and ids that agree. */
export const dispatchRequestSchema = dispatchPayloadSchema.superRefine((payload, ctx) => {
  const { kind, subjectId } = payload.message;
  if (!(DISPATCH_KINDS as readonly string[]).includes(kind)) {
    ctx.addIssue({ code: 'custom', path: ['message', 'kind'], message: `must be one of ${DISPATCH_KINDS.join(', ')}` });
  } else if (kind === 'maintenance-nudge' || kind === 'intake-questionnaire') {
    // Both are about a plan; the intake's payload names its plan's first session too.
    if (payload.planId !== undefined && payload.planId !== subjectId)
      ctx.addIssue({ code: 'custom', path: ['planId'], message: `must equal message.subjectId for a ${kind === 'maintenance-nudge' ? 'nudge' : kind}` });
  } else if (payload.sessionId !== undefined && payload.sessionId !== subjectId) {
    ctx.addIssue({ code: 'custom', path: ['sessionId'], message: `must equal message.subjectId for a ${kind}` });
  }
});
export type DispatchRequest = z.output<typeof dispatchRequestSchema>;
