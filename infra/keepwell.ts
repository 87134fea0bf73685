/**
 * Builds Keepwell's two stacks for one stage into a CDK app: the configuration is read and
 * validated first, then the stateful stack (table, token key, data key) and the stateless stack
 * that uses it, then cdk-nag. infra/app.ts calls it for `cdk synth/deploy`; the infra tests call
 * it with pre-built function code so that they do not bundle at every synth.
 */
import { fileURLToPath } from 'node:url';
import { Tags, type App } from 'aws-cdk-lib';
import { MissingEntryError, missingEntries } from './constructs/keepwell-function.js';
import { DEFAULT_STAGE, loadStageConfig, type StageConfig } from './config.js';
import { stackNames } from './names.js';
import { addNagChecks } from './nag.js';
import { KeepwellEdgeStack } from './edge-stack.js';
import { KeepwellDataStack } from './stateful-stack.js';
import { KeepwellAppStack, type KeepwellAppStackProps } from './stateless-stack.js';
import { FUNCTIONS } from '../shared/config/manifest.js';

/** The repository root: the manifest's entry paths and package-lock.json are relative to it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BuildOptions {
  /**
   * The stage to build.
   * @default - the `stage` context value (`-c stage=NAME`), else `dev`
   */
  readonly stage?: string;
  /**
   * Pre-built code per function instead of bundling the real entries.
   * @default - every entry bundled with esbuild
   */
  readonly codeFor?: KeepwellAppStackProps['codeFor'];
}

export interface KeepwellStacks {
  readonly config: StageConfig;
  readonly data: KeepwellDataStack;
  readonly app: KeepwellAppStack;
  /** The WAF web ACL's stack (us-east-1), when the stage has the `waf` option. */
  readonly edge?: KeepwellEdgeStack;
}

export function buildKeepwell(app: App, options: BuildOptions = {}): KeepwellStacks {
  const stageContext: unknown = app.node.tryGetContext('stage');
  const stage = options.stage ?? (typeof stageContext === 'string' && stageContext !== '' ? stageContext : DEFAULT_STAGE);
  const config = loadStageConfig(app.node.tryGetContext('stages'), stage);
  const env =
    config.account || config.region
      ? { ...(config.account ? { account: config.account } : {}), ...(config.region ? { region: config.region } : {}) }
      : undefined;
  const names = stackNames(stage);
  // Name every missing handler at once, before esbuild spends time on the others.
  const missing = options.codeFor ? [] : missingEntries(FUNCTIONS, PROJECT_ROOT);
  if (missing.length > 0) throw new MissingEntryError(missing);

  const data = new KeepwellDataStack(app, names.stateful, {
    ...(env ? { env } : {}),
    description: `Keepwell (${stage}): the table, its backups and the data key; retained on delete`,
    terminationProtection: true,
    stage,
    operatorRoleArns: config.operatorRoleArns,
  });
  const edge = config.waf
    ? new KeepwellEdgeStack(app, names.edge, {
        env: { ...(config.account ? { account: config.account } : {}), region: 'us-east-1' },
        description: `Keepwell (${stage}): the WAF web ACL in front of the page API`,
        crossRegionReferences: true,
        namePrefix: `keepwell-${stage}`,
        requestsPer5Minutes: config.waf.requestsPer5Minutes,
      })
    : undefined;
  const stateless = new KeepwellAppStack(app, names.stateless, {
    ...(env ? { env } : {}),
    ...(edge ? { crossRegionReferences: true, webAclArn: edge.webAcl.attrArn } : {}),
    description: `Keepwell (${stage}): functions, schedules, queues, page API, SES configuration and alarms`,
    config,
    table: data.table,
    tableKey: data.tableKey,
    dataKey: data.dataKey,
    projectRoot: PROJECT_ROOT,
    ...(options.codeFor ? { codeFor: options.codeFor } : {}),
  });
  stateless.addStackDependency(data);
  if (edge) stateless.addStackDependency(edge);

  Tags.of(app).add('project', 'keepwell');
  Tags.of(app).add('stage', stage);
  addNagChecks(app);
  return { config, data, app: stateless, ...(edge ? { edge } : {}) };
}
