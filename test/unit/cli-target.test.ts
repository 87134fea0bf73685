import { describe, expect, it } from 'vitest';
import { deadLetterFromSqs, queueArnFromUrl, TargetError } from '../../local/cli/target.js';

const payload = {
  message: { kind: 'reminder', subjectId: 's-1', offset: 'P2D', version: 1 },
  clientId: 'c-1',
  sessionId: 's-1',
  planId: 'p-1',
  scheduledTime: '2027-02-01T09:00:00Z',
};

describe('dead letters read from SQS', () => {
  it('take the payload from the body and the error from the attributes of a Scheduler DLQ message', () => {
    const item = deadLetterFromSqs(
      {
        MessageId: 'm-1',
        Body: JSON.stringify(payload),
        MessageAttributes: {
          ERROR_CODE: { DataType: 'String', StringValue: 'Lambda.TooManyRequestsException' },
          ERROR_MESSAGE: { DataType: 'String', StringValue: 'Rate exceeded' },
          SCHEDULED_TIME: { DataType: 'String', StringValue: '2027-02-01T09:00:00Z' },
          RETRY_ATTEMPTS: { DataType: 'String', StringValue: '20' },
        },
      },
      'schedule DLQ',
    );

    expect(item).toEqual({
      id: 'm-1',
      source: 'schedule DLQ',
      failedAt: '2027-02-01T09:00:00Z',
      attempts: 20,
      error: 'Lambda.TooManyRequestsException: Rate exceeded',
      payload,
    });
  });

  it('take the request payload of a failed-invocation record', () => {
    const item = deadLetterFromSqs(
      {
        MessageId: 'm-2',
        Body: JSON.stringify({
          timestamp: '2027-02-01T09:01:00Z',
          requestContext: { approximateInvokeCount: 3 },
          requestPayload: payload,
          responsePayload: { errorType: 'RetryableError' },
        }),
      },
      'failed invocations',
    );

    expect(item).toEqual({ id: 'm-2', source: 'failed invocations', failedAt: '2027-02-01T09:01:00Z', attempts: 3, error: 'RetryableError', payload });
  });

  it('keep a body that is not JSON as it is', () => {
    expect(deadLetterFromSqs({ MessageId: 'm-3', Body: 'not json' }, 'schedule DLQ')).toEqual({ id: 'm-3', source: 'schedule DLQ', payload: 'not json' });
  });
});

describe('queueArnFromUrl', () => {
  it('turns a queue URL into the ARN a schedule’s dead-letter config takes', () => {
    expect(queueArnFromUrl('https://sqs.eu-west-2.amazonaws.com/123456789012/keepwell-prod-schedule-dlq')).toBe(
      'arn:aws:sqs:eu-west-2:123456789012:keepwell-prod-schedule-dlq',
    );
  });

  it('refuses anything else', () => {
    expect(() => queueArnFromUrl('http://localhost:9324/queue/x')).toThrow(TargetError);
  });
});
