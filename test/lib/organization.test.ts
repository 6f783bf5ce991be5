import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AppConfigError, parseAppConfig } from '../../lib/config';
import { orgRunTimeoutOf } from '../../lib/org-audit-workflow';
import { buildApp, nagFindings } from './app-fixture';

const CENTRAL = '999999999999';
const ORGANIZATION = {
  accounts: 'all',
  excludeAccounts: ['888888888888'],
  regions: ['eu-west-1', 'us-east-1'],
  externalId: 'sg-audit-ext-1',
  organizationId: 'o-abcdef1234',
  maxConcurrency: 50,
};
const ORG_CONTEXT = {
  alertEmails: 'secops@example.com',
  account: CENTRAL,
  athena: JSON.stringify({ flowLogLocations: ['s3://log-archive-flow-logs/AWSLogs/'] }),
  organization: JSON.stringify(ORGANIZATION),
  // The assets do not change with the configuration: no bundling.
  'aws:cdk:bundling-stacks': [],
};

// One synthesis with cdk-nag, shared by the file's tests.
const { app, stack } = buildApp(ORG_CONTEXT, { nag: true });
const assembly = app.synth();
const template = Template.fromStack(stack);

function configError(organization: unknown, context: Record<string, unknown> = { account: CENTRAL }): string {
  try {
    parseAppConfig({ ...context, organization: JSON.stringify(organization) });
  } catch (error) {
    if (error instanceof AppConfigError) return error.message;
    throw error;
  }
  throw new Error('no AppConfigError');
}

