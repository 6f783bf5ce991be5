/**
 * The deployed, approval-gated remediation end to end: the synthesized state machine (with
 * `remediation`) run by aws-local-stepfunctions over moto_server, the notify, remediate and apply
 * functions the REAL handlers in-process, the decision made with `sg-audit approve|reject` as an
 * approver runs it.
 *
 * The audit part of the run is covered by workflow.test.ts: here discover hands the Map no query
 * and analyze stores the report of the seeded SGs audited on synthetic traffic with proven delivery
 * (testkit/audit-on-data.ts), so both SGs have proven changes. One SG carries the opt-in tag, the
 * other does not. The `.waitForTaskToken` task is emulated (test/support/task-token.ts): its real
 * handler stores the token in the work bucket and alerts; the CLI's SendTaskSuccess/Failure go to a
 * loopback Step Functions endpoint that resolves the waiting task.
 */
import {
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { Duration } from 'aws-cdk-lib';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import { awsClientsFrom } from '../../adapters/aws/clients';
import { Ec2InventorySource } from '../../adapters/aws/ec2-inventory';
import { EXIT_ERROR, EXIT_OK } from '../../cli/main';
import type { AnalyzeResult } from '../../lambdas/analyze/contract';
import type { DiscoverResult } from '../../lambdas/discover/contract';
import type { Inventory } from '../../shared/model/inventory';
import type { ApprovalRecord } from '../../shared/remediation/approval';
import type { AppliedRecord } from '../../shared/remediation/model';
import { renderJson } from '../../shared/render/json';
import { auditOnData, connectionRow } from '../../testkit/audit-on-data';
import { runCli } from '../support/cli-run';
import { motoClientConfig } from '../support/moto';
import { objectText, type SeedOptions, sentNotifications } from '../support/moto-account';
import { ec2Seeder } from '../support/moto-ec2';
import { motoWorkflowSuite } from '../support/moto-workflow';
import { startTaskTokenEndpoint, TaskTokens, withTaskTokenAsTask } from '../support/task-token';
import {
  LAMBDA_STATES,
  REMEDIATION_LAMBDA_STATES,
  stateMachineDefinition,
  synthesizeWorkflowStack,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/workflow-stack';

const WORK_BUCKET = 'sg-audit-rw-work';
const REPORT_BUCKET = 'sg-audit-rw-reports';
const TOPIC_NAME = 'sg-audit-rw-alerts';
const TOPIC_ARN = `arn:aws:sns:${TEST_REGION}:${TEST_ACCOUNT}:${TOPIC_NAME}`;
const TAG = { key: 'sg-audit:remediate', value: 'true' };
const WAIT_SECONDS = 30;
const NOW = Math.floor(Date.now() / 1000);

const SEED: SeedOptions = {
  account: TEST_ACCOUNT,
  region: TEST_REGION,
  network: '10.40',
  workBucket: WORK_BUCKET,
  reportBucket: REPORT_BUCKET,
  topicName: TOPIC_NAME,
  logGroup: '/sg-audit/e2e/remediation-flow',
  now: NOW,
};

const suite = motoWorkflowSuite({
  seed: SEED,
  settings: {
    REMEDIATION_TAG_KEY: TAG.key,
    REMEDIATION_TAG_VALUE: TAG.value,
    APPROVAL_TIMEOUT_SECONDS: String(WAIT_SECONDS),
  },
});

type LocalHandler = (event: unknown) => Promise<unknown>;
let remediate: LocalHandler;
let apply: LocalHandler;
const tokens = new TaskTokens();
let sfnEndpoint: { endpoint: string; stop: () => Promise<void> };

beforeAll(async () => {
  // After the suite's beforeAll: the environment points at moto before the handlers load.
  remediate = (await import('../../lambdas/remediate/handler')).handler;
  apply = (await import('../../lambdas/apply/handler')).handler;
  sfnEndpoint = await startTaskTokenEndpoint(tokens);
});
afterAll(async () => {
  await sfnEndpoint?.stop();
});

// The definition as deployed with remediation, its waiting task emulated; and one whose wait is 1 s.
const definitionOf = (approvalTimeout: Duration) =>
  withTaskTokenAsTask(
    stateMachineDefinition(
      synthesizeWorkflowStack(
        {},
        { workBucketName: WORK_BUCKET, remediation: { approvalTimeout } },
      ).template.toJSON() as never,
    ),
    'WaitForApproval',
  );
const definition = definitionOf(Duration.seconds(WAIT_SECONDS));
const shortWait = definitionOf(Duration.seconds(1));

interface Seeded {
  readonly tagged: string;
  readonly untagged: string;
  readonly inventory: Inventory;
}

/** Two SGs with SSH open to the world and RDP unused, on one ENI each; only `tagged` opts in. */
async function seedSecurityGroups(ec2: EC2Client): Promise<Seeded> {
  const s = ec2Seeder(ec2);
  const vpcId = await s.vpc('10.41.0.0/16');
  const subnetId = await s.subnet(vpcId, '10.41.1.0/24', `${TEST_REGION}a`);
  const ids: string[] = [];
  for (const [name, address] of [
    ['bastion', '10.41.1.10'],
    ['jump', '10.41.1.20'],
  ] as const) {
    const sgId = await s.securityGroup(vpcId, name, `${name} host`);
    await s.ingress(sgId, [
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'SSH' }],
      },
      {
        IpProtocol: 'tcp',
        FromPort: 3389,
        ToPort: 3389,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'old RDP' }],
      },
    ]);
    await s.networkInterface(subnetId, [sgId], { address });
    ids.push(sgId);
  }
  const [tagged = '', untagged = ''] = ids;
  await ec2.send(new CreateTagsCommand({ Resources: [tagged], Tags: [{ Key: TAG.key, Value: TAG.value }] }));
  await s.flowLog({
    ResourceIds: [vpcId],
    ResourceType: 'VPC',
    TrafficType: 'ALL',
    LogDestinationType: 'cloud-watch-logs',
    LogGroupName: 'flow-logs-remediation',
    DeliverLogsPermissionArn: `arn:aws:iam::${TEST_ACCOUNT}:role/flow-logs`,
  });
  const { inventory } = await new Ec2InventorySource({ ec2 }).load({ vpcIds: [vpcId] });
  // Delivery is proven by the test's flow source; the log must predate the window.
  return {
    tagged,
    untagged,
    inventory: {
      ...inventory,
      flowLogs: inventory.flowLogs.map((f) => ({
        ...f,
        creationTime: '2020-01-01T00:00:00Z',
        deliverStatus: 'SUCCESS',
      })),
    },
  };
}

