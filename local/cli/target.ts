/**
 * Where the CLI works: the running local twin (found through its state file), or a deployed stage
 * (found through its CloudFormation stack outputs, with the standard AWS credential chain).
 * Everything the commands touch — the table, the clock, the dead letters, the Scheduler — comes
 * from here, so each command is written once for both.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.js';
import { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import { DynamoIntakeStore } from '../../shared/adapters/dynamodb/intake-store.js';
import { DynamoClientRecords } from '../../shared/adapters/dynamodb/client-records.js';
import type { ClientRecords } from '../../shared/ports/erasure.js';
import { EventBridgeMessageScheduler } from '../../shared/adapters/scheduler/eventbridge.js';
import type { Clinic } from '../../shared/domain/model.js';
import type { DeadLetterItem, DeadLetterQueue } from '../../shared/ports/dead-letters.js';
import type { MessageScheduler } from '../../shared/ports/scheduler.js';
import { stackNames, STACK_OUTPUTS, type StackOutputKey } from '../../infra/names.js';
import { LOCAL_CREDENTIALS } from '../services.js';
import { markRedriven, pendingDeadLetters, readTwinState, stateDir, twinNow } from './state.js';

export type { DeadLetterItem, DeadLetterQueue } from '../../shared/ports/dead-letters.js';

/** The clinic settings that decide when messages go out. */
export type ClinicTimes = Pick<Clinic, 'quietHours' | 'maintenanceGraceDays'>;

export interface Target {
  /** For messages: "local twin (table …)" or "stage prod". */
  readonly label: string;
  readonly store: DynamoStore;
  /** The intake delivery log and pipeline state on the same table. */
  readonly intake: DynamoIntakeStore;
  /** Everything about one client, for erasure and export, and the tombstones of erased clients. */
  readonly records: ClientRecords;
  now(): Date;
  clinic(): Promise<ClinicTimes>;
  readonly deadLetters: DeadLetterQueue;
  /** Where a redriven message is re-created as a one-time schedule. */
  messageScheduler(): Promise<MessageScheduler>;
  close(): void;
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

export interface TargetOptions {
  readonly stage?: string;
  readonly region?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export async function resolveTarget(options: TargetOptions): Promise<Target> {
  return options.stage ? stageTarget(options.stage, options.region) : localTarget(options.env ?? process.env);
}

function localTarget(env: NodeJS.ProcessEnv): Target {
  const dir = stateDir(env);
  const state = readTwinState(dir);
  const clientConfig = { region: state.region, credentials: LOCAL_CREDENTIALS };
  const documentClient = createDocumentClient({ ...clientConfig, endpoint: state.dynamoEndpoint });
  const now = () => twinNow(state.clock);
  const store = new DynamoStore({ tableName: state.tableName, client: documentClient, now });
  let scheduler: SchedulerClient | undefined;
  return {
    label: `local twin (table ${state.tableName})`,
    store,
    intake: new DynamoIntakeStore({ tableName: state.tableName, client: documentClient, now }),
    records: new DynamoClientRecords({ tableName: state.tableName, client: documentClient }),
    now,
    clinic: async () => state.clinic,
    deadLetters: {
      list: async () =>
        pendingDeadLetters(dir).map((l) => ({
          id: l.executionId,
          source: `schedule ${l.scheduleName}`,
          failedAt: l.failedAt,
          attempts: l.attempts,
          error: l.error,
          payload: l.payload,
        })),
      remove: async (item) => markRedriven(item.id, now().toISOString(), dir),
    },
    messageScheduler: async () => {
      scheduler ??= new SchedulerClient({ ...clientConfig, endpoint: state.schedulerEndpoint });
      return new EventBridgeMessageScheduler({
        client: scheduler,
        groupName: state.scheduleGroup,
        targetArn: state.dispatchArn,
        roleArn: state.schedulerRoleArn,
        deadLetterArn: state.deadLetterArn,
      });
    },
    close: () => {
      documentClient.destroy();
      scheduler?.destroy();
    },
  };
}

/** The stateless stack's outputs (infra/names.ts), with a clear error for a stage that is not deployed. */
export async function stackOutputs(stage: string, region?: string): Promise<Partial<Record<StackOutputKey, string>>> {
  const stackName = stackNames(stage).stateless;
  const cloudFormation = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs: Record<string, string> = {};
    for (const output of Stacks?.[0]?.Outputs ?? []) if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
    return outputs;
  } catch (error) {
    const name = (error as Error).name;
    const why =
      name === 'ValidationError'
        ? `does not exist (deploy it with \`npx cdk deploy -c stage=${stage}\`)`
        : `could not be read (${name}: ${(error as Error).message})`;
    throw new TargetError(`stack ${stackName} for stage "${stage}" ${why}`, { cause: error });
  } finally {
    cloudFormation.destroy();
  }
}

function required(outputs: Partial<Record<string, string>>, key: StackOutputKey, stage: string): string {
  const value = outputs[key];
  if (!value) throw new TargetError(`stack ${stackNames(stage).stateless} has no output ${key}; redeploy the stage with this version of Keepwell`);
  return value;
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → `arn:aws:sqs:<region>:<account>:<name>`. */
export function queueArnFromUrl(url: string): string {
  const match = /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([A-Za-z0-9_.-]+)$/.exec(url);
  if (!match) throw new TargetError(`"${url}" is not an SQS queue URL`);
  const partition = url.includes('.amazonaws.com.cn/') ? 'aws-cn' : 'aws';
  return `arn:${partition}:sqs:${match[1]}:${match[2]}:${match[3]}`;
}

async function stageTarget(stage: string, region?: string): Promise<Target> {
  const outputs = await stackOutputs(stage, region);
  for (const key of STACK_OUTPUTS) if (key !== 'WebUrl') required(outputs, key, stage);
  const clientConfig = region ? { region } : {};
  const documentClient = createDocumentClient(clientConfig);
  const store = new DynamoStore({ tableName: required(outputs, 'TableName', stage), client: documentClient });
  const sqs = new SQSClient(clientConfig);
  let scheduler: SchedulerClient | undefined;
  const queues = [
    { url: required(outputs, 'ScheduleDlqUrl', stage), source: 'schedule DLQ' },
    { url: required(outputs, 'FailedInvocationsQueueUrl', stage), source: 'failed invocations' },
  ];
  const receipts = new Map<string, { url: string; receipt: string }>();
  return {
    label: `stage ${stage}`,
    store,
    intake: new DynamoIntakeStore({ tableName: required(outputs, 'TableName', stage), client: documentClient }),
    records: new DynamoClientRecords({ tableName: required(outputs, 'TableName', stage), client: documentClient }),
    now: () => new Date(),
    clinic: async () => (await import('./stage-config.js')).stageClinic(stage),
    deadLetters: {
      async list() {
        const items: DeadLetterItem[] = [];
        for (const queue of queues) {
          for (const message of await receiveAll(sqs, queue.url)) {
            if (!message.MessageId || !message.ReceiptHandle) continue;
            receipts.set(message.MessageId, { url: queue.url, receipt: message.ReceiptHandle });
            items.push(deadLetterFromSqs(message, queue.source));
          }
        }
        return items;
      },
      async remove(item) {
        const handle = receipts.get(item.id);
        if (!handle) throw new TargetError(`message ${item.id} was not received in this run`);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: handle.url, ReceiptHandle: handle.receipt }));
      },
    },
    messageScheduler: async () => {
      scheduler ??= new SchedulerClient(clientConfig);
      const groupName = required(outputs, 'ScheduleGroupName', stage);
      const targetArn = required(outputs, 'DispatchFunctionArn', stage);
      const roleArn = required(outputs, 'SchedulerRoleArn', stage);
      return new EventBridgeMessageScheduler({
        client: scheduler,
        groupName,
        targetArn,
        roleArn,
        deadLetterArn: queueArnFromUrl(required(outputs, 'ScheduleDlqUrl', stage)),
      });
    },
    close: () => {
      documentClient.destroy();
      sqs.destroy();
      scheduler?.destroy();
    },
  };
}

