/**
 * The alert channels a function publishes to, from its configuration: SNS (e-mail) when a topic is
 * set, Slack when a webhook secret is named; every channel tried (CompositeAlertPublisher). The
 * notify and remediate functions build theirs here, once per container.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { CompositeAlertPublisher, type NamedAlertPublisher } from './composite-alert-publisher';
import { SlackAlertPublisher } from './slack-alert-publisher';
import { SnsAlertPublisher } from './sns-alert-publisher';

export interface AlertChannelSettings {
  readonly alertTopicArn?: string;
  /** The Secrets Manager secret (name or ARN) of the Slack webhook URL — never the URL. */
  readonly slackSecretId?: string;
}

export interface AlertChannelLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
}

/**
 * The configured channels, as one publisher.
 *
 * @example const alerts = alertChannelsOf(config, adapterLogger); await alerts.publishAll(alert);
 */
export function alertChannelsOf(
  settings: AlertChannelSettings,
  logger: AlertChannelLogger,
): CompositeAlertPublisher {
  const channels: NamedAlertPublisher[] = [];
  if (settings.alertTopicArn) {
    const sns = new SNSClient({ retryMode: 'adaptive' });
    channels.push({
      name: 'sns',
      publisher: new SnsAlertPublisher({ sns, topicArn: settings.alertTopicArn, logger }),
    });
  }
  if (settings.slackSecretId) {
    const secrets = new SecretsManagerClient({ retryMode: 'adaptive' });
    channels.push({
      name: 'slack',
      publisher: new SlackAlertPublisher({ secrets, secretId: settings.slackSecretId, logger }),
    });
  }
  return new CompositeAlertPublisher(channels, { logger });
}
