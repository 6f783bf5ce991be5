import aslValidator from 'asl-validator';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AppConfigError, parseAppConfig } from '../../lib/config';
import { stateMachineDefinition, synthesizeWorkflowStack } from '../support/workflow-stack';
import { buildApp, nagFindings, REPRESENTATIVE_CONTEXT } from './app-fixture';

const REMEDIATION = JSON.stringify({
  enabled: true,
  approvalTimeoutHours: 48,
  tagKey: 'sec:auto-fix',
  tagValue: 'yes',
  include: ['remove'],
});
// One synthesis (with cdk-nag) for the template assertions: bundling six functions takes seconds.
const { app, stack } = buildApp({ ...REPRESENTATIVE_CONTEXT, remediation: REMEDIATION }, { nag: true });
const assembly = app.synth();
const template = Template.fromStack(stack);

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

/** The statements of the default policy of the role of a function construct path (Remediation/Apply …). */
function statementsOf(path: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const entry = Object.entries(policies).find(([id]) => id.startsWith(path.replace(/\//g, '')));
  if (entry === undefined) throw new Error(`no policy for ${path}`);
  return (entry[1].Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('context remediation', () => {
  it('is off by default and with enabled false', () => {
    expect(parseAppConfig({}).remediation).toBeUndefined();
    expect(parseAppConfig({ remediation: '{"enabled": false}' }).remediation).toBeUndefined();
  });

  it('takes true as the defaults, and JSON with every setting', () => {
    expect(parseAppConfig({ remediation: 'true' }).remediation).toEqual({
      approvalTimeoutHours: 72,
      tagKey: 'sg-audit:remediate',
      tagValue: 'true',
      include: ['narrow', 'remove'],
    });
    expect(parseAppConfig({ remediation: REMEDIATION }).remediation).toEqual({
      approvalTimeoutHours: 48,
      tagKey: 'sec:auto-fix',
      tagValue: 'yes',
      include: ['remove'],
    });
  });

  it.each([
    [
      { enabled: true, approvalTimeoutHours: 0 },
      "context 'remediation.approvalTimeoutHours' must be at least 1",
    ],
    [{ enabled: true, tagKey: 'aws:x' }, "context 'remediation.tagKey' must not start with aws:"],
    [{ enabled: true, tagValue: 'a*' }, "context 'remediation.tagValue' must be of A-Z"],
    [
      { enabled: true, include: ['review'] },
      "context 'remediation.include.0' must list 'narrow' and/or 'remove'",
    ],
    [{ enabled: true, wait: 3 }, "context 'remediation' has unknown keys wait"],
    ['maybe', "context 'remediation' must be true, false or an object"],
  ])('names the bad setting of %j', (remediation, message) => {
    expect(() =>
      parseAppConfig({
        remediation: typeof remediation === 'string' ? remediation : JSON.stringify(remediation),
      }),
    ).toThrow(message);
  });

  it('refuses a wait longer than the work bucket keeps the token, and an organization deployment', () => {
    expect(() =>
      parseAppConfig({ remediation: '{"enabled": true, "approvalTimeoutHours": 200}', workRetentionDays: 7 }),
    ).toThrow("context 'remediation.approvalTimeoutHours' must be at most workRetentionDays × 24 (168)");
    const org = JSON.stringify({
      accounts: ['111122223333'],
      regions: ['ap-northeast-2'],
      externalId: 'x-1',
      organizationId: 'o-abcdefghij',
    });
    let error: unknown;
    try {
      parseAppConfig({ remediation: 'true', organization: org, account: '123456789012' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppConfigError);
    expect((error as AppConfigError).keys).toEqual(['remediation']);
  });
});

describe('Remediation (the deployed stack)', () => {
  it('lets the apply function change only security groups carrying the opt-in tag', () => {
    // Act
    const statements = statementsOf('Remediation/Apply/Role');
    // Assess
    const writes = statements.filter((s) => actionsOf(s).some((a) => /^ec2:(Authorize|Revoke)/.test(a)));
    expect(writes).toEqual([
      {
        Sid: 'ChangeOptedInSecurityGroups',
        Effect: 'Allow',
        Action: [
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ec2:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':security-group/*',
            ],
          ],
        },
        Condition: { StringEquals: { 'aws:ResourceTag/sec:auto-fix': 'yes' } },
      },
    ]);
    const unconditioned = statements.filter((s) => s.Resource === '*').flatMap(actionsOf);
    expect(unconditioned.filter((a) => a.startsWith('ec2:'))).toEqual([
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSecurityGroupRules',
    ]);
    expect(statements.flatMap(actionsOf)).not.toContain('ec2:CreateNetworkAclEntry');
  });

  it('gives the remediate function no EC2 access, the plan files and approval records only', () => {
    const statements = statementsOf('Remediation/Remediate/Role');
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('ec2:'))).toEqual([]);
    const written = JSON.stringify(
      statements.filter((s) => actionsOf(s).includes('s3:PutObject')).map((s) => s.Resource),
    );
    expect(written).toContain('/reports/*/plan.json');
    expect(written).toContain('/approvals/*');
    expect(written).not.toContain('/reports/*"');
    expect(written).not.toContain('report.json');
  });

  it('binds the tag, the verdicts and the wait to the remediate function, and names the buckets', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'sg-audit remediation: plan, approval request, outcome alert',
      Environment: {
        Variables: Match.objectLike({
          REMEDIATION_TAG_KEY: 'sec:auto-fix',
          REMEDIATION_TAG_VALUE: 'yes',
          REMEDIATION_INCLUDE: 'remove',
          APPROVAL_TIMEOUT_SECONDS: String(48 * 3600),
          WORK_BUCKET: Match.anyValue(),
          REPORT_BUCKET: Match.anyValue(),
          KMS_KEY_ID: Match.anyValue(),
          ALERT_TOPIC_ARN: Match.anyValue(),
        }),
      },
    });
    template.hasOutput('ApprovalBucket', { Value: { Ref: Match.stringLikeRegexp('^ReportsWorkBucket') } });
  });

  it('waits for the decision with a task token, at most the configured wait, and the run timeout covers it', () => {
    const definition = stateMachineDefinition(template.toJSON() as never, 'Workflow') as {
      TimeoutSeconds: number;
      States: Record<string, Record<string, unknown>>;
    };
    const wait = definition.States.WaitForApproval;
    expect(wait).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSeconds: 48 * 3600,
      Parameters: { Payload: { action: 'request-approval', 'taskToken.$': '$$.Task.Token' } },
      Catch: [
        { ErrorEquals: ['SgAudit.Rejected'], Next: 'PlanRejected' },
        { ErrorEquals: ['States.Timeout'], Next: 'PlanExpired' },
        { ErrorEquals: ['States.ALL'], Next: 'ApprovalFailed' },
      ],
    });
    expect(JSON.stringify(wait?.Retry)).not.toContain('States.Timeout');
    expect(definition.TimeoutSeconds).toBeGreaterThan(48 * 3600);
    expect(nagFindings(assembly.directory).findings).toEqual([]);
  });

  it('leaves the stack without remediation resources when off', () => {
    const { stack: off } = buildApp(REPRESENTATIVE_CONTEXT);
    const resources = Object.keys(Template.fromStack(off).toJSON().Resources as object);
    expect(resources.filter((id) => id.startsWith('Remediation'))).toEqual([]);
  });
});

