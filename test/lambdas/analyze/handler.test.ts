import { gzipSync } from 'node:zlib';
import type { StoredInventory } from '../../../lambdas/adapters/s3-work-store';
import type { AuditReport } from '../../../shared/report/model';
import { flowLog, InventoryBuilder, WINDOW } from '../../support/inventory-builder';

const BASE_ENV = { ...process.env };
const INVENTORY_KEY = 'runs/run-1/inventory.json.gz';
const AGGREGATES_KEY = 'runs/run-1/aggregates/insights-1.json.gz';

function storedInventory(): StoredInventory {
  const inventory = new InventoryBuilder()
    .sg('sg-web', { name: 'web' })
    .ingress('sg-web', 'tcp', 22, '0.0.0.0/0')
    .ingress('sg-web', 'tcp', 443, '0.0.0.0/0')
    .eni('eni-web', { sgIds: ['sg-web'] })
    .build();
  return {
    schemaVersion: 1,
    runId: 'run-1',
    window: WINDOW,
    scope: { vpcIds: [] },
    inventory: {
      ...inventory,
      accountId: '111122223333',
      region: 'ap-northeast-2',
      flowLogs: [
        flowLog('fl-cw', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/flow' }),
        flowLog('fl-s3', { resourceId: 'vpc-9' }),
      ],
    },
    warnings: ['rds:DescribeDBInstances denied: RDS ENIs keep the description-based guess'],
    apiCalls: {},
    names: [['i-1', 'web-1']],
    plan: {
      sources: [{ sourceId: 'insights-1', kind: 'insights', flowLogIds: ['fl-cw'] }],
      unqueried: [
        {
          flowLogId: 'fl-s3',
          reason: 'delivers to S3 and no Athena database is configured (ATHENA_DATABASE)',
        },
      ],
    },
  };
}

/** The stored aggregates of insights-1: one HTTPS connection to eni-web. */
function storedAggregates() {
  return {
    schemaVersion: 1,
    runId: 'run-1',
    sourceId: 'insights-1',
    columns: [],
    rows: [
      [
        'eni-web',
        'ACCEPT',
        6,
        '198.51.100.7',
        '10.0.0.10',
        443,
        null,
        'flags',
        2,
        1,
        1,
        12,
        4800,
        WINDOW.start + 60,
        WINDOW.start + 90,
        1,
      ],
    ],
    stats: {
      engine: 'logs-insights',
      sources: ['/vpc/flow'],
      files: 0,
      records: 2,
      nodataRecords: 0,
      skipdataRecords: 0,
      malformedRecords: 0,
      malformedSamples: [],
      queries: 1,
      bytesScanned: 4096,
      enisWithRecords: ['eni-web'],
      warnings: [],
    },
  };
}

const gz = (value: unknown) => ({
  Body: { transformToByteArray: async () => new Uint8Array(gzipSync(JSON.stringify(value))) } as never,
});

/** Imports the handler afresh with `env` set first, its S3 client mocked in the same module registry. */
async function loadAnalyze(env: Record<string, string> = {}) {
  jest.resetModules();
  process.env = {
    ...BASE_ENV,
    AWS_REGION: 'ap-northeast-2',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    WORK_BUCKET: 'sg-audit-work',
    REPORT_BUCKET: 'sg-audit-reports',
    LOG_LEVEL: 'SILENT',
    ...env,
  };
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const s3 = mockClient(s3Sdk.S3Client);
  s3.on(s3Sdk.GetObjectCommand, { Key: INVENTORY_KEY }).resolves(gz(storedInventory()));
  s3.on(s3Sdk.GetObjectCommand, { Key: AGGREGATES_KEY }).resolves(gz(storedAggregates()));
  s3.on(s3Sdk.PutObjectCommand).resolves({});
  const { handler } = await import('../../../lambdas/analyze/handler');
  const puts = () => s3.commandCalls(s3Sdk.PutObjectCommand).map((c) => c.args[0].input);
  const report = (): AuditReport => {
    const put = puts().find((p) => p.Key?.endsWith('/report.json'));
    return JSON.parse(String(put?.Body)) as AuditReport;
  };
  return { handler, s3, s3Sdk, puts, report };
}

afterAll(() => {
  process.env = BASE_ENV;
});

describe('analyze handler', () => {
  it('audits the stored inventory and aggregates, stores every report file and returns a summary', async () => {
    // Prepare
    const { handler, puts, report } = await loadAnalyze({ REPORT_PREFIX: 'audits' });

    // Act
    const result = await handler({
      runId: 'run-1',
      inventoryKey: INVENTORY_KEY,
      aggregateKeys: [AGGREGATES_KEY],
    });

    // Assess
    const prefix = result.reportPrefix;
    expect(prefix).toMatch(/^audits\/111122223333\/ap-northeast-2\/\d{4}\/\d{2}\/\d{2}\/run-1\/$/);
    expect(result).toMatchObject({
      runId: 'run-1',
      reportJsonKey: `${prefix}report.json`,
      htmlUrl: expect.stringContaining(`${prefix}report.html`),
      securityGroups: 1,
      failedSources: 0,
      bytesScanned: 4096,
    });
    const keys = puts().map((p) => p.Key);
    for (const name of [
      'report.json',
      'findings.csv',
      'rules.csv',
      'report.xlsx',
      'summary.md',
      'report.html',
    ])
      expect(keys).toContain(`${prefix}${name}`);
    expect(keys.at(-1)).toBe('audits/111122223333/ap-northeast-2/latest.json');
    const written = report();
    expect(written.mode).toBe('live');
    expect(result.findingsBySeverity).toEqual(written.summary.findingsBySeverity);
    expect(written.findings.some((f) => f.sgId === 'sg-web' && f.severity === 'critical')).toBe(true);
    const https = written.securityGroups[0]?.rules.find((r) => r.fromPort === 443);
    expect(https?.usage.status).toBe('used');
    expect(written.warnings).toEqual(
      expect.arrayContaining([
        {
          code: 'discovery',
          message: 'rds:DescribeDBInstances denied: RDS ENIs keep the description-based guess',
        },
        expect.objectContaining({
          code: 'flow-log-not-queried',
          message: expect.stringContaining('flow log fl-s3'),
        }),
      ]),
    );
  });

  it('reports a failed source as a warning and does not take its silence as unused rules', async () => {
    // Prepare
    const { handler, report } = await loadAnalyze();
    const cause = JSON.stringify({
      errorType: 'FlowLogQueryTimeoutError',
      errorMessage: 'query q-1 ran past 900000 ms',
    });

    // Act
    const result = await handler({
      runId: 'run-1',
      inventoryKey: INVENTORY_KEY,
      aggregateKeys: [],
      failedSources: [{ sourceId: 'insights-1', error: { Error: 'FlowLogQueryTimeoutError', Cause: cause } }],
    });

    // Assess
    expect(result.failedSources).toBe(1);
    const written = report();
    expect(written.warnings[1]).toEqual({
      code: 'flow-source-failed',
      message:
        "flow source insights-1 (insights: fl-cw) failed: FlowLogQueryTimeoutError: query q-1 ran past 900000 ms; rules of the ENIs it records are 'unknown', not judged unused",
    });
    expect(written.resources.find((r) => r.eniId === 'eni-web')?.coverage).toBe('none');
    expect(written.securityGroups[0]?.rules.map((r) => r.usage.status)).not.toContain('unused');
  });

  it('warns about a planned source that gave no result and was not reported failed', async () => {
    // Prepare
    const { handler, report } = await loadAnalyze();

    // Act
    await handler({ runId: 'run-1', inventoryKey: INVENTORY_KEY });

    // Assess
    expect(report().warnings.map((w) => w.code)).toContain('flow-source-missing');
  });

  it('fails with the work key when an aggregates object is missing', async () => {
    // Prepare
    const { handler, s3, s3Sdk } = await loadAnalyze();
    s3.on(s3Sdk.GetObjectCommand, { Key: 'runs/run-1/aggregates/gone.json.gz' }).rejects(
      Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: {} }),
    );

    // Act
    const run = handler({
      runId: 'run-1',
      inventoryKey: INVENTORY_KEY,
      aggregateKeys: ['runs/run-1/aggregates/gone.json.gz'],
    });

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'WorkStoreError',
      key: 'runs/run-1/aggregates/gone.json.gz',
    });
  });

  it('rejects an event without the inventory key', async () => {
    // Prepare
    const { handler, s3 } = await loadAnalyze();

    // Act
    const run = handler({ runId: 'run-1', aggregateKeys: 'k' });

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InvalidEventError',
      fields: ['inventoryKey', 'aggregateKeys'],
    });
    expect(s3.calls()).toHaveLength(0);
  });
});
