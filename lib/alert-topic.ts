/**
 * Where alerts go: the SNS topic, KMS-encrypted with the app's customer-managed key (CloudWatch
 * alarms cannot publish to a topic under the AWS-managed SNS key), SSL-only publishing, and the
 * configured email subscriptions; and, optionally, the Secrets Manager secret holding the Slack
 * webhook URL (named here, created outside the app).
 *
 * `enforceSSL` gives the topic a policy of its own, which replaces SNS's default access policy:
 * its only statement is a Deny, so nothing — CloudWatch alarms included — may publish unless a
 * statement allows it. {@link AlertTopic.notifyOnAlarm} adds one Allow for the CloudWatch service
 * principal, scoped by `aws:SourceArn` to exactly the alarms registered and by `aws:SourceAccount`.
 */
import { Lazy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
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
  /**
   * The customer-managed KMS key the Slack secret is encrypted with; readers may decrypt with it
   * through Secrets Manager only. @default - the secret is under Secrets Manager's AWS-managed key
   */
  readonly slackSecretKmsKeyArn?: string;
}

/** The SNS topic reports and failures are announced on, and the Slack webhook secret. */
export class AlertTopic extends Construct {
  public readonly topic: sns.Topic;
  /** The Slack webhook secret, when configured. */
  public readonly slackSecret?: secretsmanager.ISecret;
  /** The Slack secret's customer-managed key, when configured. */
  public readonly slackSecretKmsKeyArn?: string;
  /** The alarms CloudWatch may publish for (the topic policy's `aws:SourceArn` list). */
  private readonly alarmArns: string[] = [];

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
      if (props.slackSecretKmsKeyArn) this.slackSecretKmsKeyArn = props.slackSecretKmsKeyArn;
    }
  }

  /**
   * Sends an alarm's ALARM state to the topic, and lets CloudWatch publish to the topic for this
   * alarm (one topic-policy statement lists every registered alarm's ARN).
   */
  notifyOnAlarm(alarm: cloudwatch.Alarm): void {
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    if (this.alarmArns.length === 0) {
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: {
            ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => this.alarmArns }) },
            StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          },
        }),
      );
    }
    this.alarmArns.push(alarm.alarmArn);
  }

  /**
   * Lets a function publish alerts: to the topic (and the key use that takes), and through Slack
   * when configured (the webhook secret's value, and its customer-managed key through Secrets
   * Manager) — and binds ALERT_TOPIC_ARN and SLACK_SECRET_ID.
   */
  grantPublish(fn: lambda.Function): void {
    this.topic.grantPublish(fn);
    fn.addEnvironment('ALERT_TOPIC_ARN', this.topic.topicArn);
    if (this.slackSecret) {
      this.slackSecret.grantRead(fn);
      fn.addEnvironment('SLACK_SECRET_ID', this.slackSecret.secretName);
    }
    if (this.slackSecretKmsKeyArn) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'SlackSecretKey',
          actions: ['kms:Decrypt'],
          resources: [this.slackSecretKmsKeyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }
  }
}
