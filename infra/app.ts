/**
 * The CDK app ops deploy: `npx cdk deploy --all -c stage=prod` (see docs/DEPLOY.md).
 * The stage's configuration lives in cdk.json under `context.stages`.
 */
import { App } from 'aws-cdk-lib';
import { StageConfigError } from './config.js';
import { MissingEntryError } from './constructs/keepwell-function.js';
import { buildKeepwell } from './keepwell.js';
import { ManifestError } from './wiring.js';

const app = new App();
try {
  buildKeepwell(app);
} catch (error) {
  // A configuration or manifest mistake is for a person to fix: show the message, not a stack trace.
  if (!(error instanceof StageConfigError || error instanceof MissingEntryError || error instanceof ManifestError)) throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();
