/**
 * The workflow's Lambda handlers against moto_server, run in-process in the order the state
 * machine runs them: discover → query (each item) → analyze → notify. The handlers create their
 * clients at module scope from the environment, so the environment points the SDK at moto
 * (AWS_ENDPOINT_URL) before they are imported.
 *
 * Moto's Logs Insights returns the raw events of the time range and ignores `stats`: the flow
 * records are seeded as log events just before the window (test/support/moto-account.ts), so the
 * query plumbing (log group, time range, stored result) runs end to end on an empty result; the
 * aggregation's semantics are tested through the query builder (test/shared/flow/insights-query.test.ts).
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteLogGroupCommand, DescribeQueriesCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { AuditReport } from '../../shared/report/model';
import { motoClientConfig } from '../support/moto';
import { objectText, type SeededAccount, type SeedOptions, sentNotifications } from '../support/moto-account';
import { motoWorkflowSuite, queryEachSource } from '../support/moto-workflow';

const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-2';
const WORK_BUCKET = 'sg-audit-work';
const REPORT_BUCKET = 'sg-audit-reports';
const TOPIC_NAME = 'sg-audit-alerts';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC_NAME}`;
const LOG_GROUP = '/sg-audit/e2e/vpc-flow';
const NOW = Math.floor(Date.now() / 1000);
/** The window's end: a little ahead, so the flow log moto creates during the test lies inside the window. */
const END = NOW + 600;

const SEED: SeedOptions = {
  account: ACCOUNT,
  region: REGION,
  network: '10.20',
  workBucket: WORK_BUCKET,
  reportBucket: REPORT_BUCKET,
  topicName: TOPIC_NAME,
  logGroup: LOG_GROUP,
  now: NOW,
};

const suite = motoWorkflowSuite({ seed: SEED });

/** A realistic small account: one VPC, a web tier open to the world (SSH too), an app tier reached by SG reference. */
async function seed(): Promise<SeededAccount> {
  const account = await suite.seed();
  expect(account.topicArn).toBe(TOPIC_ARN);
  return account;
}

/** Each query item run as the Map runs it, then analyze over what they stored. */
async function queryAndAnalyze(discovered: Awaited<ReturnType<typeof suite.handlers.discover>>) {
  const { aggregateKeys, failedSources } = await queryEachSource(suite.handlers, discovered);
  const analyzed = await suite.handlers.analyze({
    runId: discovered.runId,
    inventoryKey: discovered.inventoryKey,
    aggregateKeys,
    failedSources,
  });
  return { aggregateKeys, failedSources, analyzed };
}