/** Discover without queries (the audit part is workflow.test.ts's). */
function discoverNothing(runId: string): LocalHandler {
  return async () =>
    ({
      runId,
      inventoryKey: `runs/${runId}/inventory.json.gz`,
      queriesKey: `runs/${runId}/queries.json`,
      window: { start: NOW - 86_400, end: NOW },
      queries: [],
      queriesInline: true,
      queryCount: 0,
      eniCount: 0,
      securityGroupCount: 0,
      unqueriedFlowLogs: 0,
      warningCount: 0,
    }) satisfies DiscoverResult;
}

/** Analyze: the report of the seeded SGs on SSH from four peers, stored where analyze stores it. */
function analyzeSeeded(seeded: Seeded): LocalHandler {
  return async (event) => {
    const { runId } = event as { runId: string };
    const rows = seeded.inventory.networkInterfaces.flatMap((eni) =>
      ['198.51.100.7', '203.0.113.10', '203.0.113.11', '203.0.113.12'].map((peer) =>
        connectionRow(eni.id, peer, eni.privateIpv4[0] ?? '', 6, 22, 5),
      ),
    );
    const report = { ...(await auditOnData(seeded.inventory, rows)), runId };
    const reportPrefix = `reports/${TEST_ACCOUNT}/${TEST_REGION}/2026/11/17/${runId}/`;
    await suite.clients.s3.send(
      new PutObjectCommand({
        Bucket: REPORT_BUCKET,
        Key: `${reportPrefix}report.json`,
        Body: renderJson(report),
      }),
    );
    const zero = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
    return {
      runId,
      reportPrefix,
      reportJsonKey: `${reportPrefix}report.json`,
      findingsBySeverity: zero,
      securityGroups: 2,
      networkInterfaces: 2,
      warningCount: 0,
      failedSources: 0,
      bytesScanned: 0,
      changes: {
        firstRun: true,
        worsened: true,
        newFindings: 0,
        worseFindings: 0,
        resurfacedFindings: 0,
        resolvedFindings: 0,
      },
      actionableFindingsBySeverity: zero,
    } satisfies AnalyzeResult;
  };
}

