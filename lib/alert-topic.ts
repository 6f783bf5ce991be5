/**
 * The alert topic: KMS-encrypted with the app's customer-managed key (CloudWatch alarms cannot
 * publish to a topic under the AWS-managed SNS key), SSL-only publishing, and the configured email
 * subscriptions.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertTopicProps {
  /** The key the topic encrypts messages with. */
  readonly encryptionKey: kms.IKey;
  /** Email addresses subscribed (each confirms by email). @default none */
  readonly emails?: readonly string[];
}

/** The SNS topic reports and failures are announced on. */
export class AlertTopic extends Construct {
  public readonly topic: sns.Topic;

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
  }
}
