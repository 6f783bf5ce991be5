import { gzipSync } from 'node:zlib';
import type { StoredInventory } from '../../../shared/model/run';
import type { AuditReport } from '../../../shared/report/model';
import { authorizeEvent, CALLERS } from '../../../testkit/cloudtrail-events';
import { deliveredEveryDay } from '../../../testkit/delivery';
import { flowLog, InventoryBuilder, WINDOW } from '../../../testkit/inventory-builder';
import { PARTNER_ALLOWLIST_YAML } from '../../support/egress-allowlist';
import { handlerColdStart } from '../../support/handler-cold-start';

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

/** The stored aggregates of insights-1: one HTTPS connection to eni-web; fl-cw delivered every day. */
function storedAggregates() {
  return {
    schemaVersion: 3,
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
        'fl-cw',
        null,
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
      deliveries: deliveredEveryDay('fl-cw', 'eni-web', WINDOW),
      flowLogIds: ['fl-cw'],
    },
  };
}

function noSuchKey() {
  return Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: {} });
}

const text = (value: string) => ({ Body: { transformToString: async () => value } as never });

/** A plain JSON object, as Step Functions' ResultWriter writes it. */
const json = (value: unknown) => ({
  Body: { transformToByteArray: async () => new Uint8Array(Buffer.from(JSON.stringify(value))) } as never,
});

const gz = (value: unknown) => ({
  Body: { transformToByteArray: async () => new Uint8Array(gzipSync(JSON.stringify(value))) } as never,
});

type Loaded = Awaited<ReturnType<typeof importAnalyze>>;
let loaded: { env: string; api: Loaded } | undefined;

const coldStart = handlerColdStart({ WORK_BUCKET: 'sg-audit-work', REPORT_BUCKET: 'sg-audit-reports' });

/** Imports the handler afresh with `env` set first, its SDK clients mocked in the same module registry. */
async function importAnalyze(env: Record<string, string>) {
  coldStart(env);
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const securityHubSdk = await import('@aws-sdk/client-securityhub');
  const s3 = mockClient(s3Sdk.S3Client);
  const securityHub = mockClient(securityHubSdk.SecurityHubClient);
  const { handler } = await import('../../../lambdas/analyze/handler');
  const puts = () => s3.commandCalls(s3Sdk.PutObjectCommand).map((c) => c.args[0].input);
  const body = (name: string, runId = 'run-1'): string =>
    String(puts().find((p) => p.Key?.endsWith(`/${runId}/${name}`))?.Body);
  const report = (runId = 'run-1'): AuditReport => JSON.parse(body('report.json', runId)) as AuditReport;
  /** Serves what a run stored (latest.json and its report.json, optionally edited) as the previous run. */
  const servePrevious = (runId: string, edit: (r: AuditReport) => AuditReport = (r) => r) => {
    const latest = puts().findLast((p) => p.Key?.endsWith('/latest.json'));
    const reportKey = puts().find((p) => p.Key?.endsWith(`/${runId}/report.json`))?.Key;
    s3.on(s3Sdk.GetObjectCommand, { Key: latest?.Key }).resolves(text(String(latest?.Body)));
    s3.on(s3Sdk.GetObjectCommand, { Key: reportKey }).resolves(text(JSON.stringify(edit(report(runId)))));
  };
  return { handler, s3, s3Sdk, securityHub, securityHubSdk, puts, body, report, servePrevious };
}

/**
 * The handler loaded with `env` (re-imported only when the environment differs: each import of
 * the renderers' dependencies adds a process exit listener), its mocks reset to the stored run.
 */
