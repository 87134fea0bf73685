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
import { fromEnv, TokenKeyError } from '../../shared/adapters/token-key.js';
import { MissingEnvironmentError } from '../../shared/config/env.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.js';
import { createTestTable, sesEmails } from '../support/local-aws.js';
import { linkPath, NOW, seedPractice, testClinic, tokenOf, TEST_TOKEN_KEY } from '../e2e/fixtures.js';
import { TokenSigner } from '../../shared/security/tokens.js';

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
  const key = 'a-secure-string-key-from-parameter-store-0123';

  beforeAll(async () => {
    ssm = await fakeSsm({ '/keepwell/test/token-key': key, '/keepwell/test/short': 'too-short' });
  });
  afterAll(() => new Promise<void>((resolve) => ssm.server.close(() => resolve())));

  it('is read from SSM decrypted, once, and signs tokens the same key verifies', async () => {
    const env = { TOKEN_KEY_PARAMETER: '/keepwell/test/token-key', SSM_ENDPOINT: ssm.endpoint };
    const first = await fromEnv(env, ssmClientConfig);
    const second = await fromEnv(env, ssmClientConfig);
    const token = first.issue({ purpose: 'confirm', clientId: 'c-1', subject: 's-1', now: NOW });
    expect(second.verify(token, 'confirm', NOW).subject).toBe('s-1');
    expect(new TokenSigner(key).verify(token, 'confirm', NOW).clientId).toBe('c-1');
    expect(ssm.calls).toEqual([{ target: 'AmazonSSM.GetParameter', body: { Name: '/keepwell/test/token-key', WithDecryption: true } }]);
  });

  it('comes straight from TOKEN_KEY when the local twin sets it, without asking SSM', async () => {
    const before = ssm.calls.length;
    const signer = await fromEnv({ TOKEN_KEY: TEST_TOKEN_KEY, TOKEN_KEY_PARAMETER: '/keepwell/test/token-key', SSM_ENDPOINT: ssm.endpoint });
    expect(signer.verify(new TokenSigner(TEST_TOKEN_KEY).issue({ purpose: 'confirm', clientId: 'c', subject: 's', now: NOW }), 'confirm', NOW).clientId).toBe('c');
    expect(ssm.calls.length).toBe(before);
  });

  it('names the missing variable when neither is set', async () => {
    await expect(fromEnv({})).rejects.toThrow(MissingEnvironmentError);
    await expect(fromEnv({})).rejects.toThrow(/TOKEN_KEY_PARAMETER/);
  });

  it('names the parameter, never its value, when it is missing or too short to sign with', async () => {
    const missing = fromEnv({ TOKEN_KEY_PARAMETER: '/keepwell/test/absent', SSM_ENDPOINT: ssm.endpoint }, ssmClientConfig);
    await expect(missing).rejects.toBeInstanceOf(TokenKeyError);
    await expect(missing).rejects.toThrow('the link-token key parameter "/keepwell/test/absent" could not be read from SSM Parameter Store');
    const short = fromEnv({ TOKEN_KEY_PARAMETER: '/keepwell/test/short', SSM_ENDPOINT: ssm.endpoint }, ssmClientConfig);
    await expect(short).rejects.toThrow('the link-token key parameter "/keepwell/test/short" holds a key shorter than 32 bytes');
    await expect(short).rejects.not.toThrow(/too-short/);
  });
});

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
      requestContext: { accountId: '1', apiId: 'a', domainName: 'd', domainPrefix: 'd', requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0, http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'ua' } },
      ...(body ? { body } : {}),
      isBase64Encoded: false,
    });
    const page = (await handler(event('GET'))) as APIGatewayProxyStructuredResultV2;
    expect(page.statusCode).toBe(200);
    const done = (await handler(event('POST', new URLSearchParams({ token: tokenOf(path), pain: '8', mobility: '5', stress: '5', sleep: '5' }).toString()))) as APIGatewayProxyStructuredResultV2;
    expect(done.statusCode).toBe(200);
    expect((await t.store.getClientBundle(practice.client.id))?.checkIns).toHaveLength(1);
    expect(await sesEmails(practice.therapist.email)).toHaveLength(1);
  });
});
