/**
 * One Keepwell Lambda function with the defaults every function shares, so the stack only says
 * what differs (entry, memory, timeout, trigger, grants). It owns its role and log group: the
 * role starts with nothing but write access to that one log group (no AWS managed policy), and
 * every other permission is granted by the stack next to the environment variable that needs it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, resolve } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../shared/config/manifest.js';

/** The newest Node.js runtime this aws-cdk-lib offers; the bundle targets the same version. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;
const ESBUILD_TARGET = 'node24';

export class MissingEntryError extends Error {
  override readonly name = 'MissingEntryError';
  constructor(readonly missing: readonly Pick<FunctionSpec, 'name' | 'entry'>[]) {
    super(
      `${missing.map((m) => `function "${m.name}": entry ${m.entry} does not exist`).join('; ')} (shared/config/manifest.ts names it; write the handler or fix the path)`,
    );
  }
}

/** The manifest entries whose handler file is missing under `projectRoot`. */
export function missingEntries(specs: readonly FunctionSpec[], projectRoot: string): FunctionSpec[] {
  return specs.filter((spec) => !existsSync(resolve(projectRoot, spec.entry)));
}

export interface KeepwellFunctionProps {
  /** The function's manifest entry: name, entry file, description, memory and timeout. */
  readonly spec: FunctionSpec;
  /** Absolute path of the project root; the manifest's entry paths are relative to it. */
  readonly projectRoot: string;
  /** How long the function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Customer-managed key that encrypts the log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /** `POWERTOOLS_SERVICE_NAME`: the service every log line and metric is filed under. */
  readonly serviceName: string;
  /**
   * A fixed function name, for the one function whose ARN must be known before it exists
   * (dispatch creates schedules that target itself).
   * @default - a name CloudFormation generates
   */
  readonly functionName?: string;
  /**
   * A fixed role name, for a role a key policy in another stack names by ARN.
   * @default - a name CloudFormation generates
   */
  readonly roleName?: string;
  /**
   * Pre-built code instead of bundling `spec.entry` with esbuild (template tests use it so that
   * they do not bundle six functions); it must export `handler` from `index`.
   * @default - `spec.entry` bundled with esbuild: minified, ESM, source maps, AWS SDK v3 included
   */
  readonly code?: lambda.Code;
  /**
   * Where asynchronous invocations go after their last retry.
   * @default - no on-failure destination (right for synchronous and stream-triggered functions)
   */
  readonly onFailure?: lambda.IDestination;
  /**
   * Lambda's own retries of a failed asynchronous invocation.
   * @default 2
   */
  readonly retryAttempts?: number;
}

export class KeepwellFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: KeepwellFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const entry = resolve(props.projectRoot, spec.entry);
    if (!props.code && !existsSync(entry)) throw new MissingEntryError([spec]);

    this.role = new iam.Role(this, 'Role', {
      ...(props.roleName ? { roleName: props.roleName } : {}),
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Keepwell ${spec.name}: ${spec.description}`.slice(0, 1000),
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      ...(props.code ? { code: props.code, handler: 'index.handler' } : { entry, handler: 'handler' }),
      ...(props.functionName ? { functionName: props.functionName } : {}),
      description: spec.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        NODE_OPTIONS: '--enable-source-maps',
      },
      projectRoot: props.projectRoot,
      depsLockFilePath: resolve(props.projectRoot, 'package-lock.json'),
      bundling: {
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        target: ESBUILD_TARGET,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        // Bundle the SDK v3 clients too: the versions we test are the versions that run.
        bundleAwsSDK: true,
        externalModules: [],
        // Some CommonJS dependencies call require() at run time; an ES module has none of its own.
        banner: "import{createRequire as __kwCreateRequire}from'node:module';const require=__kwCreateRequire(import.meta.url);",
        forceDockerBundling: false,
        ...(spec.bundleFiles && spec.bundleFiles.length > 0 ? { commandHooks: bundleFileHooks(spec.bundleFiles, props.projectRoot) } : {}),
      },
      ...(props.onFailure ? { onFailure: props.onFailure } : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
    });
  }
}

/** Copies each of `files` (module paths resolved from the project) beside the function's bundle. */
function bundleFileHooks(files: readonly string[], projectRoot: string) {
  const require = createRequire(resolve(projectRoot, 'package.json'));
  const sources = files.map((file) => require.resolve(file));
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => sources.map((source) => `cp "${source}" "${outputDir}/${basename(source)}"`),
  };
}