async function loadAnalyze(env: Record<string, string> = {}): Promise<Loaded> {
  const key = JSON.stringify(env);
  if (loaded?.env !== key) loaded = { env: key, api: await importAnalyze(env) };
  const { s3, s3Sdk, securityHub } = loaded.api;
  s3.reset();
  securityHub.reset();
  // No other object exists unless a test says so (latest.json: a first run).
  s3.on(s3Sdk.GetObjectCommand).rejects(noSuchKey());
  s3.on(s3Sdk.GetObjectCommand, { Key: INVENTORY_KEY }).resolves(gz(storedInventory()));
  s3.on(s3Sdk.GetObjectCommand, { Key: AGGREGATES_KEY }).resolves(gz(storedAggregates()));
  s3.on(s3Sdk.PutObjectCommand).resolves({});
  return loaded.api;
}

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

  it("reads the query outcomes from the Distributed Map's ResultWriter output in the work bucket", async () => {
    // Prepare: the manifest names one SUCCEEDED result file; each child's Output is a JSON string.
    const { handler, s3, s3Sdk, report } = await loadAnalyze();
    const manifestKey = 'runs/run-1/query-results/a1b2/manifest.json';
    const child = (output: unknown) => ({
      ExecutionArn: 'arn:aws:states:ap-northeast-2:111122223333:execution:sm/QueryEachSourceFromS3:1',
      Input: '{}',
      Output: JSON.stringify(output),
      Status: 'SUCCEEDED',
    });
    s3.on(s3Sdk.GetObjectCommand, { Key: manifestKey }).resolves(
      json({
        DestinationBucket: 'sg-audit-work',
        MapRunArn: 'arn:aws:states:ap-northeast-2:111122223333:mapRun:sm/QueryEachSourceFromS3:a1b2',
        ResultFiles: {
          FAILED: [],
          PENDING: [],
          SUCCEEDED: [{ Key: 'runs/run-1/query-results/a1b2/SUCCEEDED_0.json', Size: 400 }],
        },
      }),
    );
    s3.on(s3Sdk.GetObjectCommand, { Key: 'runs/run-1/query-results/a1b2/SUCCEEDED_0.json' }).resolves(
      json([
        child({ sourceId: 'insights-1', status: 'ok', aggregatesKey: AGGREGATES_KEY }),
        child({
          sourceId: 'athena-fl-9',
          status: 'failed',
          error: {
            Error: 'AthenaQueryTimeoutError',
            Cause: 'Athena query q-9 still running after 1800000 ms: stopped',
          },
          errorKey: 'runs/run-1/errors/athena-fl-9.json',
        }),
      ]),
    );

    // Act
    const result = await handler({
      runId: 'run-1',
      inventoryKey: INVENTORY_KEY,
      queryResultsKey: manifestKey,
    });

    // Assess
    expect(result).toMatchObject({ failedSources: 1, bytesScanned: 4096 });
    const written = report();
    expect(written.securityGroups[0]?.rules.find((r) => r.fromPort === 443)?.usage.status).toBe('used');
    expect(written.warnings).toContainEqual({
      code: 'flow-source-failed',
      message:
        'flow source athena-fl-9 failed: AthenaQueryTimeoutError: Athena query q-9 still running after 1800000 ms: stopped',
    });
  });

  it('fails, naming the manifest, when the map run left child executions that did not succeed', async () => {
    // Prepare
    const { handler, s3, s3Sdk } = await loadAnalyze();
    const manifestKey = 'runs/run-1/query-results/c3/manifest.json';
    s3.on(s3Sdk.GetObjectCommand, { Key: manifestKey }).resolves(
      json({
        ResultFiles: { SUCCEEDED: [], FAILED: [{ Key: 'runs/run-1/query-results/c3/FAILED_0.json' }] },
      }),
    );

    // Act
    const run = handler({ runId: 'run-1', inventoryKey: INVENTORY_KEY, queryResultsKey: manifestKey });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'WorkStoreError', key: manifestKey });
    await expect(run).rejects.toThrow(/did not succeed: runs\/run-1\/query-results\/c3\/FAILED_0\.json/);
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
    s3.on(s3Sdk.GetObjectCommand, { Key: 'runs/run-1/aggregates/gone.json.gz' }).rejects(noSuchKey());

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

