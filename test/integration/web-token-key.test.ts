/**
 * The link-token key from SSM Parameter Store through Powertools Parameters, against a stand-in
 * SSM endpoint that speaks the real GetParameter wire protocol (AWS JSON 1.1), so the SDK, the
 * provider's decryption flag and its cache are all exercised; and the `web` handler built from
 * the environment alone, as in Lambda.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { fromEnv, loaderFromEnv, TOKEN_KEY_MAX_AGE_SECONDS, TokenKeyError, TokenKeyring } from '../../shared/adapters/token-key.js';
import { createHandler } from '../../functions/web/handler.js';
import { MissingEnvironmentError } from '../../shared/config/env.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { createTestTable, sesEmails } from '../support/local-aws.js';
import { linkPath, NOW, seedPractice, testClinic, tokenOf, TEST_TOKEN_KEY } from '../e2e/fixtures.js';
import { TokenSigner } from '../../shared/security/tokens.js';
import { MemoryMailer } from '../support/memory-mailer.js';

interface SsmCall {
  target: string;
  body: { Name?: string; WithDecryption?: boolean };
}

/** Answers GetParameter from `parameters`; ParameterNotFound for anything else. */
async function fakeSsm(parameters: Record<string, string>): Promise<{ endpoint: string; calls: SsmCall[]; server: Server }> {
  const calls: SsmCall[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(text) as SsmCall['body'];
      calls.push({ target: String(request.headers['x-amz-target']), body });
      const value = body.Name ? parameters[body.Name] : undefined;
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (value === undefined) {
        response.writeHead(400).end(JSON.stringify({ __type: 'ParameterNotFound', message: 'not found' }));
        return;
      }
      response.writeHead(200).end(JSON.stringify({ Parameter: { Name: body.Name, Type: 'SecureString', Value: value, Version: 1 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

const ssmClientConfig = { clientConfig: { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS } };

describe('the link-token key', () => {
  let ssm: Awaited<ReturnType<typeof fakeSsm>>;
  const key = 'j2/gTNyLf4PuZL2BozeYsAF4hDoWyqojmBvw8amUCNo=';
  // 24 random bytes: base64, but too short.
  const short = 'm0cXQ0Zt3Gx8c1m7iQJ2mJq1mGe2bXkY';

  beforeAll(async () => {
    ssm = await fakeSsm({
      '/keepwell/test/token-key': key,
      '/keepwell/test/short': short,
      '/keepwell/test/text': 'a long passphrase typed by hand, not base64 at all',
    });
  });
  afterAll(() => new Promise<void>((resolve) => ssm.server.close(() => resolve())));

  it('is read from SSM decrypted, once per container, and signs tokens the same key verifies', async () => {
    const env = { TOKEN_KEY_PARAMETER: '/keepwell/test/token-key', SSM_ENDPOINT: ssm.endpoint };
    const keys = await fromEnv(env, ssmClientConfig);
    const token = keys.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-1', now: NOW });
    expect((await keys.verify(token, 'confirm', NOW)).subject).toBe('s-1');
    expect((await keys.verify(keys.issue({ purpose: 'check-in', clientId: 'c-1', subject: 's-2', now: NOW }), 'check-in', NOW)).subject).toBe('s-2');
    expect(new TokenSigner(key).verify(token, 'confirm', NOW).clientId).toBe('c-1');
    expect(ssm.calls).toEqual([{ target: 'AmazonSSM.GetParameter', body: { Name: '/keepwell/test/token-key', WithDecryption: true } }]);
  });

  it('comes straight from TOKEN_KEY when the local twin sets it, without asking SSM', async () => {
    const before = ssm.calls.length;
    const signer = await fromEnv({ TOKEN_KEY: TEST_TOKEN_KEY, TOKEN_KEY_PARAMETER: '/keepwell/test/token-key', SSM_ENDPOINT: ssm.endpoint });
    expect(
      (await signer.verify(new TokenSigner(TEST_TOKEN_KEY).issue({ purpose: 'confirm', clientId: 'c', subject: 's', now: NOW }), 'confirm', NOW)).clientId,
    ).toBe('c');
    expect(ssm.calls.length).toBe(before);
  });

  it('names the missing variable when neither is set', async () => {
    await expect(fromEnv({})).rejects.toThrow(MissingEnvironmentError);
    await expect(fromEnv({})).rejects.toThrow(/TOKEN_KEY_PARAMETER/);
  });

  it('names the parameter, never its value, when it is missing or not a key, at start', async () => {
    const missing = fromEnv({ TOKEN_KEY_PARAMETER: '/keepwell/test/absent', SSM_ENDPOINT: ssm.endpoint }, ssmClientConfig);
    await expect(missing).rejects.toBeInstanceOf(TokenKeyError);
    await expect(missing).rejects.toThrow('the link-token key parameter "/keepwell/test/absent" could not be read from SSM Parameter Store');
    const tooShort = fromEnv({ TOKEN_KEY_PARAMETER: '/keepwell/test/short', SSM_ENDPOINT: ssm.endpoint }, ssmClientConfig);
    await expect(tooShort).rejects.toThrow(
      'the link-token key parameter "/keepwell/test/short" decodes to 24 bytes; a link-token key must be at least 32 random bytes (`openssl rand -base64 32`)',
    );
    await expect(tooShort).rejects.not.toThrow(short);
    const text = fromEnv({ TOKEN_KEY_PARAMETER: '/keepwell/test/text', SSM_ENDPOINT: ssm.endpoint }, ssmClientConfig);
    await expect(text).rejects.toThrow('the link-token key parameter "/keepwell/test/text" is not base64 text: create the key with `openssl rand -base64 32`');
  });

  it('refuses a previous key that is not a key, naming the previous parameter; an absent one means no rotation', async () => {
    const env = { TOKEN_KEY_PARAMETER: '/keepwell/test/token-key', SSM_ENDPOINT: ssm.endpoint };
    await expect(fromEnv({ ...env, TOKEN_PREVIOUS_KEY_PARAMETER: '/keepwell/test/short' }, ssmClientConfig)).rejects.toThrow(
      'the link-token key parameter "/keepwell/test/short" decodes to 24 bytes',
    );
    const keys = await fromEnv({ ...env, TOKEN_PREVIOUS_KEY_PARAMETER: '/keepwell/test/no-previous' }, ssmClientConfig);
    expect(keys.keyIds).toEqual(new TokenSigner(key).keyIds);
  });

  it('refuses a short or non-base64 TOKEN_KEY from the local twin, naming the variable', async () => {
    await expect(fromEnv({ TOKEN_KEY: short })).rejects.toThrow('the link-token key parameter "TOKEN_KEY" decodes to 24 bytes');
    await expect(fromEnv({ TOKEN_KEY: 'hex-or-text-keys-are-refused-0123456789' })).rejects.toThrow(/"TOKEN_KEY" is not base64 text/);
  });
});

describe('a key rotated as docs/DEPLOY.md says, through SSM and the pages', () => {
  const CURRENT = '/keepwell/rotation/token-key';
  const PREVIOUS = '/keepwell/rotation/token-key-previous';
  const OLD_KEY = 'gn5DuGuJCkE3oYjIstK37h+bS3ashSbdeIKHrz1dN98=';
  const NEW_KEY = 'NuPcM94vx2bqvJbsqKP3Mt3X5g+hxH57kSbH8WAQ1p8=';
  const parameters: Record<string, string> = { [CURRENT]: OLD_KEY };
  let ssm: Awaited<ReturnType<typeof fakeSsm>>;
  beforeAll(async () => {
    ssm = await fakeSsm(parameters);
  });
  afterAll(() => new Promise<void>((resolve) => ssm.server.close(() => resolve())));

  it('keeps every link already sent working until the previous key is dropped, and only then refuses them', async () => {
    const t = await createTestTable();
    const practice = await seedPractice(t.store);
    let ms = Date.now();
    const container = () =>
      TokenKeyring.open(loaderFromEnv({ TOKEN_KEY_PARAMETER: CURRENT, TOKEN_PREVIOUS_KEY_PARAMETER: PREVIOUS, SSM_ENDPOINT: ssm.endpoint }, ssmClientConfig), {
        nowMs: () => ms,
      });
    const webKeys = await container();
    const page = createHandler({
      store: t.store,
      ledger: t.store,
      tokens: t.store,
      mailer: new MemoryMailer(),
      clinic: testClinic(),
      signer: webKeys,
      clock: { now: () => new Date(ms) },
    });
    const open = async (path: string) => ((await page(pageEvent(path))) as APIGatewayProxyStructuredResultV2).statusCode;
    const confirmLink = async () => linkPath(await container(), 'confirm', practice.client.id, practice.upcoming.id, new Date(ms));

    const sentBefore = await confirmLink();
    expect(await open(sentBefore)).toBe(200);

    // 1. Copy the current key to the previous parameter; 2. put a new current key.
    parameters[PREVIOUS] = OLD_KEY;
    parameters[CURRENT] = NEW_KEY;
    const sentAfter = await confirmLink();
    expect(tokenOf(sentAfter).split('.')[0]).toBe(new TokenSigner(NEW_KEY).keyIds[0]);
    // The page's container read the keys before the rotation: the new link's key id makes it read them again.
    expect(await open(sentAfter)).toBe(200);
    expect(webKeys.keyIds).toEqual(new TokenSigner(NEW_KEY, OLD_KEY).keyIds);
    expect(await open(sentBefore)).toBe(200);

    // 3. Once the old links have expired, drop the previous key: containers let it go within the hour.
    delete parameters[PREVIOUS];
    ms += TOKEN_KEY_MAX_AGE_SECONDS * 1000;
    expect(await open(sentBefore)).toBe(404);
    expect(await open(sentAfter)).toBe(200);
  });
});

function pageEvent(path: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'd',
      domainPrefix: 'd',
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'ua' },
    },
    isBase64Encoded: false,
  };
}

describe('the web handler built from the environment', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it('serves and records a check-in with the table, SES and key the environment names', async () => {
    const t = await createTestTable();
    const practice = await seedPractice(t.store);
    Object.assign(process.env, {
      TABLE_NAME: t.tableName,
      DYNAMODB_ENDPOINT: t.endpoint,
      SES_ENDPOINT: inject('sesEndpoint'),
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      CLINIC_CONFIG: JSON.stringify(testClinic()),
      CONFIGURATION_SET: 'keepwell-test',
      TOKEN_KEY: TEST_TOKEN_KEY,
    });
    const { handler } = await import('../../functions/web/handler.js');
    // A real "now": the handler reads the system clock, so the link is issued now too.
    const path = linkPath(new TokenSigner(TEST_TOKEN_KEY), 'check-in', practice.client.id, practice.past.id, new Date());
    const event = (method: string, body?: string): APIGatewayProxyEventV2 => ({
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      requestContext: {
        accountId: '1',
        apiId: 'a',
        domainName: 'd',
        domainPrefix: 'd',
        requestId: 'r',
        routeKey: '$default',
        stage: '$default',
        time: '',
        timeEpoch: 0,
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'ua' },
      },
      ...(body ? { body } : {}),
      isBase64Encoded: false,
    });
    const page = (await handler(event('GET'))) as APIGatewayProxyStructuredResultV2;
    expect(page.statusCode).toBe(200);
    const done = (await handler(
      event('POST', new URLSearchParams({ token: tokenOf(path), pain: '8', mobility: '5', stress: '5', sleep: '5' }).toString()),
    )) as APIGatewayProxyStructuredResultV2;
    expect(done.statusCode).toBe(200);
    expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toHaveLength(1);
    expect(await sesEmails(practice.therapist.email)).toHaveLength(1);
  });
});
