import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { checkRolePermissions, type WantedPermission } from '../../../adapters/aws/role-simulation';

const iam = mockClient(IAMClient);
const DISCOVER = 'arn:aws:iam::123456789012:role/SgAudit-DiscoverRole';
const QUERY = 'arn:aws:iam::123456789012:role/SgAudit-QueryRole';
const GROUP_A = 'arn:aws:logs:ap-northeast-2:123456789012:log-group:vpc-flow-a';
const GROUP_B = 'arn:aws:logs:ap-northeast-2:123456789012:log-group:vpc-flow-b';

const WANTED: WantedPermission[] = [
  { action: 'ec2:DescribeSecurityGroups', need: 'the inventory', blind: true },
  { action: 'logs:StartQuery', resources: [GROUP_A, GROUP_B], need: 'flow evidence', blind: true },
  { action: 'cloudtrail:LookupEvents', need: 'who opened each rule', blind: false },
];

function client(): IAMClient {
  return new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
}

beforeEach(() => iam.reset());

describe('checkRolePermissions', () => {
  it('grants an action when one of the roles is allowed it on every resource, and names that role', async () => {
    // Prepare: discover may describe, query may start queries on both groups; neither reads CloudTrail.
    iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => {
      const role = input.PolicySourceArn;
      return {
        EvaluationResults: (input.ActionNames as string[]).map((action) => {
          const allowed =
            (role === DISCOVER && action === 'ec2:DescribeSecurityGroups') ||
            (role === QUERY && action === 'logs:StartQuery');
          return input.ResourceArns
            ? {
                EvalActionName: action,
                EvalDecision: allowed ? 'allowed' : 'implicitDeny',
                ResourceSpecificResults: (input.ResourceArns as string[]).map((arn) => ({
                  EvalResourceName: arn,
                  EvalResourceDecision: allowed ? 'allowed' : 'implicitDeny',
                })),
              }
            : {
                EvalActionName: action,
                EvalResourceName: '*',
                EvalDecision: allowed ? 'allowed' : 'implicitDeny',
              };
        }),
        IsTruncated: false,
      };
    });

    // Act
    const checks = await checkRolePermissions(client(), [DISCOVER, QUERY], WANTED);

    // Assess
    expect(checks.map((c) => [c.action, c.decision, c.allowedBy])).toEqual([
      ['ec2:DescribeSecurityGroups', 'allowed', [DISCOVER]],
      ['logs:StartQuery', 'allowed', [QUERY]],
      ['cloudtrail:LookupEvents', 'implicitDeny', []],
    ]);
    // One call per role and resource set: resources are asked only where the action takes them.
    const calls = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    expect(calls.filter((c) => c.ResourceArns !== undefined).map((c) => c.ActionNames)).toEqual([
      ['logs:StartQuery'],
      ['logs:StartQuery'],
    ]);
  });

  it('refuses an action allowed on some resources only, naming the first refused; an explicit deny wins', async () => {
    // Prepare: group B is denied explicitly (an SCP, a boundary); pages are followed.
    iam
      .on(SimulatePrincipalPolicyCommand)
      .resolvesOnce({
        EvaluationResults: [{ EvalActionName: 'ec2:DescribeSecurityGroups', EvalDecision: 'allowed' }],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .resolvesOnce({
        EvaluationResults: [{ EvalActionName: 'cloudtrail:LookupEvents', EvalDecision: 'allowed' }],
        IsTruncated: false,
      })
      .resolvesOnce({
        EvaluationResults: [
          {
            EvalActionName: 'logs:StartQuery',
            EvalDecision: 'explicitDeny',
            ResourceSpecificResults: [
              { EvalResourceName: GROUP_A, EvalResourceDecision: 'allowed' },
              { EvalResourceName: GROUP_B, EvalResourceDecision: 'explicitDeny' },
            ],
          },
        ],
        IsTruncated: false,
      });

    // Act
    const checks = await checkRolePermissions(client(), [QUERY], WANTED);

    // Assess
    expect(checks.find((c) => c.action === 'logs:StartQuery')).toMatchObject({
      decision: 'explicitDeny',
      allowedBy: [],
      deniedResource: GROUP_B,
      blind: true,
    });
    expect(checks.find((c) => c.action === 'cloudtrail:LookupEvents')?.decision).toBe('allowed');
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)[1]?.args[0].input.Marker).toBe('page-2');
  });

  it('lets a simulation that cannot run fail, with IAM’s error', async () => {
    // Prepare
    iam.on(SimulatePrincipalPolicyCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: iam:SimulatePrincipalPolicy'), {
        name: 'AccessDenied',
      }),
    );

    // Act / Assess
    await expect(checkRolePermissions(client(), [QUERY], WANTED)).rejects.toThrow(
      /iam:SimulatePrincipalPolicy/,
    );
  });
});
