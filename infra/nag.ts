/**
 * cdk-nag (v3) with the AWS Solutions and HIPAA Security packs. The packs run as CDK validation
 * plugins at every synth, so an unacknowledged finding fails `cdk synth` and `cdk deploy`; the
 * tests run the same packs through `nagFindings`. Every acknowledgement names the exact finding
 * (`Rule[Resource::…]` where the rule reports several) and says why it is acceptable here.
 */
import { Validations, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';

function packs(scope?: IConstruct): NagPack[] {
  return [new AwsSolutionsChecks(scope, { verbose: true }), new HIPAASecurityChecks(scope, { verbose: true })];
}

/** Registers both packs on the app: synthesis fails on any finding not acknowledged in code. */
export function addNagChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(...packs(app));
}

/** Acknowledges one finding on a construct and everything under it. */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly paths: readonly string[];
  readonly description: string;
}

/** Runs both packs over a construct tree and returns what is still unacknowledged. */
export function nagFindings(scope: IConstruct): NagFinding[] {
  return packs().flatMap((pack) =>
    pack.validateScope(scope).violations.map((v: PolicyViolation) => ({
      rule: v.ruleName,
      severity: v.severity ?? 'error',
      paths: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
      description: v.description,
    })),
  );
}
