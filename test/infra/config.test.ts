import { describe, expect, it } from 'vitest';
import { DEFAULT_STAGE, loadStageConfig, StageConfigError } from '../../infra/config.js';
import { MissingEntryError, missingEntries } from '../../infra/constructs/keepwell-function.js';
import { FUNCTIONS, type FunctionSpec } from '../../shared/config/manifest.js';
import { manifestProblems } from '../../infra/wiring.js';
import { clinicSchema } from '../../shared/domain/model.js';
import { cdkContext, stagesInCdkJson } from './support.js';

const stages = cdkContext().stages as Record<string, Record<string, unknown>>;

/** The dev stage of cdk.json with one change applied at a path (undefined removes the field). */
function devWith(path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(stages.dev) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path[path.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return { dev: copy, prod: stages.prod };
}

function errorOf(action: () => unknown): StageConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof StageConfigError) return error;
    throw error;
  }
  throw new Error('expected a StageConfigError, but the configuration was accepted');
}

describe('stage configuration in cdk.json', () => {
  it('defines the example stages dev and prod', () => {
    expect(stagesInCdkJson()).toEqual(expect.arrayContaining(['dev', 'prod']));
  });

  it.each(stagesInCdkJson())('accepts stage %s, and its clinic passes the schema the functions read CLINIC_CONFIG with', (stage) => {
    const config = loadStageConfig(stages, stage);

    expect(config.stage).toBe(stage);
    expect(clinicSchema.safeParse({ ...config.clinic, baseUrl: config.baseUrl ?? 'https://example.execute-api.invalid' }).success).toBe(true);
  });

  it('reads the token key from /keepwell/<stage>/token-key and the previous one beside it, unless the stage names others', () => {
    expect(loadStageConfig(stages, 'dev').tokenKey).toEqual({ parameter: '/keepwell/dev/token-key', previousParameter: '/keepwell/dev/token-key-previous' });
    expect(loadStageConfig(devWith(['tokenKey'], { parameter: '/clinic/link-key' }), 'dev').tokenKey).toEqual({
      parameter: '/clinic/link-key',
      previousParameter: '/clinic/link-key-previous',
    });
    expect(loadStageConfig(devWith(['tokenKey'], { previousParameter: '/clinic/old-link-key' }), 'dev').tokenKey).toEqual({
      parameter: '/keepwell/dev/token-key',
      previousParameter: '/clinic/old-link-key',
    });
  });

  it("passes the clinic's retention to the functions with the clinic, as prod's example sets it", () => {
    expect(loadStageConfig(stages, 'prod').clinic.retention).toEqual({ checkInDays: 730, ledgerDays: 400 });
    expect(loadStageConfig(stages, 'dev').clinic.retention).toBeUndefined();
  });

  it('lets nobody but the functions use the data keys unless the stage names operator roles', () => {
    expect(loadStageConfig(stages, 'dev').operatorRoleArns).toEqual([]);
    expect(loadStageConfig(devWith(['operatorRoleArns'], ['arn:aws:iam::123456789012:role/keepwell-ops']), 'dev').operatorRoleArns).toEqual([
      'arn:aws:iam::123456789012:role/keepwell-ops',
    ]);
  });

  it('picks dev when no stage is given', () => {
    expect(DEFAULT_STAGE).toBe('dev');
    expect(loadStageConfig(stages).stage).toBe('dev');
  });

  it('takes the From address from the sender and fills in the clinic defaults', () => {
    const config = loadStageConfig(stages, 'prod');

    expect(config.clinic.senderEmail).toBe('reminders@harbour-massage.example');
    expect(config.clinic.maintenanceGraceDays).toBe(14);
    // The summary's "Adjust plan" links work for 48 hours unless the stage says otherwise.
    expect(config.clinic.adjustLinkHours).toBe(48);
    expect(config.clinic.bookingEmails).toEqual({ undoMinutes: 5, confirmation: true, change: true, cancellation: true });
    expect(config.customDomain).toEqual({ domainName: 'care.harbour-massage.example', certificateArn: expect.stringMatching(/^arn:aws:acm:/) });
  });

  it('rejects an unknown stage, naming the stages cdk.json knows', () => {
    const error = errorOf(() => loadStageConfig(stages, 'staging'));

    expect(error.message).toContain('unknown stage "staging"');
    expect(error.message).toContain('"dev", "prod"');
    expect(error.message).toContain('-c stage=NAME');
  });

  it('rejects a stage name that cannot prefix AWS resource names', () => {
    expect(errorOf(() => loadStageConfig(stages, 'Prod_1')).message).toContain('stage "Prod_1" is not a valid stage name');
  });

  it('explains where the stages go when cdk.json has none', () => {
    expect(errorOf(() => loadStageConfig(undefined, 'dev')).message).toContain('"stages"');
  });

  it.each([
    { path: ['alarmEmail'], value: 'ops-at-clinic', expected: 'stages.dev.alarmEmail: must be a valid email address' },
    { path: ['logRetentionDays'], value: 10, expected: 'stages.dev.logRetentionDays: must be one of 1, 3, 5, 7, 14' },
    { path: ['api', 'throttleBurst'], value: 0, expected: 'stages.dev.api.throttleBurst: must be at least 1' },
    { path: ['reconcileLookAheadHours'], value: 2.5, expected: 'stages.dev.reconcileLookAheadHours: must be a whole number of hours' },
    { path: ['clinic', 'timezone'], value: 'Mars/Olympus', expected: 'stages.dev.clinic.timezone: "Mars/Olympus" is not a known IANA time zone' },
    { path: ['clinic', 'quietHours'], value: { start: '25:00', end: '08:00' }, expected: 'stages.dev.clinic.quietHours.start: must be a local time' },
    { path: ['clinic', 'senderEmail'], value: 'x@y.example', expected: 'stages.dev.clinic: Unrecognized key: "senderEmail"' },
    { path: ['clinic', 'bookingEmails'], value: { undoMinutes: 600 }, expected: 'stages.dev.clinic.bookingEmails.undoMinutes: must be at most 120 (2 hours)' },
    {
      path: ['clinic', 'bookingEmails'],
      value: { confirmation: 'no' },
      expected: 'stages.dev.clinic.bookingEmails.confirmation: Invalid input: expected boolean, received string',
    },
    { path: ['clinic', 'bookingEmails'], value: { cancelation: false }, expected: 'stages.dev.clinic.bookingEmails: Unrecognized key: "cancelation"' },
    {
      path: ['sender', 'identity'],
      value: 'other.example',
      expected: 'stages.dev.sender.identity: must be the sender address "reminders@dev.harbour-massage.example" or its domain "dev.harbour-massage.example"',
    },
    { path: ['baseUrl'], value: 'http://care.example', expected: 'stages.dev.baseUrl: must start with https://' },
    {
      path: ['customDomain'],
      value: { certificateArn: 'arn:aws:acm:eu-west-2:111122223333:certificate/00000000-0000-4000-8000-000000000000' },
      expected: 'stages.dev.baseUrl: is required when customDomain is set',
    },
    { path: ['tokenKey'], value: { parameter: 'keepwell/dev/key' }, expected: 'stages.dev.tokenKey.parameter: must be an SSM parameter path' },
    { path: ['tokenKey'], value: { kmsKeyArn: 'alias/aws/ssm' }, expected: 'stages.dev.tokenKey.kmsKeyArn: must be a KMS key ARN' },
    { path: ['tokenKey'], value: { previousParameter: 'old-key' }, expected: 'stages.dev.tokenKey.previousParameter: must be an SSM parameter path' },
    { path: ['clinic', 'retention'], value: { checkInDays: 7, ledgerDays: 60 }, expected: 'stages.dev.clinic.retention.checkInDays: must be at least 30 days' },
    { path: ['clinic', 'retention'], value: { checkInDays: 365 }, expected: 'stages.dev.clinic.retention.ledgerDays:' },
    { path: ['clinic', 'bookingUrl'], value: 'http://book.example', expected: 'stages.dev.clinic.bookingUrl: must start with https://' },
    { path: ['clinic', 'name'], value: 'Harbour \u202eCinilc', expected: 'stages.dev.clinic.name: must not contain text-direction override characters' },
    { path: ['region'], value: 'moon-1', expected: 'stages.dev.region: must be an AWS region' },
    {
      path: ['clinic', 'brand'],
      value: { colour: '#4caf50' },
      expected: 'stages.dev.clinic.brand.colour: #4caf50 has a contrast of 2.78:1 with white button text; WCAG AA needs at least 4.5:1',
    },
    { path: ['clinic', 'brand'], value: { logoUrl: 'http://harbour.example/logo.png' }, expected: 'stages.dev.clinic.brand.logoUrl: must start with https://' },
    { path: ['clinic', 'adjustLinkHours'], value: 12, expected: 'stages.dev.clinic.adjustLinkHours: must be at least 24 hours' },
    { path: ['clinic', 'adjustLinkHours'], value: 168, expected: 'stages.dev.clinic.adjustLinkHours: must be at most 72 hours' },
    { path: ['operatorRoleArns'], value: ['arn:aws:iam::123456789012:user/ops'], expected: 'stages.dev.operatorRoleArns.0: must be an IAM role ARN' },
    { path: ['alarmEmails'], value: ['ops@clinic.example'], expected: 'stages.dev: Unrecognized key: "alarmEmails"' },
  ])('rejects $path = $value with the path and the reason', ({ path, value, expected }) => {
    const error = errorOf(() => loadStageConfig(devWith(path, value), 'dev'));

    expect(error.message).toContain('stage "dev" in cdk.json is invalid');
    expect(error.message).toContain(expected);
  });

  it('reports every problem of a stage at once', () => {
    const broken = devWith(['alarmEmail'], 'nope');
    (broken.dev as Record<string, unknown>).logRetentionDays = 2;

    const message = errorOf(() => loadStageConfig(broken, 'dev')).message;

    expect(message).toContain('stages.dev.alarmEmail');
    expect(message).toContain('stages.dev.logRetentionDays');
  });
});

