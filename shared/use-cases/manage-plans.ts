/**
 * The writers' use cases, each in its own file: sessions (manage-sessions.ts), plan changes
 * (adjust-plan.ts), subscriptions (manage-subscription.ts) and imports (import/). This module
 * only names them together for callers that use several.
 */
export { ConflictError } from '../domain/errors.js';
export { adjustPlan, pausePlan, planHistory, resumePlan, setPlanStatus, type AdjustPlanInput, type AdjustPlanOutcome } from './adjust-plan.js';
export { importDataset } from './import/import-dataset.js';
export { bookSession, cancelSession, markSession, rescheduleSession } from './manage-sessions.js';
export { suppressAddress, unsubscribe } from './manage-subscription.js';
