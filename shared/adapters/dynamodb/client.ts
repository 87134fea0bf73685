/**
 * The DynamoDB document client, created once per container, and a meter that counts requests
 * and consumed capacity (every call asks for ReturnConsumedCapacity TOTAL: it costs nothing and
 * lets tests and benchmarks prove what each access pattern reads).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface CapacityMeter {
  requests: number;
  readUnits: number;
  writeUnits: number;
  itemsRead: number;
  byOperation: Record<string, number>;
}

export function newMeter(): CapacityMeter {
  return { requests: 0, readUnits: 0, writeUnits: 0, itemsRead: 0, byOperation: {} };
}

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
