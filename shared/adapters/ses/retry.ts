/**
 * The SDK's retry policy for SendEmail. SendEmail is not idempotent: when the connection resets
 * after SES kept the email, the SDK's default strategy sends it again (a "transient" network
 * error) and the client gets two or three copies. This strategy lets the SDK retry only what SES
 * answered with a throttling or server status, where SES says it did not take the email; a call
 * with no answer at all fails at once and the mailer reports it as outcome unknown.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/** Attempts in all, the first included: enough to ride out a short throttling burst in-process. */
export const SES_MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 5_000;

function answeredStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** True when SES answered and the answer says the email was not taken and a retry may succeed. */
export function isAnsweredRetryable(errorInfo: RetryErrorInfo): boolean {
  const status = answeredStatus(errorInfo.error);
  if (status === undefined) return false;
  return errorInfo.errorType === 'THROTTLING' || status === 429 || status >= 500;
}

function token(retryCount: number, delayMs: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => delayMs };
}

export class AnsweredOnlyRetryStrategy implements RetryStrategyV2 {
  constructor(
    private readonly maxAttempts = SES_MAX_ATTEMPTS,
    private readonly random: () => number = Math.random,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return token(0, BASE_DELAY_MS);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const retryCount = previous.getRetryCount() + 1;
    if (retryCount >= this.maxAttempts || !isAnsweredRetryable(errorInfo)) {
      throw errorInfo.error ?? new Error('SES call not retried');
    }
    const base = errorInfo.errorType === 'THROTTLING' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    // Full jitter, so a burst of throttled sends does not retry in step.
    const delayMs = Math.min(MAX_DELAY_MS, Math.floor(this.random() * base * 2 ** retryCount));
    return token(retryCount, delayMs);
  }

  recordSuccess(): void {}
}
