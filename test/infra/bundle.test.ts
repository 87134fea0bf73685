/**
 * The deployable app as ops run it: the CDK CLI, no AWS credentials, no Docker, real entries
 * bundled by esbuild. One synth (prod, the stage with the most options) shared by the assertions.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/keepwell.js';
import { stackNames } from '../../infra/names.js';
import { FUNCTIONS } from '../../shared/config/manifest.js';

const run = promisify(execFile);

/** The environment of an operator's shell with no AWS credentials and no instance metadata to fall back on. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' };
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'CDK_DEFAULT_REGION',
    'CDK_DEFAULT_ACCOUNT',
  ])
    delete env[name];
  return env;
}

async function cdkSynth(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', ...args], {
      cwd: PROJECT_ROOT,
      env: offlineEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: 220_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

interface FunctionResource {
  Type: string;
  Properties: { Handler: string; Description: string };
  Metadata: Record<string, unknown>;
}

const outdir = mkdtempSync(join(tmpdir(), 'keepwell-synth-'));
let synth: { code: number; output: string };
let functions: FunctionResource[];

beforeAll(async () => {
  synth = await cdkSynth(['-c', 'stage=prod', '-o', outdir]);
  const templatePath = join(outdir, `${stackNames('prod').stateless}.template.json`);
  const template = existsSync(templatePath)
    ? (JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources: Record<string, FunctionResource> })
    : { Resources: {} };
  functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk synth -c stage=prod, offline', () => {
  it('succeeds without AWS credentials or Docker, with cdk-nag passing', () => {
    expect(synth.output).not.toMatch(/Validation failed|AwsSolutions-|HIPAA\.Security-/);
    expect(synth.code).toBe(0);
  });

  it('writes both stacks of the stage, and no edge stack without the waf option', () => {
    const names = stackNames('prod');
    for (const name of [names.stateful, names.stateless]) expect(existsSync(join(outdir, `${name}.template.json`))).toBe(true);
    expect(existsSync(join(outdir, `${names.edge}.template.json`))).toBe(false);
  });

  it.each(FUNCTIONS.map((f) => [f.name, f.description]))('bundles %s from its real entry: one minified ES module with its source map', (_name, description) => {
    const fn = functions.find((f) => f.Properties.Description === description);
    const assetDir = join(outdir, String(fn?.Metadata['aws:asset:path']));
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');

    expect(fn?.Properties.Handler).toBe('index.handler');
    expect(fn?.Metadata['aws:asset:is-bundled']).toBe(true);
    expect(statSync(join(assetDir, 'index.mjs.map')).size).toBeGreaterThan(0);
    // ESM with a require() for the CommonJS dependencies that still call it at run time.
    expect(code.startsWith("import{createRequire as __kwCreateRequire}from'node:module';")).toBe(true);
    // Minified: thousands of characters per line (template literals keep some line breaks), not one statement per line.
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    // The SDK v3 clients are inside the bundle, not expected from the runtime.
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
  });
});

describe('files a function reads at run time', () => {
  it('ships the chart rasteriser’s WebAssembly beside the summary bundle, byte for byte', () => {
    const fn = functions.find((f) => f.Properties.Description === "Sends each therapist's follow-up summary at their local hour");
    const assetDir = join(outdir, String(fn?.Metadata['aws:asset:path']));
    const shipped = readFileSync(join(assetDir, 'index_bg.wasm'));
    const packaged = readFileSync(join(PROJECT_ROOT, 'node_modules/@resvg/resvg-wasm/index_bg.wasm'));

    expect(shipped.equals(packaged)).toBe(true);
    expect(readFileSync(join(assetDir, 'index.mjs'), 'utf8')).toContain('index_bg.wasm');
  });

  it('ships nothing extra beside the other bundles', () => {
    const others = functions.filter((f) => f.Properties.Description !== "Sends each therapist's follow-up summary at their local hour");

    for (const fn of others) expect(existsSync(join(outdir, String(fn.Metadata['aws:asset:path']), 'index_bg.wasm'))).toBe(false);
  });
});

describe('cdk synth with a stage cdk.json does not define', () => {
  it('fails before bundling, naming the stage and the stages that exist', async () => {
    const result = await cdkSynth(['-c', 'stage=staging', '-o', join(outdir, 'unknown-stage')]);

    expect(result.code).not.toBe(0);
    expect(result.output).toContain('unknown stage "staging": cdk.json defines "dev", "prod"');
    expect(result.output).not.toContain('Bundling asset');
  });
});
