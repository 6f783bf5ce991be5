/**
 * The app's log groups: named at synthesis and, given the app's customer-managed key, encrypted
 * with it. CloudWatch Logs encrypts as its regional service principal, so the key policy must let
 * that principal use the key — for this log group only, by the encryption context CloudWatch Logs
 * sends (`kms:EncryptionContext:aws:logs:arn` = the log group's ARN). The ARN is built from the
 * name, not read from the log group: the log group refers to the key, and a key policy referring
 * back to the log group would be a circular dependency.
 *
 * A named log group is deleted with its stack by default: one retained would keep its name, and
 * the next deploy of a stack of the same name (whose log group has that name again) would fail
 * on "already exists".
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * What CloudWatch Logs may do with the key, as in the CloudWatch Logs guide's key policy
 * ("Encrypt log data in CloudWatch Logs using AWS KMS"); the condition confines it to one log group.
 */
export const LOGS_KEY_ACTIONS = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:Describe*',
] as const;

export interface AppLogGroupProps {
  /** The log group's name: fixed at synthesis, so the key policy can name its ARN. */
  readonly logGroupName: string;
  readonly retention: logs.RetentionDays;
  /**
   * RETAIN keeps the logs after the stack is gone, and blocks a redeploy under the same stack name
   * until the log group is deleted by hand.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The key the log group is encrypted with. A key of this app (kms.Key) gets the key-policy
   * statement for this log group; an imported key's policy must grant it outside the app.
   *
   * @default - CloudWatch Logs' own encryption
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The ARN CloudWatch Logs puts in the encryption context of a log group's data keys.
 *
 * @example logGroupArn(stack, '/aws/vendedlogs/states/Audit')
 * // arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/vendedlogs/states/Audit (tokens)
 */
export function logGroupArn(scope: Construct, logGroupName: string): string {
  return Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: logGroupName,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * A named log group, encrypted with `encryptionKey` when given (and the key policy statement that
 * allows it added to a key of this app).
 *
 * @example
 * const group = createAppLogGroup(this, 'LogGroup', {
 *   logGroupName: '/aws/lambda/SgAudit-discover', retention: logs.RetentionDays.THREE_MONTHS, encryptionKey: key,
 * });
 */
export function createAppLogGroup(scope: Construct, id: string, props: AppLogGroupProps): logs.LogGroup {
  const group = new logs.LogGroup(scope, id, {
    logGroupName: props.logGroupName,
    retention: props.retention,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
  });
  props.encryptionKey?.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${Stack.of(scope).region}.amazonaws.com`)],
      actions: [...LOGS_KEY_ACTIONS],
      // In a key policy, "*" is this key.
      resources: ['*'],
      conditions: {
        ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn(scope, props.logGroupName) },
      },
    }),
  );
  return group;
}
