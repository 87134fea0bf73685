/**
 * Sends a dead letter the function wrote itself (only ids: see handle-ses-event.ts deadLetterOf)
 * to the failed-invocations queue. The SQS client is created once per container.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { optionalEnv } from '../../config/env.js';

export interface DeadLetterSender {
  send(letter: Readonly<Record<string, unknown>>): Promise<void>;
}

export class SqsDeadLetters implements DeadLetterSender {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(letter: Readonly<Record<string, unknown>>): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(letter) }));
  }
}

/** From FAILED_INVOCATIONS_URL, which the stack sets; the twin has no queue, so none there. */
export function fromEnv(env: NodeJS.ProcessEnv = process.env): DeadLetterSender | undefined {
  const url = optionalEnv('FAILED_INVOCATIONS_URL', env);
  return url ? new SqsDeadLetters(new SQSClient({}), url) : undefined;
}