/**
 * Runs the definition: discover and analyze as above, notify, remediate and apply the real
 * handlers; WaitForApproval runs the real request-approval, then waits for its token.
 */
function runWorkflow(
  runId: string,
  seeded: Seeded,
  asl = definition,
): { result: Promise<unknown>; entered: string[] } {
  const machine = new StateMachine(asl as never, { validationOptions: { checkPaths: true, checkArn: true } });
  const json = (handler: LocalHandler) => async (input: unknown) =>
    JSON.parse(JSON.stringify(await handler(input)));
  const handlers: Record<string, LocalHandler> = {
    ...Object.fromEntries(LAMBDA_STATES.query.map((name) => [name, suite.handlers.query as LocalHandler])),
    Discover: discoverNothing(runId),
    Analyze: analyzeSeeded(seeded),
    Notify: suite.handlers.notify,
    NotifyFailure: suite.handlers.notify,
    ...Object.fromEntries(REMEDIATION_LAMBDA_STATES.remediate.map((name) => [name, remediate])),
    ...Object.fromEntries(REMEDIATION_LAMBDA_STATES.apply.map((name) => [name, apply])),
  };
  const wait = (asl as { States: Record<string, { TimeoutSeconds: number }> }).States.WaitForApproval;
  const taskResourceLocalHandlers: NonNullable<
    NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']
  > = Object.fromEntries(Object.entries(handlers).map(([name, handler]) => [name, json(handler)]));
  taskResourceLocalHandlers.WaitForApproval = async (payload) => {
    await remediate(payload);
    return (await tokens.wait(
      (payload as { taskToken: string }).taskToken,
      wait?.TimeoutSeconds ?? WAIT_SECONDS,
    )) as never;
  };
  const input = { runId };
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers },
    context: { Execution: { Name: runId, Input: input, StartTime: new Date().toISOString() } },
  });
  const entered: string[] = [];
  void (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<{
      type: string;
      state?: { name: string };
    }>) {
      if (event.type === 'StateEntered' && event.state) entered.push(event.state.name);
    }
  })();
  return { result: execution.result, entered };
}

/** `sg-audit <args>` as an approver runs it: moto for S3 and STS, the emulated Step Functions endpoint. */
function approver(args: string[]) {
  const config = motoClientConfig(suite.moto.endpoint);
  return runCli(args, {
    awsClients: () =>
      awsClientsFrom(config, {
        s3: new S3Client({ ...config, forcePathStyle: true }),
        sts: new STSClient(config),
      }),
    stepFunctions: () =>
      new SFNClient({ region: TEST_REGION, endpoint: sfnEndpoint.endpoint, credentials: config.credentials }),
  });
}

/** Polls until the run stored its approval record (the alert is out): the decision can be made. */
async function approvalRequested(runId: string): Promise<ApprovalRecord> {
  for (let i = 0; i < 200; i++) {
    try {
      return JSON.parse(
        await objectText(suite.clients.s3, WORK_BUCKET, `approvals/${runId}.json`),
      ) as ApprovalRecord;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`run ${runId} never requested an approval`);
}

async function ingressOf(ec2: EC2Client, sgId: string): Promise<string[]> {
  const rules: SecurityGroupRule[] =
    (
      await ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [sgId] }] }),
      )
    ).SecurityGroupRules ?? [];
  return rules
    .filter((r) => !r.IsEgress)
    .map((r) => `${r.IpProtocol}/${r.FromPort}/${r.CidrIpv4}`)
    .sort();
}

