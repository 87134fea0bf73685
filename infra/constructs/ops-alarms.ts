/**
 * Where failures reach a person: one encrypted SNS topic with the ops email subscribed, every
 * alarm acting on it (alarm and back to OK), and a dashboard that shows the same alarms. Missing
 * data never alarms: a quiet week at a small clinic is not an outage.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface OpsAlarmsProps {
  /** Prefix of every alarm name and of the dashboard's name. */
  readonly namePrefix: string;
  /** Who is told (an email subscription they must confirm once). */
  readonly alarmEmail: string;
  /**
   * Customer-managed key for the topic; its policy must let CloudWatch use it (an AWS managed
   * `alias/aws/sns` key cannot: alarms would fail to publish, silently).
   */
  readonly topicKey: kms.IKey;
}

export interface AlarmOptions {
  readonly metric: cloudwatch.IMetric;
  /** The alarm fires when the metric is strictly greater than this. */
  readonly threshold: number;
  /** What a person reading the email should know and do. */
  readonly description: string;
  /**
   * Consecutive breaching periods before the alarm fires.
   * @default 1
   */
  readonly evaluationPeriods?: number;
}

export class OpsAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: OpsAlarmsProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Keepwell alarms (${props.namePrefix})`,
      masterKey: props.topicKey,
      enforceSSL: true,
    });
    this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
  }

  /** An alarm on `metric > threshold` that notifies the ops topic when it fires and when it clears. */
  add(id: string, options: AlarmOptions): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.namePrefix}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** A dashboard with every alarm added so far, plus any extra widgets (traffic, latency). */
  addDashboard(extraWidgets: readonly cloudwatch.IWidget[] = []): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.namePrefix,
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
    const graphs = this.alarms.map((alarm) => new cloudwatch.AlarmWidget({ title: alarm.node.id, alarm, width: 6, height: 5 }));
    for (let i = 0; i < graphs.length; i += 4) dashboard.addWidgets(...graphs.slice(i, i + 4));
    if (extraWidgets.length > 0) dashboard.addWidgets(...extraWidgets);
    return dashboard;
  }
}
