/**
 * The public HTTP API in front of the `web` function: the check-in form and the confirm,
 * reschedule-request and unsubscribe pages. The link token in the path is the authorization, so
 * the access log records the route key (`GET /{proxy+}`), never the path that carries the token.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** What one access-log line holds: request id, route, status and timings, nothing a client typed. */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
} as const;

export interface WebApiProps {
  /** Name of the API (shown in the console). */
  readonly apiName: string;
  /** Steady-state requests per second the default stage accepts. */
  readonly throttleRate: number;
  /** Requests the default stage accepts in a burst above the rate. */
  readonly throttleBurst: number;
  /** How long access logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Customer-managed key that encrypts the access-log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * Serve the API on this domain (with an ACM certificate in the stack's region) instead of the
   * execute-api address, which is then switched off so links only ever use the clinic's domain.
   * @default - the execute-api address
   */
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
}

export class WebApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** The origin the pages are served from (no trailing slash). */
  readonly url: string;
  /** The regional host a custom domain's DNS record must point to, when there is one. */
  readonly domainTarget?: string;

  constructor(scope: Construct, id: string, props: WebApiProps) {
    super(scope, id);

    const domain = props.customDomain
      ? new apigw.DomainName(this, 'Domain', {
          domainName: props.customDomain.domainName,
          certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.customDomain.certificateArn),
          securityPolicy: apigw.SecurityPolicy.TLS_1_2,
        })
      : undefined;

    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: props.apiName,
      description: 'Keepwell client pages: check-in, confirm, reschedule request, unsubscribe',
      createDefaultStage: false,
      disableExecuteApiEndpoint: domain !== undefined,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.logKey ? { encryptionKey: props.logKey } : {}),
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRate, burstLimit: props.throttleBurst },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      ...(domain ? { domainMapping: { domainName: domain } } : {}),
    });

    this.url = props.customDomain ? `https://${props.customDomain.domainName}` : this.api.apiEndpoint;
    if (domain) this.domainTarget = domain.regionalDomainName;
  }

  /**
   * Routes every page to the function that renders it. Separate from the constructor so that
   * the function's own configuration can name the API's address (the links it writes).
   */
  serve(handler: lambda.IFunction): void {
    const integration = new HttpLambdaIntegration('Pages', handler, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      timeout: Duration.seconds(10),
    });
    // Every method reaches the pages, which refuse what they do not serve with a 405 page and the
    // security headers: API Gateway's own "Not Found" (no route) never answers a client. What it
    // still answers itself (throttled, too large, the function failed) carries no such headers:
    // HTTP APIs cannot set headers on their own answers; the stage option `waf` puts CloudFront in
    // front, whose response headers policy adds them (constructs/front-door.ts).
    const routes = [
      ...this.api.addRoutes({ path: '/{proxy+}', methods: [apigw.HttpMethod.ANY], integration }),
      ...this.api.addRoutes({ path: '/', methods: [apigw.HttpMethod.ANY], integration }),
    ];
    for (const route of routes) {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'Public client pages opened from email links: the signed, encrypted, expiring link token in the path is the authorization (check-in, confirm and reschedule links are refused once used); there is no user to sign in.',
      );
    }
  }

  /**
   * Routes one method and path to its own function, ahead of the pages' catch-all. The function
   * authenticates each request itself (intake: an HMAC signature per source).
   */
  route(method: 'POST', path: string, name: string, handler: lambda.IFunction): void {
    const integration = new HttpLambdaIntegration(`Route-${name}`, handler, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      timeout: Duration.seconds(10),
    });
    for (const route of this.api.addRoutes({ path, methods: [apigw.HttpMethod[method]], integration })) {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        "Webhooks from booking systems, which cannot sign in: every request must carry an HMAC-SHA256 signature with the source's secret, checked in the function before anything is read or written.",
      );
    }
  }

  /** HTTP 5xx answers of the page API (server faults: the function failed or timed out). */
  metricServerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.api.metricServerError({ period: Duration.minutes(5), ...props });
  }
}