/** The ASL of the state machine whose comment starts with `comment`. */
function definitionOf(comment: string): { States: Record<string, Record<string, unknown>> } {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const texts = machines.map((m) =>
    JSON.stringify((m.Properties as { DefinitionString: unknown }).DefinitionString),
  );
  const text = texts.find((t) => t.includes(comment.replace(/"/g, '\\\\"')));
  if (text === undefined) throw new Error(`no state machine commented ${comment}`);
  // Fn::Join parts: keep the literal strings, placeholders for the intrinsics.
  const join = JSON.parse(text) as { 'Fn::Join': [string, unknown[]] };
  const literal = join['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'X')).join('');
  return JSON.parse(literal) as { States: Record<string, Record<string, unknown>> };
}

describe('organization configuration', () => {
  it('reads the targets, the member role and the sizing, with defaults', () => {
    const config = parseAppConfig({
      account: CENTRAL,
      organization: JSON.stringify({ ...ORGANIZATION, maxConcurrency: undefined }),
    });
    expect(config.organization).toEqual({
      accounts: 'all',
      excludeAccounts: ['888888888888'],
      regions: ['eu-west-1', 'us-east-1'],
      roleName: 'SgAuditMember',
      externalId: 'sg-audit-ext-1',
      organizationId: 'o-abcdef1234',
      maxConcurrency: 20,
      maxTargets: 2000,
    });
    expect(
      parseAppConfig({
        account: CENTRAL,
        organization: { ...ORGANIZATION, accounts: ['111111111111', '222222222222'], excludeAccounts: [] },
      }).organization?.maxTargets,
    ).toBe(4);
  });

  it('names each bad organization field', () => {
    expect(configError({ ...ORGANIZATION, accounts: ['123'] })).toMatch(/context 'organization.accounts/);
    expect(configError({ ...ORGANIZATION, regions: [] })).toMatch(/regions must list at least one region/);
    expect(configError({ ...ORGANIZATION, externalId: undefined })).toMatch(/externalId is required/);
    expect(configError({ ...ORGANIZATION, organizationId: 'org-1' })).toMatch(
      /organizationId must be an organization id/,
    );
    expect(configError({ ...ORGANIZATION, roleName: 'has spaces' })).toMatch(
      /roleName must be an IAM role name/,
    );
    expect(
      configError({ ...ORGANIZATION, accounts: ['111111111111'], excludeAccounts: ['111111111111'] }),
    ).toMatch(/excludeAccounts' names accounts the accounts list holds/);
  });

  it('needs the central account, and refuses single-account settings', () => {
    expect(configError(ORGANIZATION, {})).toMatch(/context 'organization' needs the central account id/);
    expect(configError(ORGANIZATION, { account: CENTRAL, vpcIds: 'vpc-0123456789abcdef0' })).toMatch(
      /context 'vpcIds' applies to a single-account deployment only/,
    );
    expect(configError(ORGANIZATION, { account: CENTRAL, securityHubExport: 'true' })).toMatch(
      /context 'securityHubExport' applies to a single-account deployment only/,
    );
  });
});

describe('SgAuditStack with organization', () => {
  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(nagFindings(assembly.directory).findings).toEqual([]);
  });

  it('starts the organization run on schedule, which fans out over targets.json to the target runs', () => {
    // Assess: the schedule's target is the organization state machine.
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: { Arn: { Ref: Match.stringLikeRegexp('^OrgWorkflowStateMachine') } },
    });
    const org = definitionOf('sg-audit organization run');
    expect(Object.keys(org.States)).toEqual(
      expect.arrayContaining([
        'ListTargets',
        'AuditEachTarget',
        'RollUp',
        'NotifyOrganization',
        'NotifyFailure',
      ]),
    );
    const map = org.States.AuditEachTarget as Record<string, unknown>;
    expect(map).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 50,
      ItemReader: {
        Resource: 'arn:X:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Key.$': '$.targetsKey' },
      },
      ResultWriter: { Parameters: { 'Prefix.$': '$.targetResultsPrefix' } },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    const child = (map.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(child.AuditTarget).toMatchObject({
      Type: 'Task',
      Resource: 'arn:X:states:::states:startExecution.sync:2',
      Parameters: {
        'Name.$': '$.runId',
        Input: { 'runId.$': '$.runId', 'end.$': '$.end', 'target.$': '$.target' },
      },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'TargetGap', ResultPath: '$.error' }],
    });
    expect(child.TargetGap).toMatchObject({
      Parameters: { status: 'gap', 'target.$': '$.target', 'error.$': '$.error' },
    });
    expect(org.States.RollUp).toMatchObject({
      Parameters: { 'targetResultsKey.$': '$.targetResults.ResultWriterDetails.Key' },
    });
  });

  it('runs each target without an alert of its own, failing with the step’s own error', () => {
    const target = definitionOf('sg-audit: one target of an organization run');
    expect(Object.keys(target.States)).not.toContain('Notify');
    expect(Object.keys(target.States)).not.toContain('NotifyFailure');
    expect(target.States.TargetRunFailed).toEqual({
      Type: 'Fail',
      Comment: 'The organization run records this target as a gap',
      ErrorPath: '$.error',
      CausePath: '$.cause',
    });
    expect(target.States.Discover).toMatchObject({ ResultSelector: { 'target.$': '$.target' } });
    expect(target.States.Analyze).toMatchObject({ End: true });
  });

  it('lets discover and query assume the member role of the organization only, with no EC2 read of their own', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AssumeMemberRole',
            Action: 'sts:AssumeRole',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/SgAuditMember']] },
            Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-abcdef1234' } },
          }),
        ]),
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: { Sid?: string }[] } }).PolicyDocument.Statement,
    );
    expect(statements.filter((s) => s.Sid === 'AssumeMemberRole')).toHaveLength(2);
    // The targets' CloudTrail too is read through the member role (its ChangeHistory statement).
    expect(
      statements.some((s) => ['Ec2Inventory', 'InsightsStartQuery', 'ChangeHistory'].includes(s.Sid ?? '')),
    ).toBe(false);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'sg-audit discover step',
      Environment: {
        Variables: Match.objectLike({
          MEMBER_ROLE_NAME: 'SgAuditMember',
          MEMBER_EXTERNAL_ID: 'sg-audit-ext-1',
          CHANGE_HISTORY: 'true',
        }),
      },
    });
  });

  it('tells the targets function the targets and lets it list the organization', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'sg-audit targets step',
      Environment: {
        Variables: Match.objectLike({
          ORG_ACCOUNTS: 'all',
          ORG_REGIONS: 'eu-west-1,us-east-1',
          ORG_EXCLUDE_ACCOUNTS: '888888888888',
        }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ListOrganizationAccounts',
            Action: 'organizations:ListAccounts',
            Resource: '*',
          }),
        ]),
      },
    });
  });

  it('alarms on the organization run, not on the target runs (their failures are gaps)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^OrgWorkflowStateMachine') }],
        }),
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'An sg-audit run failed',
      Dimensions: [
        { Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^OrgWorkflowStateMachine') } },
      ],
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a.Properties as { AlarmDescription: string }).AlarmDescription,
    );
    expect(alarms).not.toContain('The sg-audit discover function raised errors');
    expect(alarms).toEqual(
      expect.arrayContaining([
        'The sg-audit Targets function raised errors',
        'The sg-audit Rollup function raised errors',
      ]),
    );
  });
});

describe('orgRunTimeoutOf', () => {
  it('covers every wave of target runs at their limit, within a year', () => {
    const steps = { targets: Duration.minutes(5), rollup: Duration.minutes(15), notify: Duration.minutes(1) };
    const hours = orgRunTimeoutOf({
      maxTargets: 8500,
      maxConcurrency: 100,
      targetRunTimeout: Duration.hours(2),
      stepTimeouts: steps,
    }).toHours({ integral: false });
    // 85 waves × 121 min + 5 + 15 + 2 + 15 min
    expect(hours).toBeCloseTo((85 * 121 + 37) / 60, 5);
    expect(
      orgRunTimeoutOf({
        maxTargets: 100_000,
        maxConcurrency: 1,
        targetRunTimeout: Duration.hours(88),
        stepTimeouts: steps,
      }).toDays(),
    ).toBe(365);
  });
});