describe('workflow handlers (moto)', () => {
  it('discovers, queries, analyses, stores the report and e-mails the summary', async () => {
    // Prepare
    const account = await seed();

    // Act
    const discovered = await suite.handlers.discover({ runId: 'e2e-run-1', end: END });
    const { aggregateKeys, failedSources, analyzed } = await queryAndAnalyze(discovered);
    const notified = await suite.handlers.notify(analyzed);

    // Assess: discovery and the query plan (state holds keys and the small query list).
    expect(discovered).toMatchObject({
      runId: 'e2e-run-1',
      inventoryKey: 'runs/e2e-run-1/inventory.json.gz',
      queriesKey: 'runs/e2e-run-1/queries.json',
      window: { start: END - 86_400, end: END },
      queries: [{ sourceId: 'insights-1', kind: 'insights', logGroups: [LOG_GROUP] }],
      queryCount: 1,
      unqueriedFlowLogs: 0,
    });
    expect(discovered.eniCount).toBeGreaterThanOrEqual(2);
    expect(failedSources).toEqual([]);
    expect(aggregateKeys).toEqual(['runs/e2e-run-1/aggregates/insights-1.json.gz']);
    const { queries } = await suite.clients.logs.send(
      new DescribeQueriesCommand({ logGroupName: LOG_GROUP }),
    );
    expect(queries).toHaveLength(1);
    expect(queries?.[0]?.queryString).toContain(account.webEni);

    // Assess: the report objects are in the report bucket.
    const listed = await suite.clients.s3.send(new ListObjectsV2Command({ Bucket: REPORT_BUCKET }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    const prefix = analyzed.reportPrefix;
    expect(prefix).toMatch(new RegExp(`^reports/${ACCOUNT}/${REGION}/\\d{4}/\\d{2}/\\d{2}/e2e-run-1/$`));
    for (const name of [
      'report.json',
      'findings.csv',
      'rules.csv',
      'recommendations.csv',
      'resources.csv',
      'report.html',
    ])
      expect(keys).toContain(`${prefix}${name}`);
    expect(keys).toContain(`reports/${ACCOUNT}/${REGION}/latest.json`);
    expect(analyzed.reportJsonKey).toBe(`${prefix}report.json`);

    // Assess: inventory and findings.
    const report = JSON.parse(
      await objectText(suite.clients.s3, REPORT_BUCKET, analyzed.reportJsonKey),
    ) as AuditReport;
    expect(report).toMatchObject({
      runId: 'e2e-run-1',
      mode: 'live',
      account: { id: ACCOUNT, region: REGION },
    });
    expect(report.securityGroups.map((sg) => sg.id)).toEqual(
      expect.arrayContaining([account.web, account.app]),
    );
    expect(report.resources.map((r) => r.eniId)).toEqual(
      expect.arrayContaining([account.webEni, account.appEni]),
    );
    const sshFinding = report.findings.find((f) => f.sgId === account.web && f.severity === 'critical');
    expect(sshFinding).toBeDefined();
    expect(
      report.securityGroups.find((sg) => sg.id === account.app)?.rules.some((r) => r.peer === account.web),
    ).toBe(true);
    expect(report.flowSources).toEqual([
      expect.objectContaining({ engine: 'logs-insights', sources: [LOG_GROUP], queries: 1 }),
    ]);
    expect(report.warnings.filter((w) => w.code.startsWith('flow-source'))).toEqual([]);
    expect(analyzed.findingsBySeverity).toEqual(report.summary.findingsBySeverity);
    // The flow log started inside the window: partial evidence, so no rule is judged unused.
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('partial');

    // Assess: SNS received the summary.
    expect(notified).toEqual({
      runId: 'e2e-run-1',
      kind: 'report',
      reason: 'first run: no previous report',
      published: ['sns'],
      failed: [],
    });
    const sent = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toMatch(new RegExp(`^sg-audit ${ACCOUNT}/${REGION} \\(first run\\): \\d+ critical`));
    expect(sent[0]?.[1]).toContain(`HTML report: ${analyzed.htmlUrl}`);
  });

  it('carries a failed query into the report as a warning and leaves its rules unjudged', async () => {
    // Prepare: the log group disappears between discovery and the query.
    const account = await seed();
    const discovered = await suite.handlers.discover({ runId: 'e2e-run-2', end: END });
    await suite.clients.logs.send(new DeleteLogGroupCommand({ logGroupName: LOG_GROUP }));

    // Act
    const { aggregateKeys, failedSources, analyzed } = await queryAndAnalyze(discovered);

    // Assess
    expect(aggregateKeys).toEqual([]);
    expect(failedSources).toEqual([
      { sourceId: 'insights-1', error: expect.objectContaining({ Error: 'FlowLogQueryFailedError' }) },
    ]);
    expect(analyzed.failedSources).toBe(1);
    const report = JSON.parse(
      await objectText(suite.clients.s3, REPORT_BUCKET, analyzed.reportJsonKey),
    ) as AuditReport;
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: FlowLogQueryFailedError`,
    );
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('none');
    const webRules = report.securityGroups.find((sg) => sg.id === account.web)?.rules ?? [];
    expect(webRules.filter((r) => r.direction === 'ingress').map((r) => r.usage.status)).toEqual([
      'unknown',
      'unknown',
    ]);
  });

  it('makes a flow log inconsistent when its log group received events the query did not scan', async () => {
    // Prepare: CloudWatch counted 500 events into the group during the window; moto's Insights
    // query scans none of them (it reports no statistics): delivered and read disagree.
    const account = await seed();
    const cloudwatch = new CloudWatchClient(motoClientConfig(suite.moto.endpoint));
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/Logs',
        MetricData: [
          {
            MetricName: 'IncomingLogEvents',
            Dimensions: [{ Name: 'LogGroupName', Value: LOG_GROUP }],
            Timestamp: new Date((END - 3600) * 1000),
            Value: 500,
            Unit: 'Count',
          },
        ],
      }),
    );
    cloudwatch.destroy();

    // Act
    const discovered = await suite.handlers.discover({ runId: 'e2e-run-4', end: END });
    const { failedSources, analyzed } = await queryAndAnalyze(discovered);

    // Assess: said first, the flow log inconsistent, its ENIs' rules unknown.
    expect(failedSources).toEqual([]);
    const report = JSON.parse(
      await objectText(suite.clients.s3, REPORT_BUCKET, analyzed.reportJsonKey),
    ) as AuditReport;
    expect(report.delivery?.flowLogs.find((f) => f.flowLogId === account.flowLogId)).toMatchObject({
      status: 'inconsistent',
      inconsistencies: [
        `log group ${LOG_GROUP}: 500 log events delivered over the window (CloudWatch IncomingLogEvents), 0 read`,
      ],
    });
    expect(report.warnings[0]).toMatchObject({ code: 'flow-source-inconsistent' });
    const webRules = report.securityGroups.find((sg) => sg.id === account.web)?.rules ?? [];
    expect(webRules.filter((r) => r.direction === 'ingress').every((r) => r.usage.status === 'unknown')).toBe(
      true,
    );
  });

  it('publishes a failure alert when notify gets the error a Catch recorded', async () => {
    // Prepare
    await seed();

    // Act
    const notified = await suite.handlers.notify({
      runId: 'e2e-run-3',
      step: 'Discover',
      error: {
        Error: 'InventoryDiscoveryError',
        Cause: JSON.stringify({
          errorType: 'InventoryDiscoveryError',
          errorMessage: 'ec2:DescribeVpcs: denied',
          trace: [],
        }),
      },
    });

    // Assess
    expect(notified).toEqual({ runId: 'e2e-run-3', kind: 'failure', published: ['sns'], failed: [] });
    const sent = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain('InventoryDiscoveryError');
    expect(sent[0]?.[1]).toContain('ec2:DescribeVpcs: denied');
  });
});
