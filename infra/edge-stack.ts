/**
 * The edge stack, for a stage with the `waf` option: the AWS WAF web ACL that CloudFront in front
 * of the page API uses. A web ACL for CloudFront can only live in us-east-1, so it has a stack of
 * its own there; the app stack reads its ARN through CDK's cross-region reference.
 * - one rate-based rule: an address (IP) sending more than `requestsPer5Minutes` requests in any
 *   5 minutes is answered 429 until its rate falls below the limit again;
 * - AWS's list of known bad inputs (exploit patterns in paths and headers), counted and blocked.
 * Nothing is logged: WAF's logs would hold each request's path, and the path carries link tokens.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.js';

export interface KeepwellEdgeStackProps extends StackProps {
  /** Prefix of the web ACL's name and metrics. */
  readonly namePrefix: string;
  /** Requests one address may send in any 5 minutes (WAF's rate-based rule limit). */
  readonly requestsPer5Minutes: number;
}

export class KeepwellEdgeStack extends Stack {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: KeepwellEdgeStackProps) {
    super(scope, id, props);
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: false, metricName });
    this.webAcl = new wafv2.CfnWebACL(this, 'PageApiAcl', {
      name: `${props.namePrefix}-pages`,
      description: 'Keepwell client pages: a per-address rate limit in front of the page API',
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${props.namePrefix}-pages`),
      rules: [
        {
          name: 'PerAddressRate',
          priority: 0,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.requestsPer5Minutes, evaluationWindowSec: 300 } },
          visibilityConfig: visibility(`${props.namePrefix}-per-address-rate`),
        },
        {
          name: 'KnownBadInputs',
          priority: 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: visibility(`${props.namePrefix}-known-bad-inputs`),
        },
      ],
    });
    acknowledge(
      this.webAcl,
      'HIPAA.Security-WAFv2LoggingEnabled',
      "Not logged: a WAF log entry records the request's URI path, which carries the client's link token; each rule's CloudWatch metrics count what it blocked.",
    );
  }
}
