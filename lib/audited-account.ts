/**
 * What the audit reads of the account it audits, where no resource of the app stands to grant on:
 * the network inventory (EC2 listings, RDS instance names), the flow-log groups Logs Insights
 * queries, and CloudTrail's event history (who changed a rule). Raw statements, each scoped as
 * tightly as its API allows.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { INVENTORY_ACTIONS } from '../adapters/aws/ec2-inventory';
import { LOG_GROUP_METRICS_ACTIONS } from '../adapters/aws/log-group-metrics';

/** The EC2 read actions of the inventory source: the one list is the adapter's. */
export const EC2_INVENTORY_ACTIONS = INVENTORY_ACTIONS.filter((action) => action.startsWith('ec2:'));
/** The RDS read of the inventory source (naming the ENIs of DB instances). */
export const RDS_INVENTORY_ACTIONS = INVENTORY_ACTIONS.filter((action) => action.startsWith('rds:'));

export interface AuditedAccountProps {
  /**
   * Name prefix of the flow-log groups Logs Insights may query.
   *
   * @default - every log group of the account and region
   */
  readonly flowLogGroupPrefix?: string;
}

/** The audited account's inventory and flow-log groups, as grants. */
export class AuditedAccount extends Construct {
  /** The DB instances whose names the inventory reads (`…:rds:…:db:*`). */
  public readonly rdsInstancesArn: string;
  /** The flow-log groups StartQuery may name: every group, or those under the configured prefix. */
  public readonly flowLogGroupsArn: string;
  /** The configured log-group name prefix, when StartQuery is narrowed to it. */
  public readonly flowLogGroupPrefix?: string;

  constructor(scope: Construct, id: string, props: AuditedAccountProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    if (props.flowLogGroupPrefix) this.flowLogGroupPrefix = props.flowLogGroupPrefix;
    this.rdsInstancesArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.flowLogGroupsArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${props.flowLogGroupPrefix ?? ''}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * Lets a function list the network inventory (adapters/aws/ec2-inventory.ts): EC2 and RDS reads.
   * The audited account's id comes from sts:GetCallerIdentity, which takes no permission (it
   * answers even when denied), so no statement names it. The function plans the flow-log queries,
   * so it is told the prefix {@link grantFlowLogQuery} narrows StartQuery to (FLOW_LOG_GROUP_PREFIX):
   * a log group outside it is left unread rather than failing its whole query with AccessDenied.
   */
  grantInventoryRead(fn: lambda.Function): void {
    if (this.flowLogGroupPrefix) fn.addEnvironment('FLOW_LOG_GROUP_PREFIX', this.flowLogGroupPrefix);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'Ec2Inventory',
        actions: [...EC2_INVENTORY_ACTIONS],
        // EC2 Describe* actions support no resource-level permissions.
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RdsInstanceNames',
        actions: [...RDS_INVENTORY_ACTIONS],
        resources: [this.rdsInstancesArn],
      }),
    );
  }

  /**
   * Lets a function read the security-group change history of CloudTrail's 90-day event history
   * (adapters/aws/cloudtrail-lookup.ts): LookupEvents, read-only, and with it told to read it
   * (CHANGE_HISTORY) — the history is the account's management events, not only SG changes, which
   * the function filters by event name.
   */
  grantChangeHistoryRead(fn: lambda.Function): void {
    fn.addEnvironment('CHANGE_HISTORY', 'true');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ChangeHistory',
        actions: ['cloudtrail:LookupEvents'],
        // LookupEvents supports no resource-level permissions (the event history is not a resource).
        resources: ['*'],
      }),
    );
  }

  /**
   * Lets a function run Logs Insights queries over the flow-log groups
   * (adapters/aws/insights-flow-source.ts): StartQuery on those groups, and reading or stopping
   * its queries; and read the groups' IncomingLogEvents (adapters/aws/log-group-metrics.ts), the
   * delivery counter the queries' scans are held against.
   */
  grantFlowLogQuery(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InsightsStartQuery',
        actions: ['logs:StartQuery'],
        resources: [this.flowLogGroupsArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InsightsQueryResults',
        actions: ['logs:GetQueryResults', 'logs:StopQuery'],
        // A query id is not a resource: these actions take no resource-level permissions.
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogGroupMetrics',
        actions: [...LOG_GROUP_METRICS_ACTIONS],
        // GetMetricData supports no resource-level permissions (read-only).
        resources: ['*'],
      }),
    );
  }
}
