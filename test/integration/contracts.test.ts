/** The port contracts on the real adapters and the twin's parts; test/unit/contracts.test.ts runs them on the fakes. */
import { CreateScheduleGroupCommand, GetScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, describe } from 'vitest';
import { virtualClock } from '../../local/clock.js';
import { startLocalScheduler, type LocalScheduler } from '../../local/scheduler/server.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import type { DynamoStore } from '../../shared/adapters/dynamodb/store.js';
import { EventBridgeMessageScheduler } from '../../shared/adapters/scheduler/eventbridge.js';
import { SesMailer } from '../../shared/adapters/ses/mailer.js';
import { SCHEDULER_CONTEXT } from '../../shared/domain/dispatch-payload.js';
import { clinicStoreContract } from '../contract/clinic-store.contract.js';
import { ledgerContract, tokenStoreContract } from '../contract/ledger.contract.js';
import { mailerContract } from '../contract/mailer.contract.js';
import { schedulerContract, type SchedulerSubject } from '../contract/scheduler.contract.js';
import { createTestTable, sesClient, sesEmails } from '../support/local-aws.js';

let table: Promise<DynamoStore> | undefined;
/** One table for the file: every case uses names of its own. DynamoDB's calls always interleave. */
const dynamoStore = async () => (table ??= createTestTable().then((t) => t.store));

describe('the DynamoDB ledger', () => ledgerContract(dynamoStore));
describe('the DynamoDB token store', () => tokenStoreContract(dynamoStore));
describe('the DynamoDB clinic store', () => clinicStoreContract(dynamoStore));

const GROUP = 'keepwell-contract';
let scheduling: Promise<SchedulerSubject & { local: LocalScheduler; client: SchedulerClient }> | undefined;
afterAll(async () => {
  const s = await scheduling;
  s?.client.destroy();
  await s?.local.close();
});

/** The EventBridge adapter on the local Scheduler, with a virtual clock that never fires anything. */
async function startScheduling(): Promise<SchedulerSubject & { local: LocalScheduler; client: SchedulerClient }> {
  const local = await startLocalScheduler({ clock: virtualClock(new Date('2030-01-01T00:00:00.000Z')), region: LOCAL_REGION, targets: {} });
  const client = new SchedulerClient({ endpoint: local.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await client.send(new CreateScheduleGroupCommand({ Name: GROUP }));
  const scheduler = new EventBridgeMessageScheduler({
    client,
    groupName: GROUP,
    targetArn: 'arn:aws:lambda:eu-west-2:000000000000:function:keepwell-dispatch',
    roleArn: 'arn:aws:iam::000000000000:role/keepwell-scheduler',
    deadLetterArn: 'arn:aws:sqs:eu-west-2:000000000000:keepwell-schedule-dlq',
  });
  const read: SchedulerSubject['read'] = async (name) => {
    try {
      const s = await client.send(new GetScheduleCommand({ Name: name, GroupName: GROUP }));
      const { scheduledTime, executionId, attempt, ...payload } = JSON.parse(s.Target?.Input ?? '{}') as Record<string, unknown>;
      if (scheduledTime !== SCHEDULER_CONTEXT.scheduledTime || executionId !== SCHEDULER_CONTEXT.executionId || attempt !== SCHEDULER_CONTEXT.attempt)
        throw new Error(`schedule ${name} lost its context placeholders`);
      const at = /^at\((.+)\)$/.exec(s.ScheduleExpression ?? '')?.[1];
      return { at: `${at}.000Z`, payload: payload as never };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  return { scheduler, read, local, client };
}

describe('the EventBridge scheduler on the local Scheduler', () => schedulerContract(() => (scheduling ??= startScheduling())));

describe('the SES mailer on SES v2 local', () =>
  mailerContract(async () => ({
    mailer: new SesMailer({ client: sesClient() }),
    stored: async (messageId) => {
      const email = (await sesEmails()).find((e) => e.messageId === messageId) as
        | (Awaited<ReturnType<typeof sesEmails>>[number] & { replyTo?: string[] })
        | undefined;
      if (!email) return undefined;
      return {
        from: email.from,
        to: email.destination.to.join(', '),
        ...(email.replyTo?.length ? { replyTo: email.replyTo.join(', ') } : {}),
        subject: email.subject,
        html: email.body.html ?? '',
        text: email.body.text ?? '',
        headers: Object.fromEntries((email.headers ?? []).map((h) => [h.name, h.value])),
        attachments: email.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, base64: a.content })),
      };
    },
  })));
