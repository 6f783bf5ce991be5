/**
 * An organization run end to end: the synthesized organization state machine and target-run state
 * machine executed by aws-local-stepfunctions, each Lambda task on the REAL handler in-process,
 * against moto_server holding an AWS Organization — its accounts listed with Organizations
 * ListAccounts (accounts 'all', the management account excluded), two member accounts audited in
 * two regions through their member role (moto maps the assumed role's credentials to the member
 * account), and a third account whose member role is missing.
 *
 * What the local runner lacks is emulated, as in workflow.test.ts: the Distributed Map's
 * ItemReader and ResultWriter over moto S3 (test/support/distributed-map.ts); and the nested run
 * (startExecution.sync:2), by a local handler of the AuditTarget state that runs the synthesized
 * target-run definition with the same runner and answers as Step Functions does — the run's
 * description with its Output as JSON, or, when the run failed, States.TaskFailed with the
 * description (its Error and Cause) as the cause. The Lambda tasks' errors reach the state
 * machine as Lambda reports them: the error's type as its name, `{ errorType, errorMessage }` as
 * its cause. moto's AssumeRole does not require the role to exist: the missing role is answered
 * AccessDenied, as AWS does (test/support/moto-organization.ts refuseMemberRole).
 */
import { DeleteBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { NotifyResult } from '../../lambdas/notify/contract';
import type { OrgReport } from '../../shared/org/model';
import type { AuditReport } from '../../shared/report/model';
import {
  itemReaderState,
  readMapItems,
  resultWriterState,
  withDistributedMapAsTasks,
  writeMapResults,
} from '../support/distributed-map';
import { objectText, type SeedOptions, sentNotifications } from '../support/moto-account';
import {
  createMotoOrganization,
  type MotoOrganization,
  refuseMemberRole,
  seedMemberNetwork,
} from '../support/moto-organization';
import { motoWorkflowSuite } from '../support/moto-workflow';
import {
  LAMBDA_STATES,
  ORG_LAMBDA_STATES,
  stateMachineDefinition,
  synthesizeOrgWorkflowStack,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/workflow-stack';

const WORK_BUCKET = 'sg-audit-org-work';
const REPORT_BUCKET = 'sg-audit-org-reports';
const TOPIC_NAME = 'sg-audit-org-alerts';
const TOPIC_ARN = `arn:aws:sns:${TEST_REGION}:${TEST_ACCOUNT}:${TOPIC_NAME}`;
const LOG_GROUP = '/sg-audit/e2e/org-flow';
const NOW = Math.floor(Date.now() / 1000);
const END = NOW + 600;
const REGIONS = ['eu-west-1', 'us-east-1'] as const;
const TARGET_MAP = 'AuditEachTarget';

const SEED: SeedOptions = {
  account: TEST_ACCOUNT,
  region: TEST_REGION,
  network: '10.30',
  workBucket: WORK_BUCKET,
  reportBucket: REPORT_BUCKET,
  topicName: TOPIC_NAME,
  logGroup: LOG_GROUP,
  now: NOW,
};

// The handlers read their configuration at cold start: an organization deployment's settings.
const suite = motoWorkflowSuite({
  seed: SEED,
  settings: {
    MEMBER_ROLE_NAME: 'SgAuditMember',
    MEMBER_EXTERNAL_ID: 'sg-audit-e2e',
    ORG_ACCOUNTS: 'all',
    ORG_REGIONS: REGIONS.join(','),
    ORG_EXCLUDE_ACCOUNTS: TEST_ACCOUNT,
  },
});
type Handler = (event: unknown) => Promise<unknown>;
let orgHandlers: { targets: Handler; rollup: Handler };
beforeAll(async () => {
  orgHandlers = {
    targets: (await import('../../lambdas/targets/handler')).handler,
    rollup: (await import('../../lambdas/rollup/handler')).handler,
  };
});
afterEach(() => {
  jest.restoreAllMocks();
});

const synthesized = synthesizeOrgWorkflowStack({ workBucketName: WORK_BUCKET }).template.toJSON() as never;
const orgDefinition = withDistributedMapAsTasks(
  stateMachineDefinition(synthesized, 'OrgWorkflow'),
  TARGET_MAP,
);
const targetDefinition = stateMachineDefinition(synthesized, 'WorkflowStateMachine');

/** A task's handler as Lambda returns to Step Functions: output through JSON, errors by type. */
function asLambda(handler: Handler): Handler {
  return async (input) => {
    try {
      return JSON.parse(JSON.stringify(await handler(input)));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      throw Object.assign(
        new Error(JSON.stringify({ errorType: failure.name, errorMessage: failure.message, trace: [] })),
        { name: failure.name },
      );
    }
  };
}

const runOptions = (handlers: Record<string, Handler>): RunOptions => ({
  overrides: {
    taskResourceLocalHandlers: handlers as NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'],
    retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((name) => [name, 0])),
    waitTimeOverrides: { WaitForQuery: 0, WaitForQueryFromS3: 0 },
  },
});

/** Names of the states entered, across the organization run and its target runs. */
let entered: string[] = [];
let mapRuns = 0;

/**
 * One target's run (startExecution.sync:2, emulated), given the task's parameters (the state
 * machine, the execution name and its input): the run's description, or States.TaskFailed.
 */
async function runTarget(parameters: unknown): Promise<unknown> {
  const { Name: runId, Input: input } = parameters as { Name: string; Input: Record<string, unknown> };
  const executionArn = `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:execution:target:${runId}`;
  const handlers: Record<string, Handler> = {};
  for (const [fn, states] of Object.entries(LAMBDA_STATES)) {
    if (fn === 'notify') continue;
    for (const state of states)
      handlers[state] = asLambda(suite.handlers[fn as 'discover' | 'query' | 'analyze']);
  }
  const machine = new StateMachine(targetDefinition as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const execution = machine.run(input as never, {
    ...runOptions(handlers),
    context: {
      Execution: {
        Id: executionArn,
        Name: runId,
        Input: input as never,
        StartTime: new Date().toISOString(),
      },
    },
  });
  const collected = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<{
      type: string;
      state?: { name: string };
    }>) {
      if (event.type === 'StateEntered' && event.state) entered.push(`target:${event.state.name}`);
    }
  })();
  try {
    const output = await execution.result;
    return { ExecutionArn: executionArn, Status: 'SUCCEEDED', Output: output };
  } catch (error) {
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    throw Object.assign(
      new Error(
        JSON.stringify({
          ExecutionArn: executionArn,
          Status: 'FAILED',
          Error: cause?.name ?? 'Error',
          Cause: cause?.message ?? String(error),
        }),
      ),
      { name: 'States.TaskFailed' },
    );
  } finally {
    await collected;
  }
}

