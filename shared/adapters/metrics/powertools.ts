/**
 * DeliveryMetrics as CloudWatch embedded metric format through Powertools Metrics: each figure is
 * one EMF line on stdout, which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics,
 * with no PutMetricData call. Namespace `Keepwell`, service dimension from the function.
 *
 * Per kind (dimension `Kind`): MessagesSent, MessagesSkipped and MessagesFailed (with `Reason`, a
 * bounded code), MessagesDeferred, RetriesScheduled, DuplicatesAbsorbed, and SendLateness
 * (seconds). For the failure-ratio alarms, DeliveriesSettled (every sent, skipped or failed
 * outcome) and DeliveryFailures, each across kinds (service dimension only) and by kind; and
 * OutcomeUnknown across kinds.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MessageKind } from '../../domain/message.js';
import type { DeliveryMetrics, DeliveryStatus } from '../../ports/metrics.js';
import { DISPATCH_METRICS_SERVICE, METRICS_NAMESPACE } from './names.js';

export { DISPATCH_METRICS_SERVICE };

const PER_KIND: Record<DeliveryStatus, string> = {
  sent: 'MessagesSent',
  skipped: 'MessagesSkipped',
  deferred: 'MessagesDeferred',
  'retry-scheduled': 'RetriesScheduled',
  duplicate: 'DuplicatesAbsorbed',
  failed: 'MessagesFailed',
};

export class PowertoolsDeliveryMetrics implements DeliveryMetrics {
  private readonly metrics: Metrics;

  constructor(serviceName: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  }

  private emit(name: string, value: number, unit: (typeof MetricUnit)[keyof typeof MetricUnit], dimensions: Record<string, string>): void {
    const single = this.metrics.singleMetric();
    single.addDimensions(dimensions);
    single.addMetric(name, unit, value);
  }

  outcome(kind: MessageKind, status: DeliveryStatus, reason?: string): void {
    const dimensions: Record<string, string> = status === 'skipped' || status === 'failed' ? { Kind: kind, Reason: reason ?? 'unknown' } : { Kind: kind };
    this.emit(PER_KIND[status], 1, MetricUnit.Count, dimensions);
    if (status === 'failed' && reason === 'outcome-unknown') this.emit('OutcomeUnknown', 1, MetricUnit.Count, {});
    if (status === 'sent' || status === 'skipped' || status === 'failed') {
      this.emit('DeliveriesSettled', 1, MetricUnit.Count, {});
      this.emit('DeliveriesSettled', 1, MetricUnit.Count, { Kind: kind });
      if (status === 'failed') {
        this.emit('DeliveryFailures', 1, MetricUnit.Count, {});
        this.emit('DeliveryFailures', 1, MetricUnit.Count, { Kind: kind });
      }
    }
  }

  lateness(kind: MessageKind, milliseconds: number): void {
    this.emit('SendLateness', Math.max(0, milliseconds) / 1000, MetricUnit.Seconds, { Kind: kind });
  }
}
