/**
 * CloudFront in front of the page API, for a stage with the `waf` option. API Gateway HTTP APIs
 * cannot set headers on their own answers (no route, throttled, payload too large, integration
 * failed: HTTP APIs have no gateway responses, and response parameter mapping applies only to what
 * an integration returns), and AWS WAF cannot attach to an HTTP API. CloudFront can do both:
 * - a response headers policy adds the pages' security headers to every answer that lacks them,
 *   API Gateway's own errors and WAF's 429 included (the pages' own headers are left as they are);
 * - the stage's WAF web ACL (infra/edge-stack.ts) limits requests per address.
 * Nothing is cached (every page is personal), every viewer header but Host reaches the API, and
 * nothing is logged at the edge: a CloudFront log line holds the path, which carries the token.
 */
import { Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export interface FrontDoorProps {
  /** The host CloudFront forwards to: the HTTP API's execute-api domain. */
  readonly originDomain: string;
  /** The WAF web ACL (scope CLOUDFRONT, us-east-1). */
  readonly webAclArn: string;
  /** The pages' security headers, by lower-case name (shared/web/http.ts SECURITY_HEADERS). */
  readonly securityHeaders: Readonly<Record<string, string>>;
  /**
   * Serve on this domain with this ACM certificate (in us-east-1).
   * @default - the distribution's own cloudfront.net domain
   */
  readonly domain?: { readonly domainName: string; readonly certificateArn: string };
}

export class FrontDoor extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  /** The origin viewers use (no trailing slash). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: FrontDoorProps) {
    super(scope, id);
    const h = props.securityHeaders;
    const header = (name: string): string => {
      const value = h[name];
      if (value === undefined) throw new Error(`the front door needs the pages' ${name} header`);
      return value;
    };
    const hsts = /max-age=(\d+)/.exec(header('strict-transport-security'));
    const frame = header('x-frame-options').toUpperCase();
    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: "Keepwell: the client pages' security headers on every answer, API Gateway's and WAF's own included",
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: header('content-security-policy'), override: false },
        contentTypeOptions: { override: false },
        frameOptions: { frameOption: frame === 'SAMEORIGIN' ? cloudfront.HeadersFrameOption.SAMEORIGIN : cloudfront.HeadersFrameOption.DENY, override: false },
        referrerPolicy: { referrerPolicy: header('referrer-policy') as cloudfront.HeadersReferrerPolicy, override: false },
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(Number(hsts?.[1] ?? 31_536_000)), override: false },
      },
      customHeadersBehavior: {
        customHeaders: ['cross-origin-opener-policy', 'cross-origin-resource-policy'].map((name) => ({ header: name, value: header(name), override: false })),
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Keepwell client pages',
      defaultBehavior: {
        origin: new HttpOrigin(props.originDomain, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        responseHeadersPolicy: this.headers,
      },
      webAclId: props.webAclArn,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      ...(props.domain
        ? { domainNames: [props.domain.domainName], certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn) }
        : {}),
    });
    this.url = `https://${props.domain?.domainName ?? this.distribution.distributionDomainName}`;
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      "No edge access log: a CloudFront log line holds the request path, which carries the link token; the API's access log records each request by route key and status instead.",
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'Clients travel and open their links anywhere; a geographic restriction would lock them out of their own reminders.',
    );
  }
}