const SSH_FINDING = 'sensitive-port-world:sg-web/ingress/tcp/22-22/0.0.0.0/0';
const SUPPRESSIONS_KEY = 'config/suppressions.yaml';
const SUPPRESS_SSH = [
  'version: 1',
  'suppressions:',
  '  - id: bastion-ssh',
  '    owner: platform-team',
  '    reason: bastion by design',
  '    expires: 2099-12-31',
  '    match:',
  '      sgId: sg-web',
  '      check: sensitive-port-world',
].join('\n');

const event = (runId: string) => ({ runId, inventoryKey: INVENTORY_KEY, aggregateKeys: [AGGREGATES_KEY] });

describe('analyze handler, who opened a rule', () => {
  const HISTORY_KEY = 'runs/run-1/change-history.json.gz';
  const ALICE = 'arn:aws:sts::111122223333:assumed-role/Admin/alice';
  const PERIOD = { start: WINDOW.end - 90 * 86_400, end: WINDOW.end };
  const SSH_OPENED = authorizeEvent(
    { id: 'ev-ssh', time: '2026-11-03T09:12:44Z', caller: CALLERS.console(ALICE, '203.0.113.10') },
    'ingress',
    'sg-web',
    [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
  );

  /** The run's inventory naming the stored history, and the history discover stored (or none). */
  async function withStoredHistory(history: Record<string, unknown> | undefined) {
    const api = await loadAnalyze();
    const { s3, s3Sdk } = api;
    s3.on(s3Sdk.GetObjectCommand, { Key: INVENTORY_KEY }).resolves(
      gz({ ...storedInventory(), changeHistoryKey: HISTORY_KEY }),
    );
    if (history) {
      s3.on(s3Sdk.GetObjectCommand, { Key: HISTORY_KEY }).resolves(
        gz({ schemaVersion: 1, runId: 'run-1', history }),
      );
    }
    return api;
  }
  const event = { runId: 'run-1', inventoryKey: INVENTORY_KEY, aggregateKeys: [AGGREGATES_KEY] };

  it('attributes a rule from the stored change history, on the rule, its finding and the summary', async () => {
    // Prepare
    const { handler, report } = await withStoredHistory({
      source: 'cloudtrail-lookup',
      events: [SSH_OPENED],
      ...PERIOD,
      complete: true,
      warnings: [],
    });

    // Act
    await handler(event);

    // Assess: SSH is Alice's; HTTPS, which no event names, is older than the read history.
    const written = report();
    const rules = written.securityGroups[0]?.rules ?? [];
    expect(rules.find((r) => r.fromPort === 22)?.change).toMatchObject({
      kind: 'created',
      eventId: 'ev-ssh',
      principalArn: ALICE,
      channel: 'console',
      text: expect.stringContaining('assumed-role/Admin/alice via console'),
    });
    expect(rules.find((r) => r.fromPort === 443)?.change).toMatchObject({
      kind: 'before-history',
      historyStart: '2026-08-19T00:00:00Z',
    });
    const ssh = written.findings.find((f) => f.sgId === 'sg-web' && f.fromPort === 22);
    expect(ssh?.change?.eventId).toBe('ev-ssh');
    expect(written.changeHistory).toEqual({
      source: 'cloudtrail-lookup',
      start: '2026-08-19T00:00:00Z',
      end: '2026-11-17T00:00:00Z',
      complete: true,
      events: 1,
      attributedRules: 1,
      olderRules: 1,
      unknownRules: 0,
    });
  });

  it('warns as the CLI does and calls no rule older than the history when LookupEvents was denied', async () => {
    // Prepare
    const denied = [
      'LookupEvents for AuthorizeSecurityGroupIngress failed (AccessDeniedException: User is not authorized to perform: cloudtrail:LookupEvents): rules it may have changed are not attributed',
      'LookupEvents was not tried for AuthorizeSecurityGroupEgress, ModifySecurityGroupRules, CreateSecurityGroup, RevokeSecurityGroupIngress, RevokeSecurityGroupEgress after that failure',
    ];
    const { handler, report } = await withStoredHistory({
      source: 'cloudtrail-lookup',
      events: [],
      ...PERIOD,
      complete: false,
      warnings: denied,
    });

    // Act
    const result = await handler(event);

    // Assess
    const written = report();
    expect(result.reportJsonKey).toMatch(/run-1\/report\.json$/);
    expect(written.warnings.filter((w) => w.code === 'cloudtrail-history').map((w) => w.message)).toEqual(
      denied,
    );
    const kinds = (written.securityGroups[0]?.rules ?? []).map((r) => r.change?.kind);
    expect(kinds).toEqual(['unknown', 'unknown']);
    expect(written.securityGroups[0]?.rules[0]?.change?.reason).toBe(
      'the cloudtrail-lookup history was not read whole',
    );
    expect(written.changeHistory).toMatchObject({ complete: false, olderRules: 0, unknownRules: 2 });
  });

  it('goes on, every rule unknown and said why, when the stored history cannot be read', async () => {
    // Prepare: the inventory names a history object that is not there.
    const { handler, report } = await withStoredHistory(undefined);

    // Act
    await handler(event);

    // Assess
    const written = report();
    expect(written.warnings.filter((w) => w.code === 'cloudtrail-history').map((w) => w.message)).toEqual([
      expect.stringMatching(
        /^the change history discover stored cannot be read \(s3:\/\/sg-audit-work\/runs\/run-1\/change-history\.json\.gz: cannot read: NoSuchKey: .*\): who opened each rule is unknown$/,
      ),
    ]);
    expect((written.securityGroups[0]?.rules ?? []).every((r) => r.change?.kind === 'unknown')).toBe(true);
  });

  it('attributes nothing when discover read no history (CHANGE_HISTORY off)', async () => {
    // Prepare
    const { handler, report } = await loadAnalyze();

    // Act
    await handler(event);

    // Assess
    const written = report();
    expect(written.changeHistory).toBeUndefined();
    expect(written.securityGroups[0]?.rules.some((r) => r.change !== undefined)).toBe(false);
  });
});

describe('analyze handler week over week', () => {
  it('stores a first run with its changes and changes.csv', async () => {
    // Prepare
    const { handler, puts, report, body } = await loadAnalyze();

    // Act
    const result = await handler(event('run-1'));

    // Assess
    const written = report();
    expect(written.findings.some((f) => f.id === SSH_FINDING)).toBe(true);
    expect(written.changes).toMatchObject({ firstRun: true, worsened: true });
    expect(written.changes?.newFindingIds).toHaveLength(written.findings.length);
    expect(result.changes).toEqual({
      firstRun: true,
      worsened: true,
      newFindings: written.findings.length,
      worseFindings: 0,
      resurfacedFindings: 0,
      resolvedFindings: 0,
    });
    expect(result.actionableFindingsBySeverity).toEqual(written.summary.findingsBySeverity);
    const csv = puts().find((p) => p.Key?.endsWith('/changes.csv'));
    expect(csv?.ContentType).toBe('text/csv; charset=utf-8');
    expect(body('changes.csv')).toContain(`new,sensitive-port-world`);
    expect(result.securityHub).toBeUndefined();
  });

  it('compares with the latest stored run and finds nothing new when nothing changed', async () => {
    // Prepare
    const { handler, report, servePrevious } = await loadAnalyze();
    await handler(event('run-1'));
    servePrevious('run-1');

    // Act
    const result = await handler(event('run-2'));

    // Assess
    expect(report('run-2').changes).toMatchObject({
      firstRun: false,
      previousRunId: 'run-1',
      worsened: false,
      newFindingIds: [],
    });
    expect(result.changes).toMatchObject({ firstRun: false, worsened: false, newFindings: 0 });
  });

  it('counts a finding the previous run did not have as new', async () => {
    // Prepare
    const { handler, report, body, servePrevious } = await loadAnalyze();
    await handler(event('run-1'));
    servePrevious('run-1', (r) => ({ ...r, findings: r.findings.filter((f) => f.id !== SSH_FINDING) }));

    // Act
    const result = await handler(event('run-2'));

    // Assess
    expect(report('run-2').changes?.newFindingIds).toEqual([SSH_FINDING]);
    expect(result.changes).toMatchObject({ worsened: true, newFindings: 1 });
    const rows = body('changes.csv', 'run-2').trim().split(/\r?\n/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatch(/^new,sensitive-port-world,/);
  });

  it('compares with a previous report of another scope and says so', async () => {
    // Prepare
    const { handler, report, servePrevious } = await loadAnalyze();
    await handler(event('run-1'));
    servePrevious('run-1', (r) => ({ ...r, scope: { ...r.scope, ports: ['22'] } }));

    // Act
    await handler(event('run-2'));

    // Assess
    const written = report('run-2');
    expect(written.changes?.firstRun).toBe(false);
    expect(written.warnings).toContainEqual({
      code: 'previous-scope-differs',
      message: expect.stringContaining('audited ports 22 (now all)'),
    });
  });

  it('marks the findings the suppressions file accepts and leaves them out of the actionable counts', async () => {
    // Prepare
    const { handler, s3, s3Sdk, report } = await loadAnalyze({ SUPPRESSIONS_KEY });
    s3.on(s3Sdk.GetObjectCommand, { Key: SUPPRESSIONS_KEY }).resolves(text(SUPPRESS_SSH));

    // Act
    const result = await handler(event('run-1'));

    // Assess
    const ssh = report().findings.find((f) => f.id === SSH_FINDING);
    expect(ssh?.suppression).toMatchObject({ id: 'bastion-ssh', owner: 'platform-team', status: 'active' });
    const severity = ssh?.severity ?? 'info';
    expect(result.actionableFindingsBySeverity[severity]).toBe(result.findingsBySeverity[severity] - 1);
    expect(result.changes.newFindings).toBe(report().findings.length - 1);
  });

  it('goes on without a warning when the suppressions object is missing and nothing was accepted before', async () => {
    // Prepare
    const { handler, report } = await loadAnalyze({ SUPPRESSIONS_KEY });

    // Act
    await handler(event('run-1'));

    // Assess
    expect(report().findings.some((f) => f.suppression !== undefined)).toBe(false);
    expect(report().warnings.map((w) => w.code)).not.toContain('suppressions-missing');
  });

  it('warns when the suppressions object is gone but the previous run accepted findings', async () => {
    // Prepare
    const { handler, s3, s3Sdk, report, servePrevious } = await loadAnalyze({ SUPPRESSIONS_KEY });
    s3.on(s3Sdk.GetObjectCommand, { Key: SUPPRESSIONS_KEY }).resolves(text(SUPPRESS_SSH));
    await handler(event('run-1'));
    servePrevious('run-1');
    s3.on(s3Sdk.GetObjectCommand, { Key: SUPPRESSIONS_KEY }).rejects(noSuchKey());

    // Act
    const result = await handler(event('run-2'));

    // Assess
    expect(report('run-2').warnings).toContainEqual({
      code: 'suppressions-missing',
      message: `no suppressions file at s3://sg-audit-reports/${SUPPRESSIONS_KEY} (SUPPRESSIONS_KEY): the 1 finding(s) accepted in the previous run are no longer suppressed`,
      file: `s3://sg-audit-reports/${SUPPRESSIONS_KEY}`,
    });
    expect(result.changes).toMatchObject({ worsened: true, resurfacedFindings: 1 });
  });

  it('fails before the audit, naming the entry, when the suppressions file is malformed', async () => {
    // Prepare
    const { handler, s3, s3Sdk, puts } = await loadAnalyze({ SUPPRESSIONS_KEY });
    s3.on(s3Sdk.GetObjectCommand, { Key: SUPPRESSIONS_KEY }).resolves(
      text(SUPPRESS_SSH.replace('owner: platform-team', 'owner: ""')),
    );

    // Act
    const run = handler(event('run-1'));

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('suppressions[0] (bastion-ssh)'),
    });
    expect(puts()).toHaveLength(0);
    const reads = s3.commandCalls(s3Sdk.GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(reads).toEqual([SUPPRESSIONS_KEY]);
  });
});

describe('analyze handler egress allow-list', () => {
  const ALLOWLIST_KEY = 'config/egress-allowlist.yaml';
  const LOCATION = `s3://sg-audit-reports/${ALLOWLIST_KEY}`;

  /** The stored run with sg-web's egress open and eni-web calling a partner and an unknown address over HTTPS. */
  async function withEgress(env: Record<string, string> = { EGRESS_ALLOWLIST_KEY: ALLOWLIST_KEY }) {
    const api = await loadAnalyze(env);
    const { s3, s3Sdk } = api;
    const base = storedInventory();
    const built = new InventoryBuilder()
      .sg('sg-web', { name: 'web' })
      .ingress('sg-web', 'tcp', 22, '0.0.0.0/0')
      .ingress('sg-web', 'tcp', 443, '0.0.0.0/0')
      .egress('sg-web', 'tcp', 443, '0.0.0.0/0')
      .eni('eni-web', { sgIds: ['sg-web'] })
      .build();
    s3.on(s3Sdk.GetObjectCommand, { Key: INVENTORY_KEY }).resolves(
      gz({ ...base, inventory: { ...base.inventory, securityGroups: built.securityGroups } }),
    );
    const aggregates = storedAggregates();
    const outbound = (server: string, at: number) => [
      'eni-web',
      'ACCEPT',
      6,
      '10.0.0.10',
      server,
      443,
      null,
      'flags',
      2,
      1,
      1,
      12,
      4800,
      WINDOW.start + at,
      WINDOW.start + at + 30,
      1,
      'fl-cw',
      null,
    ];
    s3.on(s3Sdk.GetObjectCommand, { Key: AGGREGATES_KEY }).resolves(
      gz({
        ...aggregates,
        rows: [...aggregates.rows, outbound('203.0.113.25', 120), outbound('45.139.122.9', 180)],
      }),
    );
    return api;
  }

  const expectations = (written: AuditReport) =>
    written.egress?.destinations.map((d) => [d.destination, d.expected, d.allowListId]);

  it('passes the allow-list to the audit: an expected destination is not flagged, an unexpected one is', async () => {
    // Prepare
    const { handler, s3, s3Sdk, report } = await withEgress();
    s3.on(s3Sdk.GetObjectCommand, { Key: ALLOWLIST_KEY }).resolves(text(PARTNER_ALLOWLIST_YAML));

    // Act
    await handler(event('run-1'));

    // Assess
    const written = report();
    expect(expectations(written)).toEqual([
      ['45.139.122.0/24', 'no', undefined],
      ['203.0.113.0/24', 'yes', 'partner-api'],
    ]);
    expect(written.egress?.allowList).toMatchObject({ file: LOCATION, entries: 1, expired: [], unused: [] });
    const unexpected = written.findings.filter((f) => f.check === 'unexpected-egress');
    expect(unexpected).toHaveLength(1);
    expect(JSON.stringify(unexpected)).toContain('45.139.122.0/24');
    expect(JSON.stringify(unexpected)).not.toContain('203.0.113');
  });

  it('goes on with every destination unreviewed when the allow-list object is absent', async () => {
    // Prepare
    const { handler, s3, s3Sdk, report } = await withEgress();

    // Act
    await handler(event('run-1'));

    // Assess
    const written = report();
    expect(expectations(written)).toEqual([
      ['203.0.113.0/24', 'unreviewed', undefined],
      ['45.139.122.0/24', 'unreviewed', undefined],
    ]);
    expect(written.egress?.allowList).toBeUndefined();
    expect(written.findings.some((f) => f.check === 'unexpected-egress')).toBe(false);
    const reads = s3.commandCalls(s3Sdk.GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(reads).toContain(ALLOWLIST_KEY);
  });

  it('reads no allow-list when EGRESS_ALLOWLIST_KEY is unset', async () => {
    // Prepare
    const { handler, s3, s3Sdk, report } = await withEgress({});

    // Act
    await handler(event('run-1'));

    // Assess
    expect(report().egress?.destinations.every((d) => d.expected === 'unreviewed')).toBe(true);
    const reads = s3.commandCalls(s3Sdk.GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(reads).not.toContain(ALLOWLIST_KEY);
  });

  it('fails before the audit, naming the file and the entry, when the allow-list is malformed', async () => {
    // Prepare
    const { handler, s3, s3Sdk, puts } = await withEgress();
    s3.on(s3Sdk.GetObjectCommand, { Key: ALLOWLIST_KEY }).resolves(
      text(PARTNER_ALLOWLIST_YAML.replace('cidr: 203.0.113.0/24', 'cidr: partner')),
    );

    // Act
    const run = handler(event('run-1'));

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InputError',
      file: LOCATION,
      message: expect.stringContaining('destinations[0] (partner-api)'),
    });
    expect(puts()).toHaveLength(0);
    const reads = s3.commandCalls(s3Sdk.GetObjectCommand).map((c) => c.args[0].input.Key);
    expect(reads).toEqual([ALLOWLIST_KEY]);
  });
});

describe('analyze handler Security Hub export', () => {
  it('exports nothing when SECURITY_HUB_EXPORT is off', async () => {
    // Prepare
    const { handler, securityHub } = await loadAnalyze();

    // Act
    const result = await handler(event('run-1'));

    // Assess
    expect(securityHub.calls()).toHaveLength(0);
    expect(result.securityHub).toBeUndefined();
  });

  it('imports the stored report findings into the report account and region', async () => {
    // Prepare
    const { handler, securityHub, securityHubSdk, report } = await loadAnalyze({
      SECURITY_HUB_EXPORT: 'true',
    });
    securityHub.on(securityHubSdk.BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0 });

    // Act
    const result = await handler(event('run-1'));

    // Assess
    const findings = securityHub
      .commandCalls(securityHubSdk.BatchImportFindingsCommand)
      .flatMap((c) => c.args[0].input.Findings ?? []);
    expect(findings).toHaveLength(report().findings.length);
    expect(new Set(findings.map((f) => f.AwsAccountId))).toEqual(new Set(['111122223333']));
    expect(findings[0]?.ProductArn).toContain(':ap-northeast-2:');
    expect(result.securityHub).toEqual({
      imported: findings.length,
      archived: 0,
      workflowUpdates: 0,
      failed: 0,
    });
  });

  it('counts the findings Security Hub refused', async () => {
    // Prepare
    const { handler, securityHub, securityHubSdk } = await loadAnalyze({ SECURITY_HUB_EXPORT: 'true' });
    securityHub
      .on(securityHubSdk.BatchImportFindingsCommand)
      .callsFake((input: { Findings: { Id: string }[] }) => ({
        FailedFindings: [{ Id: input.Findings[0]?.Id, ErrorCode: 'InvalidInput', ErrorMessage: 'bad' }],
      }));

    // Act
    const result = await handler(event('run-1'));

    // Assess
    expect(result.securityHub?.failed).toBe(1);
    expect(result.securityHub?.error).toBeUndefined();
  });

  it('logs and counts a failed export without failing the stored run', async () => {
    // Prepare
    const { handler, securityHub, securityHubSdk, puts } = await loadAnalyze({ SECURITY_HUB_EXPORT: 'true' });
    securityHub
      .on(securityHubSdk.BatchImportFindingsCommand)
      .rejects(Object.assign(new Error('not subscribed'), { name: 'InvalidAccessException', $metadata: {} }));

    // Act
    const result = await handler(event('run-1'));

    // Assess
    expect(result.securityHub).toEqual({
      imported: 0,
      archived: 0,
      workflowUpdates: 0,
      failed: 0,
      error: expect.stringMatching(/^SecurityHubExportError: .*InvalidAccessException: not subscribed$/),
    });
    expect(puts().at(-1)?.Key).toMatch(/\/latest\.json$/);
  });
});
