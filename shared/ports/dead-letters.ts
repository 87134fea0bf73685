/** A queue of failed invocations that exhausted their retries (locally: the twin's record of them). */

/** A failed invocation waiting in a dead-letter queue. */
export interface DeadLetterItem {
  /** What `dlq redrive <id>` takes: the execution id locally, the SQS message id deployed. */
  readonly id: string;
  readonly source: string;
  readonly failedAt?: string;
  readonly attempts?: number;
  readonly error?: string;
  /** What the failed target was given. */
  readonly payload: unknown;
}

export interface DeadLetterQueue {
  list(): Promise<DeadLetterItem[]>;
  /** Takes a letter off the queue once its redrive is in place. */
  remove(item: DeadLetterItem): Promise<void>;
}