describe('the topology manifest', () => {
  it('gives every function the grant each of its variables needs, and the variables each grant needs', () => {
    expect(FUNCTIONS.flatMap(manifestProblems)).toEqual([]);
  });

  it('catches a function given a variable without its grant, and a grant without its variable', () => {
    const dispatch = FUNCTIONS.find((f) => f.name === 'dispatch') as FunctionSpec;
    const broken: FunctionSpec = {
      ...dispatch,
      permissions: dispatch.permissions.filter((p) => p !== 'token-key:read'),
      environment: dispatch.environment.filter((e) => e !== 'CONFIGURATION_SET'),
    };

    expect(manifestProblems(broken)).toEqual([
      'dispatch: environment TOKEN_KEY_PARAMETER needs permission token-key:read',
      'dispatch: permission ses:send needs environment CONFIGURATION_SET',
    ]);
  });

  it('catches table access without its list of actions, and a list of actions without table access', () => {
    const ses = FUNCTIONS.find((f) => f.name === 'ses-events') as FunctionSpec;
    const { table: _dropped, ...withoutEntry } = ses;
    const intakeFeeds = FUNCTIONS.find((f) => f.name === 'intake-feeds') as FunctionSpec;

    expect(manifestProblems(withoutEntry)).toEqual(['ses-events: permission table needs a table entry listing its actions']);
    expect(manifestProblems({ ...intakeFeeds, permissions: [], environment: ['CLINIC_CONFIG', 'INTAKE_CONFIG'] })).toEqual([
      'intake-feeds: a table entry needs permission table',
    ]);
  });

  it('names every handler file that is missing before anything is bundled', () => {
    const missing = missingEntries(FUNCTIONS, '/nonexistent-project');
    const error = new MissingEntryError(missing);

    expect(missing.map((f) => f.name)).toEqual(FUNCTIONS.map((f) => f.name));
    expect(error.message).toContain('function "web": entry functions/web/handler.ts does not exist');
  });
});
