/**
 * The synthesized state machine run by aws-local-stepfunctions, each Lambda task mapped to the
 * REAL handler in-process, against moto_server: discover → query (inline Map) → analyze → notify.
 *
 * The definition is the DefinitionString of the template of a stack using AuditWorkflow
 * (test/support/workflow-stack.ts), intrinsics resolved to placeholder ARNs; the local handlers
 * are keyed by state name. aws-local-stepfunctions has no Distributed Map (it ignores ItemReader
 * and ProcessorConfig) and no JSONata: the run takes the inline Map path (discover's list is
 * small), the ItemReader path is checked by the assertion tests and asl-validator only.
 *
 * Moto's Logs Insights ignores `stats`: the flow records are seeded before the window, so the
 * query plumbing runs end to end on an empty result (test/support/moto-account.ts).
 */
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { NotifyResult } from '../../lambdas/notify/contract';
import type { AuditReport } from '../../shared/report/model';
import {
  type SeededAccount,
  type SeedOptions,
  type SentNotification,
  sentNotifications as sentMotoNotifications,
} from '../support/moto-account';
import { motoWorkflowSuite } from '../support/moto-workflow';
import {
  LAMBDA_STATES,
  stateMachineDefinition,
  synthesizeWorkflowStack,
  TEST_ACCOUNT,
  TEST_REGION,
} from '../support/workflow-stack';

const WORK_BUCKET = 'sg-audit-wf-work';
const REPORT_BUCKET = 'sg-audit-wf-reports';
const TOPIC_NAME = 'sg-audit-wf-alerts';
const TOPIC_ARN = `arn:aws:sns:${TEST_REGION}:${TEST_ACCOUNT}:${TOPIC_NAME}`;
const LOG_GROUP = '/sg-audit/e2e/workflow-flow';
const NOW = Math.floor(Date.now() / 1000);
/** A little ahead, so the flow log moto creates during the test lies inside the window. */
const END = NOW + 600;

type LocalHandler = (event: unknown) => Promise<unknown>;
type FunctionName = keyof typeof LAMBDA_STATES;

// One synthesis: the definition every test runs.
const definition = stateMachineDefinition(synthesizeWorkflowStack().template.toJSON() as never);

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

// The handlers create their clients at module scope: the suite points the environment at moto first.
const suite = motoWorkflowSuite({ seed: SEED });

/** One VPC with a web SG open to the world (SSH too) and an app SG, their ENIs, a VPC flow log to CloudWatch Logs with records. */
async function seedAccount(): Promise<SeededAccount> {
  const account = await suite.seed();
  expect(account.topicArn).toBe(TOPIC_ARN);
  return account;
}

async function sentNotifications(): Promise<SentNotification[]> {
  return sentMotoNotifications(suite.moto.endpoint, TOPIC_ARN);
}

async function reportKeys(): Promise<string[]> {
  const listed = await suite.clients.s3.send(new ListObjectsV2Command({ Bucket: REPORT_BUCKET }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

async function storedReport(key: string): Promise<AuditReport> {
  const object = await suite.clients.s3.send(new GetObjectCommand({ Bucket: REPORT_BUCKET, Key: key }));
  return JSON.parse((await object.Body?.transformToString('utf-8')) ?? '{}') as AuditReport;
}

/**
 * Runs the synthesized definition with each Lambda task on its real handler (or a replacement),
 * retries without waiting; returns the result and the names of the states that were entered.
 */
async function runWorkflow(
  runId: string,
  replace: Partial<Record<FunctionName, LocalHandler>> = {},
): Promise<{ result: Promise<unknown>; entered: () => Promise<string[]> }> {
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const taskResourceLocalHandlers: NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'] = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [fn, stateNames] of Object.entries(LAMBDA_STATES) as [FunctionName, readonly string[]][]) {
    for (const name of stateNames) {
      const handler = replace[fn] ?? suite.handlers[fn];
      // Through JSON, as Lambda returns it (undefined fields dropped, dates as text).
      taskResourceLocalHandlers[name] = async (input) => JSON.parse(JSON.stringify(await handler(input)));
      retryIntervalOverrides[name] = 0;
    }
  }
  const input = { runId, end: END };
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
    context: { Execution: { Name: runId, Input: input, StartTime: new Date().toISOString() } },
  });
  const events: string[] = [];
  const collected = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') events.push(event.state.name);
    }
    return events;
  })();
  return { result: execution.result, entered: () => collected };
}

