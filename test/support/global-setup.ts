/**
 * Starts the real local services once per test run: DynamoDB Local and SES v2 local. Each test
 * file creates its own table (test/support/local-aws.ts), so files run in parallel without
 * sharing data.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, startSesLocal } from '../../local/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sesEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, ses] = await Promise.all([startDynamoDbLocal(), startSesLocal()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sesEndpoint', ses.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), ses.stop()]);
  };
}
