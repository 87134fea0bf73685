/**
 * The `waf` stage option: CloudFront with a response headers policy and an AWS WAF rate-based
 * rule in front of the page API. cdk.json ships no such stage; these tests build prod with it.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadStageConfig } from '../../infra/config.js';
import { nagFindings } from '../../infra/nag.js';
import { cdkContext, logicalId, resourcesOf, synthesizeStage, type SynthesizedStage } from './support.js';

const EDGE_CERTIFICATE = 'arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-4000-8000-000000000001';

function prodWith(extra: Record<string, unknown>): Record<string, unknown> {
  const context = cdkContext();
  const stages = context.stages as Record<string, Record<string, unknown>>;
  return { ...context, stages: { ...stages, prod: { ...stages.prod, account: '111122223333', region: 'eu-west-2', ...extra } } };
}

let guarded: SynthesizedStage;
let edge: Template;
let plainProd: SynthesizedStage;
beforeAll(() => {
  guarded = synthesizeStage('prod', prodWith({ waf: { requestsPer5Minutes: 300, certificateArn: EDGE_CERTIFICATE } }));
  edge = Template.fromStack(guarded.stacks.edge!);
  plainProd = synthesizeStage('prod');
});

describe('a stage with the waf option', () => {
  it('synthesizes with no cdk-nag finding left unacknowledged, edge stack included', () => {
    expect(nagFindings(guarded.app)).toEqual([]);
  });

  it('puts a web ACL for CloudFront in us-east-1, with the per-address rate-based rule answering 429', () => {
    expect(guarded.stacks.edge?.region).toBe('us-east-1');
    edge.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'PerAddressRate',
          Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
          Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 300, EvaluationWindowSec: 300 } },
        }),
      ]),
    });
  });

  it("serves the clinic's domain from CloudFront with the us-east-1 certificate, the WAF ACL, TLS 1.2 and no caching", () => {
    guarded.appTemplate.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['care.harbour-massage.example'],
        ViewerCertificate: Match.objectLike({ AcmCertificateArn: EDGE_CERTIFICATE, MinimumProtocolVersion: 'TLSv1.2_2021' }),
        WebACLId: Match.anyValue(),
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
          // The managed CachingDisabled and AllViewerExceptHostHeader policies.
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
        }),
        Origins: [Match.objectLike({ CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] }) })],
      }),
    });
    guarded.appTemplate.hasOutput('WebUrl', { Value: 'https://care.harbour-massage.example' });
    guarded.appTemplate.hasOutput('WebDomainTarget', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FrontDoorDistribution'), 'DomainName'] } });
  });

  it("adds the pages' security headers to every answer that lacks them (API Gateway's and WAF's own), leaving the pages' own", () => {
    guarded.appTemplate.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: Match.stringLikeRegexp("^default-src 'none'"), Override: false },
          ContentTypeOptions: { Override: false },
          FrameOptions: { FrameOption: 'DENY', Override: false },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: false },
          StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000, Override: false },
        },
        CustomHeadersConfig: {
          Items: [
            { Header: 'cross-origin-opener-policy', Value: 'same-origin', Override: false },
            { Header: 'cross-origin-resource-policy', Value: 'same-origin', Override: false },
          ],
        },
      }),
    });
    const distribution = Object.values(resourcesOf(guarded.appTemplate, 'AWS::CloudFront::Distribution'))[0];
    expect(JSON.stringify(distribution)).toContain(logicalId(guarded.appTemplate, 'AWS::CloudFront::ResponseHeadersPolicy', 'FrontDoorSecurityHeaders'));
  });

  it("keeps the API on its own address (CloudFront's origin) instead of the clinic's domain, and links to the clinic's domain", () => {
    expect(resourcesOf(guarded.appTemplate, 'AWS::ApiGatewayV2::DomainName')).toEqual({});
    guarded.appTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    const web = Object.values(resourcesOf(guarded.appTemplate, 'AWS::Lambda::Function')).find(
      // The web function's description names the intake questionnaire's form since it serves it.
      (f) => f.Properties?.Description === "Check-in and intake forms, confirm, reschedule-request and unsubscribe pages, the therapist's plan-adjustment page",
    );
    expect(JSON.stringify(web?.Properties?.Environment)).toContain('https://care.harbour-massage.example');
  });
});

describe('a stage without it', () => {
  it('has no CloudFront, no WAF and no edge stack', () => {
    expect(plainProd.stacks.edge).toBeUndefined();
    expect(resourcesOf(plainProd.appTemplate, 'AWS::CloudFront::Distribution')).toEqual({});
    expect(resourcesOf(plainProd.appTemplate, 'AWS::WAFv2::WebACL')).toEqual({});
  });
});

describe('the waf option in cdk.json', () => {
  const stagesWith = (extra: Record<string, unknown>) => prodWith(extra).stages;

  it('needs the stage pinned to an account and region', () => {
    const context = prodWith({ waf: { requestsPer5Minutes: 300, certificateArn: EDGE_CERTIFICATE } });
    const stages = context.stages as Record<string, Record<string, unknown>>;
    const { account: _a, region: _r, ...unpinned } = stages.prod!;

    expect(() => loadStageConfig({ ...stages, prod: unpinned }, 'prod')).toThrow('stages.prod.waf: needs account and region set');
  });

  it('needs a us-east-1 certificate with a custom domain, and a limit WAF accepts', () => {
    expect(() => loadStageConfig(stagesWith({ waf: { requestsPer5Minutes: 300 } }), 'prod')).toThrow(
      'stages.prod.waf.certificateArn: is required with customDomain',
    );
    expect(() =>
      loadStageConfig(stagesWith({ waf: { requestsPer5Minutes: 300, certificateArn: EDGE_CERTIFICATE.replace('us-east-1', 'eu-west-2') } }), 'prod'),
    ).toThrow('must be an ACM certificate ARN in us-east-1');
    expect(() => loadStageConfig(stagesWith({ waf: { requestsPer5Minutes: 5, certificateArn: EDGE_CERTIFICATE } }), 'prod')).toThrow(
      'stages.prod.waf.requestsPer5Minutes: must be at least 10',
    );
  });
});
