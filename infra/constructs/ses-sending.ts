/**
 * How Keepwell sends with SES: the configuration set every email goes out with (reputation
 * metrics, account-level suppression of bounces and complaints, TLS required), the sending
 * identity (an address, or a whole domain with DKIM), and the topic the configuration set
 * publishes its events to, for ses-events. SES publishes to no event bus but the account's
 * default one, which every rule in the account can read: the topic is Keepwell's own, encrypted
 * under the given key, which lets SES encrypt for this configuration set only.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The SES events ses-events handles, as the configuration set names them. */
export const SES_EVENT_TYPES = [
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.DELIVERY_DELAY,
] as const;

export interface SesSendingProps {
  /** The configuration set's name (the stage's resource prefix); also shown in the topic's display name. */
  readonly name: string;
  /** The sending identity: an email address, or a domain (then DKIM records to publish). */
  readonly identity: string;
  /** The customer-managed key the events topic is encrypted under. */
  readonly topicKey: kms.IKey;
}

export class SesSending extends Construct {
  readonly configurationSet: ses.ConfigurationSet;
  /** The configuration set's ARN, for `ses:SendEmail` grants. */
  readonly configurationSetArn: string;
  readonly identity: ses.EmailIdentity;
  /** Where the configuration set publishes SES_EVENT_TYPES. */
  readonly events: sns.Topic;

  constructor(scope: Construct, id: string, props: SesSendingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      configurationSetName: props.name,
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      // Reminders name a clinic and a time: never send them in clear text between mail servers.
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
    });
    this.events = new sns.Topic(this, 'SesEventsTopic', {
      displayName: `Keepwell SES events (${props.name})`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    this.configurationSet.addEventDestination('ToTopic', {
      destination: ses.EventDestination.snsTopic(this.events),
      events: [...SES_EVENT_TYPES],
    });
    this.configurationSetArn = stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName });
    // SES encrypts what it publishes to the topic: only for this configuration set.
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SesPublishesEvents',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.configurationSetArn } },
      }),
    );
    this.identity = new ses.EmailIdentity(this, 'SenderIdentity', {
      identity: props.identity.includes('@') ? ses.Identity.email(props.identity) : ses.Identity.domain(props.identity),
      configurationSet: this.configurationSet,
    });
  }
}
