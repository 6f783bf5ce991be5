/**
 * What the central account's functions of an organization deployment may do in the member
 * accounts: assume the member role (SgAuditMemberRole stack) — in the listed accounts, or in any
 * account of the organization (aws:ResourceOrgID) — and, for the targets function, list the
 * organization's accounts. Each grant binds the variables naming what it grants.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { OrganizationConfig } from './config';

export interface MemberAccessProps
  extends Pick<
    OrganizationConfig,
    'accounts' | 'excludeAccounts' | 'regions' | 'roleName' | 'externalId' | 'organizationId'
  > {
  /**
   * The flow-log group prefix the member role's StartQuery is narrowed to (discover plans no
   * other group).
   *
   * @default - every log group
   */
  readonly flowLogGroupPrefix?: string;
}

/** The member roles of an organization, as grants. */
export class MemberAccess extends Construct {
  /** The member roles the functions may assume (one per listed account, or every account's). */
  public readonly memberRoleArns: readonly string[];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: MemberAccessProps,
  ) {
    super(scope, id);
    const { partition } = Stack.of(this);
    const accounts = props.accounts === 'all' ? ['*'] : props.accounts;
    this.memberRoleArns = accounts.map(
      (account) => `arn:${partition}:iam::${account}:role/${props.roleName}`,
    );
  }

  /**
   * Lets a target step assume the member role (sts:AssumeRole on the member roles, of this
   * organization only), and tells it the role's name and external id (MEMBER_ROLE_NAME,
   * MEMBER_EXTERNAL_ID) and the log-group prefix it plans for (FLOW_LOG_GROUP_PREFIX).
   */
  grantAssumeMemberRole(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AssumeMemberRole',
        actions: ['sts:AssumeRole'],
        resources: [...this.memberRoleArns],
        conditions: { StringEquals: { 'aws:ResourceOrgID': this.props.organizationId } },
      }),
    );
    fn.addEnvironment('MEMBER_ROLE_NAME', this.props.roleName);
    fn.addEnvironment('MEMBER_EXTERNAL_ID', this.props.externalId);
    if (this.props.flowLogGroupPrefix)
      fn.addEnvironment('FLOW_LOG_GROUP_PREFIX', this.props.flowLogGroupPrefix);
  }

  /**
   * Lets the targets function list the organization's accounts when it audits all of them
   * (organizations:ListAccounts: from the management account or a delegated administrator), and
   * tells it the targets (ORG_ACCOUNTS, ORG_EXCLUDE_ACCOUNTS, ORG_REGIONS).
   */
  grantTargets(fn: lambda.Function): void {
    if (this.props.accounts === 'all') {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListOrganizationAccounts',
          actions: ['organizations:ListAccounts'],
          // ListAccounts takes no resource-level permissions.
          resources: ['*'],
        }),
      );
    }
    fn.addEnvironment('ORG_ACCOUNTS', this.props.accounts === 'all' ? 'all' : this.props.accounts.join(','));
    fn.addEnvironment('ORG_REGIONS', this.props.regions.join(','));
    if (this.props.excludeAccounts.length > 0) {
      fn.addEnvironment('ORG_EXCLUDE_ACCOUNTS', this.props.excludeAccounts.join(','));
    }
  }
}
