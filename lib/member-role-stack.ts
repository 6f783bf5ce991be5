/**
 * SgAuditMemberRole: the stack every audited account of an organization holds, synthesized apart
 * from the app's stack and meant for a service-managed CloudFormation StackSet (auto-deployment
 * to new accounts of the target OUs; one region per account — the role is global). It holds one
 * read-only role the central account's audit functions assume, with exactly what discovery and
 * the flow queries read:
 *  - EC2 describes (the inventory source's list) and RDS instance names;
 *  - Logs Insights on the flow-log groups (StartQuery on the groups, reading and stopping queries);
 *  - CloudWatch metrics (delivery counters: IncomingLogEvents of the flow-log groups);
 *  - S3 reads of the account's own flow-log objects (`…/AWSLogs/…`, buckets of this account only);
 *  - CloudTrail LookupEvents (who changed a rule).
 * Its trust: the central account's audit function roles only (by ARN pattern), callers of the
 * organization only (aws:PrincipalOrgID) that pass the external id (sts:ExternalId).
 * No assets and no bootstrap version rule: the template deploys where CDK was never bootstrapped.
 */
import { CfnOutput, DefaultStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { EC2_INVENTORY_ACTIONS, RDS_INVENTORY_ACTIONS } from './audited-account';
import { acknowledgeMemberRoleNagFindings } from './nag-acknowledgements';

export interface MemberRoleStackProps extends StackProps {
  /** The central account: its audit functions assume the role. */
  readonly centralAccountId: string;
  /** The central stack's name: its function roles are named `<stackName>-…`. */
  readonly centralStackName: string;
  /** The organization's id (o-…): principals of other organizations are refused. */
  readonly organizationId: string;
  /** Callers must pass it (sts:ExternalId). */
  readonly externalId: string;
  /** @default 'SgAuditMember' */
  readonly roleName?: string;
  /**
   * Name prefix of the flow-log groups StartQuery may name.
   *
   * @default - every log group of the account
   */
  readonly flowLogGroupPrefix?: string;
}

/** The actions of the member role, by statement (what the template tests and the README list). */
export const MEMBER_ROLE_STATEMENTS = {
  Ec2Inventory: [...EC2_INVENTORY_ACTIONS],
  RdsInstanceNames: [...RDS_INVENTORY_ACTIONS],
  InsightsStartQuery: ['logs:StartQuery'],
  InsightsQueryResults: ['logs:GetQueryResults', 'logs:StopQuery'],
  DeliveryCounters: ['cloudwatch:GetMetricData'],
  FlowLogBuckets: ['s3:ListBucket'],
  FlowLogObjects: ['s3:GetObject'],
  ChangeHistory: ['cloudtrail:LookupEvents'],
} as const;

/** The member role, for StackSets. */
export class MemberRoleStack extends Stack {
  public readonly role: iam.Role;
  /** The flow-log groups StartQuery may name (every region of this account). */
  public readonly flowLogGroupsArn: string;

  constructor(scope: Construct, id: string, props: MemberRoleStackProps) {
    const {
      centralAccountId,
      centralStackName,
      organizationId,
      externalId,
      roleName,
      flowLogGroupPrefix,
      ...stackProps
    } = props;
    super(scope, id, {
      // A StackSet deploys the template where CDK was never bootstrapped: no bootstrap version check.
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      description:
        'sg-audit member role: read-only access for the central security-group audit (deploy with a service-managed StackSet, one region per account)',
      ...stackProps,
    });
    const partition = this.partition;
    const central = centralAccountId;
    this.role = new iam.Role(this, 'Role', {
      roleName: roleName ?? 'SgAuditMember',
      description: `sg-audit: read-only security-group audit from account ${central}`,
      assumedBy: new iam.PrincipalWithConditions(new iam.AccountPrincipal(central), {
        StringEquals: { 'sts:ExternalId': externalId, 'aws:PrincipalOrgID': organizationId },
        ArnLike: { 'aws:PrincipalArn': `arn:${partition}:iam::${central}:role/${centralStackName}-*` },
      }),
    });
    const statement = (sid: keyof typeof MEMBER_ROLE_STATEMENTS, resources: string[], conditions?: object) =>
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid,
          actions: [...MEMBER_ROLE_STATEMENTS[sid]],
          resources,
          ...(conditions ? { conditions: conditions as Record<string, unknown> } : {}),
        }),
      );
    const account = this.account;
    // EC2 Describe*, GetQueryResults/StopQuery, GetMetricData and LookupEvents take no resource-level permissions.
    statement('Ec2Inventory', ['*']);
    statement('RdsInstanceNames', [`arn:${partition}:rds:*:${account}:db:*`]);
    this.flowLogGroupsArn = `arn:${partition}:logs:*:${account}:log-group:${flowLogGroupPrefix ?? ''}*`;
    statement('InsightsStartQuery', [this.flowLogGroupsArn]);
    statement('InsightsQueryResults', ['*']);
    statement('DeliveryCounters', ['*']);
    // Flow logs deliver to `bucket[/prefix]/AWSLogs/<account>/vpcflowlogs/…`: this account's buckets only.
    const ownBuckets = { StringEquals: { 's3:ResourceAccount': account } };
    statement('FlowLogBuckets', [`arn:${partition}:s3:::*`], {
      ...ownBuckets,
      StringLike: { 's3:prefix': ['AWSLogs/*', '*/AWSLogs/*'] },
    });
    statement('FlowLogObjects', [`arn:${partition}:s3:::*/AWSLogs/*`], ownBuckets);
    statement('ChangeHistory', ['*']);
    new CfnOutput(this, 'RoleArn', {
      description: 'The member role the central audit assumes',
      value: this.role.roleArn,
    });
    acknowledgeMemberRoleNagFindings(this);
  }
}