describe('AuditWorkflow with remediation', () => {
  const withRemediation = synthesizeWorkflowStack(
    {},
    { remediation: { approvalTimeout: Duration.hours(72) } },
  );
  const plain = synthesizeWorkflowStack();
  const definition = stateMachineDefinition(withRemediation.template.toJSON() as never) as {
    States: Record<string, Record<string, unknown>>;
  };

  it('synthesizes a definition asl-validator accepts', () => {
    const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it("alerts the report first, keeping analyze's result for the plan, and ends every path in the outcome alert", () => {
    expect(definition.States.Notify).toMatchObject({ ResultPath: '$.notified', Next: 'PlanRemediation' });
    expect(definition.States.AwaitApproval).toMatchObject({ Default: 'NothingToApprove' });
    for (const state of [
      'PlanFailed',
      'PlanRejected',
      'PlanExpired',
      'ApprovalFailed',
      'ApplyFailed',
      'PlanApplied',
    ])
      expect(definition.States[state]).toMatchObject({
        Type: 'Pass',
        ResultPath: '$.decision',
        Next: 'RemediationOutcome',
      });
    expect(definition.States.RemediationOutcome).toMatchObject({ Next: 'RemediationDone' });
    expect(definition.States.RemediationDone).toEqual({ Type: 'Succeed', Comment: expect.any(String) });
  });

  it('adds the wait, the apply and three remediate invocations to the run timeout', () => {
    const seconds = (d: Duration) => d.toSeconds();
    // The dummy functions state no timeout: each is taken at Lambda's 15 minutes.
    expect(seconds(withRemediation.workflow.runTimeout) - seconds(plain.workflow.runTimeout)).toBe(
      72 * 3600 + 900 + 3 * 900,
    );
  });

  it('refuses remediation on target runs', () => {
    expect(() =>
      synthesizeWorkflowStack({ targetRuns: true }, { remediation: { approvalTimeout: Duration.hours(1) } }),
    ).toThrow('remediation applies to a single-account workflow');
  });
});