async function reportBucketKeys(runId: string): Promise<string[]> {
  const listed = await suite.clients.s3.send(new ListObjectsV2Command({ Bucket: REPORT_BUCKET }));
  return (listed.Contents ?? [])
    .map((o) => o.Key ?? '')
    .filter((k) => k.includes(`/${runId}/`))
    .map((k) => k.replace(/^.*\//, ''));
}

const approveArgs = (verb: string, runId: string) => [
  verb,
  '--run',
  runId,
  '--work-bucket',
  WORK_BUCKET,
  '--region',
  TEST_REGION,
];

describe('deployed remediation (aws-local-stepfunctions, moto, sg-audit approve|reject)', () => {
  it('waits for the approval, then changes the tagged SG as planned, records before/after and alerts; the untagged SG is untouched', async () => {
    // Prepare
    await suite.seed();
    const ec2 = suite.clients.ec2;
    const seeded = await seedSecurityGroups(ec2);
    const untaggedBefore = await ingressOf(ec2, seeded.untagged);

    // Act: the run plans and waits; the approver approves with the CLI.
    const run = runWorkflow('e2e-rw-approve', seeded);
    const record = await approvalRequested('e2e-rw-approve');
    const approved = await approver(approveArgs('approve', 'e2e-rw-approve'));
    const result = (await run.result) as { outcome: { outcome: string } };

    // Assess: the decision, the run's path and outcome.
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(EXIT_OK);
    expect(approved.stdout).toContain(`apply   ${seeded.tagged}`);
    expect(approved.stdout).toContain(
      `not opted in (no ${TAG.key}=${TAG.value} tag, not planned): ${seeded.untagged}`,
    );
    expect(record).toMatchObject({ status: 'pending', notOptedIn: [{ sgId: seeded.untagged }] });
    expect(run.entered).toEqual(
      expect.arrayContaining([
        'Notify',
        'PlanRemediation',
        'WaitForApproval',
        'ApplyPlan',
        'PlanApplied',
        'RemediationOutcome',
        'RemediationDone',
      ]),
    );
    expect(result.outcome.outcome).toBe('applied');
    // The tagged SG: SSH narrowed to the observed peers, RDP revoked; the untagged one as it was.
    expect(await ingressOf(ec2, seeded.tagged)).toEqual(['tcp/22/198.51.100.7/32', 'tcp/22/203.0.113.0/24']);
    expect(await ingressOf(ec2, seeded.untagged)).toEqual(untaggedBefore);
    // The files beside the report, and the record's before/after.
    const files = await reportBucketKeys('e2e-rw-approve');
    expect(files).toEqual(expect.arrayContaining(['plan.json', 'plan.md', 'apply.sh', 'not-opted-in.json']));
    const appliedName = files.find((f) => /^applied-.*\.json$/.test(f)) ?? '';
    const prefix = `reports/${TEST_ACCOUNT}/${TEST_REGION}/2026/11/17/e2e-rw-approve/`;
    const applied = JSON.parse(
      await objectText(suite.clients.s3, REPORT_BUCKET, `${prefix}${appliedName}`),
    ) as AppliedRecord;
    expect(applied).toMatchObject({
      status: 'complete',
      securityGroups: [{ sgId: seeded.tagged, status: 'applied' }],
    });
    const ports = (side: 'before' | 'after') =>
      (applied.securityGroups[0]?.[side]?.rules ?? [])
        .filter((r) => r.direction === 'ingress')
        .map((r) => `${r.fromPort}/${r.peer}`)
        .sort();
    expect([ports('before'), ports('after')]).toEqual([
      ['22/0.0.0.0/0', '3389/0.0.0.0/0'],
      ['22/198.51.100.7/32', '22/203.0.113.0/24'],
    ]);
    expect(await objectText(suite.clients.s3, REPORT_BUCKET, `${prefix}plan.md`)).toContain(
      '## Not opted in',
    );
    // The alerts: the report, the approval request with its commands, the outcome.
    const subjects = (await sentNotifications(suite.moto.endpoint, TOPIC_ARN)).map((n) => n[2]);
    expect(subjects).toEqual([
      expect.stringMatching(/^sg-audit .*: 4 critical/),
      `sg-audit ${TEST_ACCOUNT}/${TEST_REGION}: remediation plan awaits approval: 1 SG(s), 2 adds, 2 revokes`,
      `sg-audit ${TEST_ACCOUNT}/${TEST_REGION}: remediation applied`,
    ]);
    const request = (await sentNotifications(suite.moto.endpoint, TOPIC_ARN))[1]?.[1] ?? '';
    expect(request).toContain(
      `sg-audit approve --run e2e-rw-approve --work-bucket ${WORK_BUCKET} --region ${TEST_REGION}`,
    );
    // The record is ended, its token dropped: a second decision is refused.
    const ended = JSON.parse(
      await objectText(suite.clients.s3, WORK_BUCKET, 'approvals/e2e-rw-approve.json'),
    ) as ApprovalRecord;
    expect(ended).toMatchObject({ status: 'approved', decision: { by: expect.stringContaining('arn:aws') } });
    expect(ended.taskToken).toBeUndefined();
    const again = await approver(approveArgs('reject', 'e2e-rw-approve'));
    expect(again.code).toBe(EXIT_ERROR);
    expect(again.stderr).toContain("run 'e2e-rw-approve' is no longer waiting for a decision: approved");
  });

  it('changes nothing when rejected, and alerts the rejection with its reason', async () => {
    // Prepare
    await suite.seed();
    const ec2 = suite.clients.ec2;
    const seeded = await seedSecurityGroups(ec2);
    const before = [await ingressOf(ec2, seeded.tagged), await ingressOf(ec2, seeded.untagged)];

    // Act
    const run = runWorkflow('e2e-rw-reject', seeded);
    await approvalRequested('e2e-rw-reject');
    const rejected = await approver([...approveArgs('reject', 'e2e-rw-reject'), '--reason', 'change freeze']);
    const result = (await run.result) as { outcome: { outcome: string } };

    // Assess
    expect(rejected.code).toBe(EXIT_OK);
    expect(rejected.stdout).toContain('rejected: nothing will be changed');
    expect(run.entered).toContain('PlanRejected');
    expect(run.entered).not.toContain('ApplyPlan');
    expect(result.outcome.outcome).toBe('rejected');
    expect([await ingressOf(ec2, seeded.tagged), await ingressOf(ec2, seeded.untagged)]).toEqual(before);
    expect((await reportBucketKeys('e2e-rw-reject')).some((f) => f.startsWith('applied-'))).toBe(false);
    const [, , last] = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);
    expect(last?.[2]).toBe(`sg-audit ${TEST_ACCOUNT}/${TEST_REGION}: remediation plan rejected`);
    expect(last?.[1]).toContain('Reason: change freeze');
    const ended = JSON.parse(
      await objectText(suite.clients.s3, WORK_BUCKET, 'approvals/e2e-rw-reject.json'),
    ) as ApprovalRecord;
    expect(ended).toMatchObject({ status: 'rejected', decision: { reason: 'change freeze' } });
  });

  it('takes a plan nobody decided on within the wait as rejected, and the late approver is told it expired', async () => {
    // Prepare
    await suite.seed();
    const ec2 = suite.clients.ec2;
    const seeded = await seedSecurityGroups(ec2);
    const before = await ingressOf(ec2, seeded.tagged);

    // Act
    const run = runWorkflow('e2e-rw-expire', seeded, shortWait);
    await approvalRequested('e2e-rw-expire');
    const result = (await run.result) as { outcome: { outcome: string } };
    const late = await approver(approveArgs('approve', 'e2e-rw-expire'));

    // Assess
    expect(run.entered).toContain('PlanExpired');
    expect(result.outcome.outcome).toBe('expired');
    expect(await ingressOf(ec2, seeded.tagged)).toEqual(before);
    expect(late.code).toBe(EXIT_ERROR);
    expect(late.stderr).toContain("run 'e2e-rw-expire' is no longer waiting for a decision: expired");
  });
});
