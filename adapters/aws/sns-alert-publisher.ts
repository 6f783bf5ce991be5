/**
 * Alerts by e-mail through an SNS topic: composeEmail's ASCII subject and plain-text body, with
 * message attributes (kind, worst severity) that subscription filter policies can route on —
 * e.g. page only on critical findings and failed runs.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { composeEmail, type EmailOptions } from '../../shared/alerts';
import { composeOrgEmail } from '../../shared/alerts/org';
import { composeRemediationEmail } from '../../shared/alerts/remediation';
import { SEVERITIES } from '../../shared/model/analysis';
import type { AlertPublisher, AnyAlert } from '../../shared/model/ports';

export interface SnsAlertPublisherLogger {
  info(message: string, extra?: object): void;
}

export interface SnsAlertPublisherOptions {
  readonly sns: SNSClient;
  readonly topicArn: string;
  /** How the e-mail is composed (top findings, body cap). */
  readonly email?: EmailOptions;
  readonly logger?: SnsAlertPublisherLogger;
}

/** Message attribute names, for subscription filter policies. */
export const SNS_ATTRIBUTE_KIND = 'sg_audit_kind';
export const SNS_ATTRIBUTE_WORST_SEVERITY = 'sg_audit_worst_severity';

/** SNS refused or failed to take the alert; names the topic, keeps the SDK error as cause. */
export class SnsDeliveryError extends Error {
  override readonly name = 'SnsDeliveryError';
  readonly topicArn: string;

  constructor(topicArn: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.name}: ${options.cause.message}` : '';
    super(`cannot publish the alert to ${topicArn}${reason}`, options);
    this.topicArn = topicArn;
  }
}

/** 'failure' for a failed run; else the worst severity with findings, or 'none' (remediation alerts too). */
function worstSeverity(alert: AnyAlert): string {
  if (alert.kind === 'failure') return 'failure';
  if (alert.kind === 'remediation-approval' || alert.kind === 'remediation-outcome') return 'none';
  const counts =
    alert.kind === 'organization'
      ? alert.report.totals.actionableFindingsBySeverity
      : alert.report.summary.findingsBySeverity;
  return SEVERITIES.find((severity) => (counts[severity] ?? 0) > 0) ?? 'none';
}

/**
 * Publishes alerts to an SNS topic (e-mail subscribers read subject and body as is).
 *
 * @example
 * await new SnsAlertPublisher({ sns, topicArn }).publish({ kind: 'report', report, stored });
 */
export class SnsAlertPublisher implements AlertPublisher<AnyAlert> {
  private readonly sns: SNSClient;
  private readonly topicArn: string;
  private readonly email: EmailOptions;
  private readonly logger?: SnsAlertPublisherLogger;

  constructor(options: SnsAlertPublisherOptions) {
    this.sns = options.sns;
    this.topicArn = options.topicArn;
    this.email = options.email ?? {};
    this.logger = options.logger;
  }

  /** @throws SnsDeliveryError when Publish fails (after the SDK's own retries). */
  async publish(alert: AnyAlert): Promise<void> {
    const { subject, body } =
      alert.kind === 'organization'
        ? composeOrgEmail(alert, this.email)
        : alert.kind === 'remediation-approval' || alert.kind === 'remediation-outcome'
          ? composeRemediationEmail(alert)
          : composeEmail(alert, this.email);
    let messageId: string | undefined;
    try {
      const response = await this.sns.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: subject,
          Message: body,
          MessageAttributes: {
            [SNS_ATTRIBUTE_KIND]: { DataType: 'String', StringValue: alert.kind },
            [SNS_ATTRIBUTE_WORST_SEVERITY]: { DataType: 'String', StringValue: worstSeverity(alert) },
          },
        }),
      );
      messageId = response.MessageId;
    } catch (error) {
      throw new SnsDeliveryError(this.topicArn, { cause: error });
    }
    this.logger?.info('alert published to SNS', { topicArn: this.topicArn, messageId, kind: alert.kind });
  }
}
