import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EC2_INVENTORY_ACTIONS } from '../../lib/audited-account';
import { MEMBER_ROLE_STATEMENTS, MemberRoleStack } from '../../lib/member-role-stack';
import { testApp } from '../support/test-app';
import { nagFindings } from './app-fixture';

const CENTRAL = '999999999999';
const PROPS = {
  centralAccountId: CENTRAL,
  centralStackName: 'SgAudit',
  organizationId: 'o-abcdef1234',
  externalId: 'sg-audit-ext-1',
};

function synthesize(extra: Partial<ConstructorParameters<typeof MemberRoleStack>[2]> = {}) {
  const app = testApp();
  const stack = new MemberRoleStack(app, 'SgAuditMemberRole', { ...PROPS, ...extra });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const assembly = app.synth();
  return { stack, template: Template.fromStack(stack), assembly };
}

const { template, assembly } = synthesize();

/** The role's policy statements by Sid. */
function statements(built: Template = template): Map<string, Record<string, unknown>> {
  const policies = Object.values(built.findResources('AWS::IAM::Policy'));
  expect(policies).toHaveLength(1);
  const properties = policies[0]?.Properties as
    | { PolicyDocument: { Statement: Record<string, unknown>[] } }
    | undefined;
  return new Map((properties?.PolicyDocument.Statement ?? []).map((s) => [String(s.Sid), s]));
}

const partitionArn = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, suffix]] });

describe('MemberRoleStack', () => {
  it('is one named role, nothing else but its policy, and no bootstrap check (StackSets deploy it anywhere)', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::IAM::Policy', 1);
    expect(Object.keys(template.toJSON().Resources)).toHaveLength(2);
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'SgAuditMember' });
    expect(template.toJSON().Parameters ?? {}).not.toHaveProperty('BootstrapVersion');
    expect(template.toJSON().Rules ?? {}).not.toHaveProperty('CheckBootstrapVersion');
    template.hasOutput('RoleArn', {});
  });

  it("trusts the central account's audit function roles only, of the organization, with the external id", () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: partitionArn(`:iam::${CENTRAL}:root`) },
            Condition: {
              StringEquals: { 'sts:ExternalId': 'sg-audit-ext-1', 'aws:PrincipalOrgID': 'o-abcdef1234' },
              ArnLike: { 'aws:PrincipalArn': partitionArn(`:iam::${CENTRAL}:role/SgAudit-*`) },
            },
          },
        ],
      },
    });
  });

  it('allows exactly the discover and query reads, each statement scoped as its API allows', () => {
    const bySid = statements();
    expect([...bySid.keys()].sort()).toEqual(Object.keys(MEMBER_ROLE_STATEMENTS).sort());
    for (const [sid, actions] of Object.entries(MEMBER_ROLE_STATEMENTS)) {
      const statement = bySid.get(sid);
      expect(statement?.Effect).toBe('Allow');
      expect([statement?.Action].flat()).toEqual(actions.length === 1 ? [actions[0]] : [...actions]);
    }
    expect(bySid.get('Ec2Inventory')?.Action).toEqual([...EC2_INVENTORY_ACTIONS]);
    expect(bySid.get('RdsInstanceNames')?.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:*:', { Ref: 'AWS::AccountId' }, ':db:*']],
    });
    expect(JSON.stringify(bySid.get('InsightsStartQuery')?.Resource)).toContain(':log-group:*');
    expect(bySid.get('FlowLogObjects')).toMatchObject({
      Resource: partitionArn(':s3:::*/AWSLogs/*'),
      Condition: { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(bySid.get('FlowLogBuckets')).toMatchObject({
      Resource: partitionArn(':s3:::*'),
      Condition: {
        StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } },
        StringLike: { 's3:prefix': ['AWSLogs/*', '*/AWSLogs/*'] },
      },
    });
  });

  it('grants nothing that writes, deletes or changes', () => {
    const actions = [...statements().values()].flatMap((s) => [s.Action].flat() as string[]);
    const writes = actions.filter(
      (a) =>
        !/^[a-z0-9]+:(Describe|Get|List|Lookup)/.test(a) &&
        !['logs:StartQuery', 'logs:StopQuery'].includes(a),
    );
    expect(writes).toEqual([]);
  });

  it('narrows StartQuery to the flow-log group prefix and names the role as configured', () => {
    const narrowed = synthesize({ flowLogGroupPrefix: '/vpc/flow-logs/', roleName: 'SecAudit' }).template;
    narrowed.hasResourceProperties('AWS::IAM::Role', { RoleName: 'SecAudit' });
    expect(JSON.stringify(statements(narrowed).get('InsightsStartQuery')?.Resource)).toContain(
      ':log-group:/vpc/flow-logs/*',
    );
  });

  it('leaves no unacknowledged cdk-nag finding (synthesis throws on an error finding)', () => {
    expect(nagFindings(assembly.directory).findings).toEqual([]);
  });
});