/** Runs the organization state machine to its end; returns notify's result. */
async function runOrganization(runId: string): Promise<NotifyResult> {
  const handlers: Record<string, Handler> = {
    [ORG_LAMBDA_STATES.targets[0]]: asLambda(orgHandlers.targets),
    [ORG_LAMBDA_STATES.rollup[0]]: asLambda(orgHandlers.rollup),
    AuditTarget: runTarget,
    [itemReaderState(TARGET_MAP)]: async (parameters) =>
      JSON.parse(JSON.stringify(await readMapItems(suite.clients.s3, parameters))),
    [resultWriterState(TARGET_MAP)]: async (parameters) => {
      mapRuns += 1;
      return JSON.parse(
        JSON.stringify(
          await writeMapResults(suite.clients.s3, parameters, {
            mapRunId: `org-${mapRuns}`,
            region: TEST_REGION,
            account: TEST_ACCOUNT,
            mapState: TARGET_MAP,
          }),
        ),
      );
    },
  };
  for (const state of ORG_LAMBDA_STATES.notify) handlers[state] = asLambda(suite.handlers.notify);
  const machine = new StateMachine(orgDefinition as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const input = { runId, end: END };
  const id = `arn:aws:states:${TEST_REGION}:${TEST_ACCOUNT}:execution:org:${runId}`;
  const execution = machine.run(input, {
    ...runOptions(handlers),
    context: { Execution: { Id: id, Name: runId, Input: input, StartTime: new Date().toISOString() } },
  });
  const collected = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<{
      type: string;
      state?: { name: string };
    }>) {
      if (event.type === 'StateEntered' && event.state) entered.push(event.state.name);
    }
  })();
  const result = (await execution.result) as unknown as NotifyResult;
  await collected;
  return result;
}

