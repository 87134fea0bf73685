/**
 * cdk-nag is wired so that a new finding fails the synth: proven here on a one-queue app rather
 * than by breaking Keepwell's stacks.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { acknowledge, addNagChecks, nagFindings } from '../../infra/nag.js';

function appWithPlainQueue(): { app: App; queue: sqs.Queue } {
  const app = new App();
  const stack = new Stack(app, 'NagProbe');
  // No TLS enforcement and no DLQ: AwsSolutions-SQS3 and AwsSolutions-SQS4.
  const queue = new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.SQS_MANAGED });
  addNagChecks(app);
  return { app, queue };
}

describe('cdk-nag at synth', () => {
  it('reports an unacknowledged finding by rule and construct path', () => {
    const { app } = appWithPlainQueue();

    expect(nagFindings(app)).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: 'AwsSolutions-SQS4', severity: 'error', paths: ['NagProbe/Plain/Resource'] })]),
    );
  });

  it('fails the synth on an unacknowledged finding', () => {
    const { app } = appWithPlainQueue();

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('synthesizes once every finding is acknowledged with a reason', () => {
    const { app, queue } = appWithPlainQueue();
    for (const { rule } of nagFindings(app)) acknowledge(queue, rule, 'probe: acknowledged on purpose in this test');

    expect(nagFindings(app)).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });
});
