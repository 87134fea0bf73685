/**
 * The REST-JSON wire protocol of EventBridge Scheduler, as `@aws-sdk/client-scheduler` speaks it
 * (routes and field names from its serializers): names travel in the path, group and paging in the
 * query, everything else in a JSON body; timestamps are epoch seconds; errors carry the HTTP status,
 * an `x-amzn-errortype` header and `{ "Message": … }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConflictError, NotFoundError, SchedulerApiError, UnknownOperationError, ValidationError } from './errors.js';
import type { ScheduleGroup, ScheduleStore, StoredSchedule } from './store.js';

type Query = Record<string, string | undefined>;
type Operation = (name: string | undefined, query: Query, body: unknown) => unknown;

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * `onRefused` hears of every request answered with an error other than a conflict or a missing
 * schedule (which callers meet in normal use: an upsert's create, a delete after the firing).
 */
export function createRequestListener(
  store: ScheduleStore,
  onRefused?: (error: unknown) => void,
): (request: IncomingMessage, response: ServerResponse) => void {
  const routes: Record<string, Operation> = {
    'POST /schedules/{Name}': (name, _query, body) => ({ ScheduleArn: store.createSchedule(required(name), body).arn }),
    'PUT /schedules/{Name}': (name, _query, body) => ({ ScheduleArn: store.updateSchedule(required(name), body).arn }),
    'GET /schedules/{Name}': (name, query) => describeSchedule(store.getSchedule(required(name), query.groupName)),
    'DELETE /schedules/{Name}': (name, query) => {
      store.deleteSchedule(required(name), query.groupName);
      return {};
    },
    'GET /schedules': (_name, query) => {
      const page = store.listSchedules({
        GroupName: query.ScheduleGroup,
        NamePrefix: query.NamePrefix,
        State: query.State,
        MaxResults: query.MaxResults,
        NextToken: query.NextToken,
      });
      return { Schedules: page.items.map(summarizeSchedule), NextToken: page.nextToken };
    },
    'POST /schedule-groups/{Name}': (name) => ({ ScheduleGroupArn: store.createGroup(required(name)).arn }),
    'GET /schedule-groups/{Name}': (name) => describeGroup(store.getGroup(required(name))),
    'DELETE /schedule-groups/{Name}': (name) => {
      store.deleteGroup(required(name));
      return {};
    },
    'GET /schedule-groups': (_name, query) => {
      const page = store.listGroups({ NamePrefix: query.NamePrefix, MaxResults: query.MaxResults, NextToken: query.NextToken });
      return { ScheduleGroups: page.items.map(describeGroup), NextToken: page.nextToken };
    },
  };

  return (request, response) => {
    handle(routes, request)
      .then((output) => send(response, 200, output))
      .catch((error: unknown) => {
        if (!(error instanceof ConflictError || error instanceof NotFoundError)) onRefused?.(error);
        sendError(response, error);
      });
  };
}

async function handle(routes: Record<string, Operation>, request: IncomingMessage): Promise<unknown> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const [collection, encodedName, ...rest] = url.pathname.split('/').filter((segment) => segment !== '');
  const method = request.method ?? 'GET';
  const route = `${method} /${collection ?? ''}${encodedName === undefined ? '' : '/{Name}'}`;
  const operation = rest.length === 0 ? routes[route] : undefined;
  if (!operation) throw new UnknownOperationError(`No operation is served at ${method} ${url.pathname}`);
  return operation(decodeName(encodedName), Object.fromEntries(url.searchParams), await readJsonBody(request));
}

function decodeName(encoded: string | undefined): string | undefined {
  if (encoded === undefined) return undefined;
  try {
    return decodeURIComponent(encoded);
  } catch (error) {
    throw new ValidationError(`Name ${encoded} is not valid percent-encoding.`, { cause: error });
  }
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ValidationError('Request body is larger than 1 MiB.');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError('Request body is not valid JSON.', { cause: error });
  }
}

function required(name: string | undefined): string {
  if (name === undefined) throw new ValidationError('Name is required.');
  return name;
}

function describeSchedule(record: StoredSchedule): Record<string, unknown> {
  const { definition } = record;
  return {
    Arn: record.arn,
    Name: record.name,
    GroupName: record.groupName,
    ScheduleExpression: definition.ScheduleExpression,
    ScheduleExpressionTimezone: definition.ScheduleExpressionTimezone,
    StartDate: epochSeconds(definition.StartDate),
    EndDate: epochSeconds(definition.EndDate),
    Description: definition.Description,
    State: definition.State,
    KmsKeyArn: definition.KmsKeyArn,
    Target: definition.Target,
    FlexibleTimeWindow: definition.FlexibleTimeWindow,
    ActionAfterCompletion: definition.ActionAfterCompletion,
    CreationDate: epochSeconds(record.creationDate),
    LastModificationDate: epochSeconds(record.lastModificationDate),
  };
}

function summarizeSchedule(record: StoredSchedule): Record<string, unknown> {
  return {
    Arn: record.arn,
    Name: record.name,
    GroupName: record.groupName,
    State: record.definition.State,
    CreationDate: epochSeconds(record.creationDate),
    LastModificationDate: epochSeconds(record.lastModificationDate),
    Target: { Arn: record.definition.Target.Arn },
  };
}

function describeGroup(group: ScheduleGroup): Record<string, unknown> {
  return {
    Arn: group.arn,
    Name: group.name,
    State: 'ACTIVE',
    CreationDate: epochSeconds(group.creationDate),
    LastModificationDate: epochSeconds(group.lastModificationDate),
  };
}

function epochSeconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : date.getTime() / 1000;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof SchedulerApiError) {
    send(response, error.httpStatus, { Message: error.message }, { 'x-amzn-errortype': error.errorType });
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  send(response, 500, { Message: `Local Scheduler failed: ${message}` }, { 'x-amzn-errortype': 'InternalServerException' });
}