async function reportKeys(): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await suite.clients.s3.send(
      new ListObjectsV2Command({ Bucket: REPORT_BUCKET, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

async function readJson<T>(key: string): Promise<T> {
  return JSON.parse(await objectText(suite.clients.s3, REPORT_BUCKET, key)) as T;
}

/** The organization, its members' networks, and the third member's missing role. */
async function seedOrganization(): Promise<MotoOrganization & { refused: string[] }> {
  await suite.seed();
  const org = await createMotoOrganization(suite.moto.endpoint, ['prod', 'dev', 'sandbox']);
  const [prod, dev, sandbox] = org.accounts;
  if (!prod || !dev || !sandbox) throw new Error('moto created fewer accounts than asked');
  await seedMemberNetwork(suite.moto.endpoint, prod.id, 'eu-west-1', {
    network: '10.40',
    logGroup: LOG_GROUP,
    now: NOW,
  });
  await seedMemberNetwork(suite.moto.endpoint, prod.id, 'us-east-1', {
    network: '10.41',
    logGroup: LOG_GROUP,
    now: NOW,
  });
  await seedMemberNetwork(suite.moto.endpoint, dev.id, 'eu-west-1', {
    network: '10.42',
    logGroup: LOG_GROUP,
    now: NOW,
  });
  // dev/us-east-1: moto's default VPC only. sandbox: no member role.
  const { refused } = refuseMemberRole([sandbox.id]);
  return { ...org, refused };
}

describe('organization workflow (aws-local-stepfunctions, moto, Organizations)', () => {
  it('audits every target of the organization through its member role, records the missing role as a gap, and alerts once', async () => {
    // Prepare
    entered = [];
    const org = await seedOrganization();
    const [prod, dev, sandbox] = org.accounts;
    if (!prod || !dev || !sandbox) throw new Error('three member accounts expected');

    // Act
    const result = await runOrganization('org-e2e-1');

    // Assess: the run went through the fan-out to one organization alert.
    expect(result).toEqual({
      runId: 'org-e2e-1',
      kind: 'organization',
      reason: 'first organization run: no previous report',
      published: ['sns'],
      failed: [],
    });
    expect(entered.slice(0, 3)).toEqual(['ListTargets', itemReaderState(TARGET_MAP), TARGET_MAP]);
    expect(entered.filter((s) => s === 'AuditTarget')).toHaveLength(6);
    expect(entered.filter((s) => s === 'TargetAudited')).toHaveLength(4);
    expect(entered.filter((s) => s === 'TargetGap')).toHaveLength(2);
    expect(entered.slice(-3)).toEqual([resultWriterState(TARGET_MAP), 'RollUp', 'NotifyOrganization']);
    expect(entered).not.toContain('NotifyFailure');
    // Each target ran the same discover → query → analyze, the failing ones stopped at discover.
    expect(entered.filter((s) => s === 'target:Discover')).toHaveLength(6);
    expect(entered.filter((s) => s === 'target:Analyze')).toHaveLength(4);
    expect(entered.filter((s) => s === 'target:TargetRunFailed')).toHaveLength(2);
    expect(entered).not.toContain('target:Notify');
    // The missing role was asked for once per target, before any discovery call.
    expect(org.refused).toEqual([
      `arn:aws:iam::${sandbox.id}:role/SgAuditMember`,
      `arn:aws:iam::${sandbox.id}:role/SgAuditMember`,
    ]);

    // Assess: each audited target's reports are under its own account and region.
    const keys = await reportKeys();
    for (const account of [prod.id, dev.id]) {
      for (const region of REGIONS) {
        const reportKey = keys.find(
          (k) => k.startsWith(`reports/${account}/${region}/`) && k.endsWith('/report.json'),
        );
        expect(reportKey).toBeDefined();
        const report = await readJson<AuditReport>(reportKey ?? '');
        expect(report.account).toEqual({ id: account, region });
        expect(keys).toContain(`reports/${account}/${region}/latest.json`);
      }
    }
    const prodEu = await readJson<AuditReport>(
      keys.find((k) => k.startsWith(`reports/${prod.id}/eu-west-1/`) && k.endsWith('/report.json')) ?? '',
    );
    expect(prodEu.findings.some((f) => f.severity === 'critical' && f.sgName === 'web')).toBe(true);
    expect(keys.some((k) => k.startsWith(`reports/${sandbox.id}/`))).toBe(false);
    expect(keys.some((k) => k.startsWith(`reports/${TEST_ACCOUNT}/`))).toBe(false);

    // Assess: the organization report names every target, the missing role as gaps.
    const orgKey = keys.find((k) =>
      /^reports\/org\/\d{4}\/\d{2}\/\d{2}\/org-e2e-1\/org-report\.json$/.test(k),
    );
    expect(orgKey).toBeDefined();
    for (const name of ['targets.csv', 'findings.csv', 'report.html', 'summary.md']) {
      expect(keys).toContain(orgKey?.replace('org-report.json', name));
    }
    const orgReport = await readJson<OrgReport>(orgKey ?? '');
    expect(orgReport.totals).toMatchObject({ targets: 6, audited: 4, gaps: 2, accounts: 3, regions: 2 });
    for (const region of REGIONS) {
      expect(orgReport.targets.find((t) => t.accountId === sandbox.id && t.region === region)).toMatchObject({
        status: 'gap',
        accountName: 'sandbox',
        gap: { kind: 'role-unavailable', step: 'Discover', error: { name: 'MemberRoleError' } },
      });
    }
    const gap = orgReport.targets.find((t) => t.status === 'gap');
    expect(gap?.status === 'gap' && gap.gap.error.message).toMatch(
      new RegExp(
        `^cannot assume arn:aws:iam::${sandbox.id}:role/SgAuditMember: AccessDenied: .*sts:AssumeRole`,
      ),
    );
    const audited = orgReport.targets.find((t) => t.accountId === prod.id && t.region === 'eu-west-1');
    expect(audited?.status === 'audited' && audited.audit.reportPath).toMatch(
      new RegExp(`^${prod.id}/eu-west-1/\\d{4}/\\d{2}/\\d{2}/org-e2e-1-${prod.id}-eu-west-1/report\\.html$`),
    );
    const html = await objectText(
      suite.clients.s3,
      REPORT_BUCKET,
      orgKey?.replace('org-report.json', 'report.html') ?? '',
    );
    expect(html).toContain(`href="../../../../../${prod.id}/eu-west-1/`);
    const findingsCsv = await objectText(
      suite.clients.s3,
      REPORT_BUCKET,
      orgKey?.replace('org-report.json', 'findings.csv') ?? '',
    );
    expect(findingsCsv.split('\r\n')[0]?.startsWith('account_id,region,sg_id,')).toBe(true);
    expect(findingsCsv).toContain(`${prod.id},eu-west-1,`);

    // Assess: one alert for the whole organization, naming the gaps.
    const sent = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toMatch(/^sg-audit organization \(first run\): 6 targets, 2 gaps: \d+ critical/);
    expect(sent[0]?.[1]).toContain(`${sandbox.id}/eu-west-1: role-unavailable in Discover: MemberRoleError:`);
  });

  it('compares the next run with the previous organization report and stays quiet when nothing is new or worse', async () => {
    // Prepare: last week's run.
    entered = [];
    await seedOrganization();
    await runOrganization('org-e2e-w1');

    // Act
    const result = await runOrganization('org-e2e-w2');

    // Assess: the same findings and gaps: no second alert, the report says since when.
    expect(result).toMatchObject({
      runId: 'org-e2e-w2',
      kind: 'skipped',
      reason: 'nothing new or worse since organization run org-e2e-w1',
    });
    expect(await sentNotifications(suite.moto.endpoint, TOPIC_ARN)).toHaveLength(1);
    const keys = await reportKeys();
    const orgReport = await readJson<OrgReport>(
      keys.find((k) => k.endsWith('/org-e2e-w2/org-report.json')) ?? '',
    );
    expect(orgReport.changes).toMatchObject({
      firstRun: false,
      previousRunId: 'org-e2e-w1',
      worsened: false,
      newGaps: [],
      newTargets: [],
      newFindings: 0,
    });
    expect(
      JSON.parse(await objectText(suite.clients.s3, REPORT_BUCKET, 'reports/org/latest.json')),
    ).toMatchObject({
      runId: 'org-e2e-w2',
    });
  });

  it('fails the organization run with an alert only when its own step fails', async () => {
    // Prepare: the work bucket is gone, so the targets cannot be listed into it.
    entered = [];
    await seedOrganization();
    await suite.clients.s3.send(new DeleteBucketCommand({ Bucket: WORK_BUCKET }));

    // Act
    const outcome = await runOrganization('org-e2e-fail').then(
      () => 'succeeded',
      (error: unknown) => error,
    );

    // Assess
    expect(outcome).toBeInstanceOf(Error);
    expect(entered).toEqual(['ListTargets', 'ListTargetsFailed', 'NotifyFailure', 'AuditFailed']);
    const sent = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain('in ListTargets');
    expect(sent[0]?.[1]).toContain('Run:     org-e2e-fail');
  });
});
