import { afterEach, describe, expect, it } from 'vitest';
import { functionEnv, lambdaEntry } from '../../shared/adapters/lambda/entry.js';
import { MissingEnvironmentError } from '../../shared/config/env.js';
import { functionSpec } from '../../shared/config/manifest.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

const SYNC_ENV = {
  TABLE_NAME: 'keepwell',
  SCHEDULE_GROUP: 'keepwell',
  SCHEDULER_ROLE_ARN: 'arn:aws:iam::000000000000:role/keepwell-scheduler',
  DISPATCH_FUNCTION_ARN: 'arn:aws:lambda:eu-west-2:000000000000:function:keepwell-dispatch',
  SCHEDULE_DLQ_ARN: 'arn:aws:sqs:eu-west-2:000000000000:keepwell-schedule-dlq',
  CLINIC_CONFIG: '{}',
};

describe("a function's environment, from its manifest entry", () => {
  it('names every missing variable of the entry at once', () => {
    expect(() => functionEnv(functionSpec('sync-schedules'), { TABLE_NAME: 'keepwell' })).toThrow(
      'missing environment variables SCHEDULE_GROUP, SCHEDULER_ROLE_ARN, DISPATCH_FUNCTION_ARN, SCHEDULE_DLQ_ARN, CLINIC_CONFIG',
    );
  });

  it('holds only the variables the entry lists and the twin-only ones, not those of other functions', () => {
    const env = functionEnv(functionSpec('sync-schedules'), {
      ...SYNC_ENV,
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      CONFIGURATION_SET: 'keepwell',
      FAILED_INVOCATIONS_URL: 'https://sqs.example/queue',
    });
    expect(env).toEqual({ ...SYNC_ENV, DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });
  });

  it('starts without the variables the twin leaves unset (token key parameter, previous key, dead-letter queue)', () => {
    const env = functionEnv(functionSpec('ses-events'), { TABLE_NAME: 'keepwell' });
    expect(env).toEqual({ TABLE_NAME: 'keepwell' });
    expect(functionEnv(functionSpec('web'), { TABLE_NAME: 't', CLINIC_CONFIG: '{}', CONFIGURATION_SET: 'c', TOKEN_KEY: 'k' })).toEqual({
      TABLE_NAME: 't',
      CLINIC_CONFIG: '{}',
      CONFIGURATION_SET: 'c',
      TOKEN_KEY: 'k',
    });
  });
});

describe('a Lambda entry point', () => {
  it('builds once per container, with one logger, and runs every invocation on what it built', async () => {
    Object.assign(process.env, SYNC_ENV);
    const builds: string[] = [];
    const handler = lambdaEntry('sync-schedules', ({ env, log, spec }) => {
      builds.push(`${spec.name} ${env.TABLE_NAME} ${typeof log.info}`);
      return async (event: number) => event * 2;
    });

    expect(await handler(1)).toBe(2);
    expect(await handler(2)).toBe(4);
    expect(builds).toEqual(['sync-schedules keepwell function']);
  });

  it('starts again on the next invocation after a failed start', async () => {
    Object.assign(process.env, SYNC_ENV);
    let attempts = 0;
    const handler = lambdaEntry('sync-schedules', async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('SSM unreachable');
      return async () => 'ran';
    });

    await expect(handler({})).rejects.toThrow('SSM unreachable');
    expect(await handler({})).toBe('ran');
    expect(await handler({})).toBe('ran');
    expect(attempts).toBe(2);
  });

  it('fails its start with the missing variables, and builds once they are set', async () => {
    for (const name of Object.keys(SYNC_ENV)) delete process.env[name];
    let built = 0;
    const handler = lambdaEntry('reconcile', () => {
      built += 1;
      return async () => 'ran';
    });

    await expect(handler({})).rejects.toThrow(MissingEnvironmentError);
    expect(built).toBe(0);
    Object.assign(process.env, SYNC_ENV);
    expect(await handler({})).toBe('ran');
  });
});
