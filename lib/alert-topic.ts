/**
 * Where alerts go: the SNS topic, KMS-encrypted with the app's customer-managed key (CloudWatch
 * alarms cannot publish to a topic under the AWS-managed SNS key), SSL-only publishing, and the
 * configured email subscriptions; and, optionally, the Secrets Manager secret holding the Slack
 * webhook URL (named here, created outside the app).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertTopicProps {
  /** The key the topic encrypts messages with. */
  readonly encryptionKey: kms.IKey;
  /** Email addresses subscribed (each confirms by email). @default none */
  readonly emails?: readonly string[];
  /** Name of the Secrets Manager secret holding the Slack webhook URL. @default - no Slack alerts */
  readonly slackSecretName?: string;
}

/** The SNS topic reports and failures are announced on, and the Slack webhook secret. */
export class AlertTopic extends Construct {
  public readonly topic: sns.Topic;
  /** The Slack webhook secret, when configured. */
  public readonly slackSecret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'sg-audit alerts',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    // Alarms publish through the CloudWatch service principal, which needs the key as well.
    props.encryptionKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    if (props.slackSecretName) {
      this.slackSecret = secretsmanager.Secret.fromSecretNameV2(this, 'SlackSecret', props.slackSecretName);
    }
  }

  /**
   * Lets a function publish alerts: to the topic (and the key use that takes), and through Slack
   * when configured (the webhook secret's value) — and binds ALERT_TOPIC_ARN and SLACK_SECRET_ID.
   */
  grantPublish(fn: lambda.Function): void {
    this.topic.grantPublish(fn);
    fn.addEnvironment('ALERT_TOPIC_ARN', this.topic.topicArn);
    if (this.slackSecret) {
      this.slackSecret.grantRead(fn);
      fn.addEnvironment('SLACK_SECRET_ID', this.slackSecret.secretName);
    }
  }
}