/**
 * How long listed messages stay hidden from other consumers. Long enough to list and redrive in
 * one run; short, so that a `dlq list` leaves the queue as it found it within a minute.
 */
const VISIBILITY_SECONDS = 60;

async function receiveAll(sqs: SQSClient, url: string): Promise<Message[]> {
  const messages: Message[] = [];
  // Each receive returns at most 10; an empty receive means the queue has nothing more visible.
  for (let round = 0; round < 100; round++) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: VISIBILITY_SECONDS,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!Messages || Messages.length === 0) break;
    messages.push(...Messages);
  }
  return messages;
}

/**
 * A schedule DLQ message carries the target's input as its body and the error in attributes; a
 * failed-invocation record (Lambda destination) carries it as `requestPayload`.
 */
export function deadLetterFromSqs(message: Message, source: string): DeadLetterItem {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    body = message.Body;
  }
  const record = body as
    | { requestPayload?: unknown; responsePayload?: { errorType?: string }; timestamp?: string; requestContext?: { approximateInvokeCount?: number } }
    | undefined;
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const isDestinationRecord = record !== null && typeof record === 'object' && 'requestPayload' in record;
  const error = isDestinationRecord ? record.responsePayload?.errorType : [attribute('ERROR_CODE'), attribute('ERROR_MESSAGE')].filter(Boolean).join(': ');
  const failedAt = isDestinationRecord ? record.timestamp : attribute('SCHEDULED_TIME');
  const attempts = isDestinationRecord ? record.requestContext?.approximateInvokeCount : Number(attribute('RETRY_ATTEMPTS') ?? NaN);
  return {
    id: message.MessageId ?? '',
    source,
    ...(failedAt ? { failedAt } : {}),
    ...(attempts !== undefined && Number.isFinite(attempts) ? { attempts } : {}),
    ...(error ? { error } : {}),
    payload: isDestinationRecord ? record.requestPayload : body,
  };
}