describe('audit workflow (aws-local-stepfunctions, moto)', () => {
  it('runs the synthesized definition to a stored report and an e-mailed summary', async () => {
    // Prepare
    const account = await seedAccount();

    // Act
    const run = await runWorkflow('e2e-wf-1');
    const result = (await run.result) as NotifyResult;

    // Assess: the run succeeded through the inline Map and every source succeeded.
    expect(result).toEqual({
      runId: 'e2e-wf-1',
      kind: 'report',
      reason: 'first run: no previous report',
      published: ['sns'],
      failed: [],
    });
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining([
        'Discover',
        'QueriesInline',
        'QueryEachSource',
        'Query',
        'AllQueriesSucceeded',
      ]),
    );
    expect(entered).not.toContain('RecordQueryFailure');
    expect(entered.slice(-2)).toEqual(['Analyze', 'Notify']);

    // Assess: the report objects are in the report bucket.
    const keys = await reportKeys();
    const reportKey = keys.find((k) => /\/e2e-wf-1\/report\.json$/.test(k));
    expect(reportKey).toBeDefined();
    const prefix = reportKey?.replace(/report\.json$/, '') ?? '';
    for (const name of ['findings.csv', 'rules.csv', 'report.html'])
      expect(keys).toContain(`${prefix}${name}`);
    const report = await storedReport(reportKey ?? '');
    expect(report).toMatchObject({ runId: 'e2e-wf-1', account: { id: TEST_ACCOUNT, region: TEST_REGION } });
    expect(report.findings.some((f) => f.sgId === account.web && f.severity === 'critical')).toBe(true);
    expect(report.warnings.filter((w) => w.code === 'flow-source-failed')).toEqual([]);

    // Assess: SNS got the summary.
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toMatch(
      new RegExp(`^sg-audit ${TEST_ACCOUNT}/${TEST_REGION} \\(first run\\): \\d+ critical`),
    );
  });

  it('records a failed query through the per-item Catch and still reports, with the failure warning', async () => {
    // Prepare: the log group disappears between discovery and the query.
    const account = await seedAccount();
    const discoverThenDeleteLogGroup: LocalHandler = async (event) => {
      const discovered = await suite.handlers.discover(event);
      await suite.clients.logs.send(new DeleteLogGroupCommand({ logGroupName: LOG_GROUP }));
      return discovered;
    };

    // Act
    const run = await runWorkflow('e2e-wf-2', { discover: discoverThenDeleteLogGroup });
    const result = (await run.result) as NotifyResult;

    // Assess: the item's Catch recorded the failure, the run went on to the report.
    expect(result).toEqual({
      runId: 'e2e-wf-2',
      kind: 'report',
      reason: 'first run: no previous report',
      published: ['sns'],
      failed: [],
    });
    const entered = await run.entered();
    expect(entered).toEqual(
      expect.arrayContaining(['Query', 'RecordQueryFailure', 'AllQueriesFailed', 'Analyze']),
    );
    expect(entered).not.toContain('NotifyFailure');
    const reportKey = (await reportKeys()).find((k) => /\/e2e-wf-2\/report\.json$/.test(k));
    const report = await storedReport(reportKey ?? '');
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: FlowLogQueryFailedError`,
    );
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('none');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[1]).toContain('flow-source-failed');
  });

  it('alerts with the cause and fails the run when analyze fails', async () => {
    // Prepare: the report bucket is gone, so analyze cannot store the report.
    await seedAccount();
    await suite.clients.s3.send(new DeleteBucketCommand({ Bucket: REPORT_BUCKET }));

    // Act
    const run = await runWorkflow('e2e-wf-3');
    const outcome = await run.result.then(
      () => 'succeeded',
      (error: unknown) => error,
    );

    // Assess: the Catch took the failure path and the run failed.
    expect(outcome).toBeInstanceOf(Error);
    const entered = await run.entered();
    expect(entered.slice(-4)).toEqual(['Analyze', 'AnalyzeFailed', 'NotifyFailure', 'AuditFailed']);
    expect(entered).not.toContain('Notify');
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain('in Analyze');
    expect(sent[0]?.[1]).toContain('Run:     e2e-wf-3');
  });
});
