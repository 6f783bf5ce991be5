import { gunzipSync, gzipSync } from 'node:zlib';
import type { QueryItem } from '../../../lambdas/query/contract';
import { DEFAULT_FIELDS } from '../../../shared/flow/format';
import type { StoredInventory } from '../../../shared/model/run';
import { flowLog, inventoryOf, networkInterface, WINDOW } from '../../../testkit/inventory-builder';
import { handlerColdStart } from '../../support/handler-cold-start';

const INVENTORY_KEY = 'runs/run-1/inventory.json.gz';

function storedInventory(): StoredInventory {
  return {
    schemaVersion: 1,
    runId: 'run-1',
    window: WINDOW,
    scope: { vpcIds: [] },
    inventory: inventoryOf({
      accountId: '111122223333',
      region: 'ap-northeast-2',
      networkInterfaces: [
        networkInterface('eni-web', { sgIds: ['sg-web'] }),
        networkInterface('eni-nat', { sgIds: [] }),
        networkInterface('eni-other', { sgIds: ['sg-web'], vpcId: 'vpc-2', subnetId: 'subnet-2' }),
      ],
      flowLogs: [
        flowLog('fl-cw', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/flow' }),
        flowLog('fl-s3', { resourceId: 'vpc-9' }),
      ],
    }),
    warnings: [],
    apiCalls: {},
    names: [],
    plan: { sources: [{ sourceId: 'insights-1', kind: 'insights', flowLogIds: ['fl-cw'] }], unqueried: [] },
  };
}

const BUDGET = { insights: 3600, athena: 1800 };

function event(query: Partial<QueryItem> = {}) {
  return {
    action: 'start' as const,
    runId: 'run-1',
    inventoryKey: INVENTORY_KEY,
    window: WINDOW,
    budgetSeconds: BUDGET,
    query: {
      sourceId: 'insights-1',
      kind: 'insights',
      fields: [...DEFAULT_FIELDS],
      logGroups: ['/vpc/flow'],
      ...query,
    } as QueryItem,
  };
}

/** The check that follows a running poll, as the state machine builds it. */
function checkOf(start: ReturnType<typeof event>, poll: unknown) {
  const { budgetSeconds: _, ...item } = start;
  return { ...item, action: 'check' as const, poll: JSON.parse(JSON.stringify(poll)) };
}

const coldStart = handlerColdStart({ WORK_BUCKET: 'sg-audit-work' });

/** Imports the handler afresh with `env` set first, its SDK clients mocked in the same module registry. */
async function loadQuery(env: Record<string, string> = {}) {
  coldStart(env);
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const logsSdk = await import('@aws-sdk/client-cloudwatch-logs');
  const s3 = mockClient(s3Sdk.S3Client);
  const logs = mockClient(logsSdk.CloudWatchLogsClient);
  const inventoryBytes = gzipSync(JSON.stringify(storedInventory()));
  s3.on(s3Sdk.GetObjectCommand, { Key: INVENTORY_KEY }).resolves({
    Body: { transformToByteArray: async () => new Uint8Array(inventoryBytes) } as never,
  });
  s3.on(s3Sdk.PutObjectCommand).resolves({});
  const { handler } = await import('../../../lambdas/query/handler');
  const putBody = (key: string): Buffer | undefined => {
    const put = s3.commandCalls(s3Sdk.PutObjectCommand).find((c) => c.args[0].input.Key === key);
    return put ? Buffer.from(put.args[0].input.Body as Uint8Array | string) : undefined;
  };
  const stored = (key: string): unknown => {
    const body = putBody(key);
    return body ? JSON.parse((key.endsWith('.gz') ? gunzipSync(body) : body).toString()) : undefined;
  };
  return { handler, logs, logsSdk, s3, s3Sdk, stored };
}

describe('query handler', () => {
  it('starts the query of the ENIs its flow logs record, then a check stores the aggregates', async () => {
    // Prepare
    const { handler, logs, logsSdk, stored } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(logsSdk.GetQueryResultsCommand)
      .resolves({ status: 'Complete', results: [], statistics: { bytesScanned: 2048, recordsMatched: 0 } });

    // Act
    const started = await handler(event());
    const result = await handler(checkOf(event(), started));

    // Assess: the start waited for nothing; the check found the query complete.
    expect(started).toMatchObject({
      status: 'running',
      polls: 0,
      eniCount: 1,
      job: { engine: 'logs-insights' },
    });
    expect(logs.commandCalls(logsSdk.GetQueryResultsCommand)).toHaveLength(1);
    expect(result).toEqual({
      status: 'done',
      runId: 'run-1',
      sourceId: 'insights-1',
      aggregatesKey: 'runs/run-1/aggregates/insights-1.json.gz',
      eniCount: 1,
      rows: 0,
      records: 0,
      bytesScanned: 2048,
      queries: 1,
      outcome: {
        sourceId: 'insights-1',
        status: 'ok',
        aggregatesKey: 'runs/run-1/aggregates/insights-1.json.gz',
      },
    });
    const start = logs.commandCalls(logsSdk.StartQueryCommand)[0]?.args[0].input;
    expect(start).toMatchObject({
      logGroupNames: ['/vpc/flow'],
      startTime: WINDOW.start,
      endTime: WINDOW.end,
    });
    expect(start?.queryString).toContain('eni-web');
    expect(start?.queryString).not.toContain('eni-other');
    expect(stored('runs/run-1/aggregates/insights-1.json.gz')).toMatchObject({
      sourceId: 'insights-1',
      rows: [],
      stats: { engine: 'logs-insights', bytesScanned: 2048 },
    });
  });

  it('answers a check of a query still running with the next poll, counting it', async () => {
    // Prepare
    const { handler, logs, logsSdk } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(logsSdk.GetQueryResultsCommand).resolves({ status: 'Running' });
    const started = await handler(event());

    // Act
    const checked = await handler(checkOf(event(), started));

    // Assess
    expect(checked).toMatchObject({
      status: 'running',
      polls: 1,
      job: { running: [{ queryId: 'q-1', polls: 1 }] },
    });
    expect(logs.commandCalls(logsSdk.StartQueryCommand)).toHaveLength(1);
  });

  it('stores an empty result without querying when no ENI is in reach', async () => {
    // Prepare
    const { handler, logs, stored } = await loadQuery();

    // Act: fl-s3 records vpc-9, where no ENI is.
    const result = await handler({
      ...event(),
      query: { sourceId: 'athena-fl-s3', kind: 'athena', flowLogId: 'fl-s3', table: 'vpc_flow_logs_fl_s3' },
    });

    // Assess
    expect(result).toMatchObject({ status: 'done', eniCount: 0, queries: 0, rows: 0, bytesScanned: 0 });
    expect(logs.calls()).toHaveLength(0);
    expect(stored('runs/run-1/aggregates/athena-fl-s3.json.gz')).toMatchObject({
      rows: [],
      stats: { engine: 'athena', sources: ['fl-s3'] },
    });
  });

  it('answers the source’s typed error as a failed item, bounded, with the whole error stored under the run', async () => {
    // Prepare: 50 long log-group names make the error's message long.
    const { handler, logs, logsSdk, stored } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).rejects(
      Object.assign(new Error('log group does not exist'), {
        name: 'ResourceNotFoundException',
        $metadata: {},
      }),
    );

    // Act
    const result = await handler(event());

    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      outcome: {
        sourceId: 'insights-1',
        status: 'failed',
        error: {
          Error: 'FlowLogQueryFailedError',
          Cause: expect.stringContaining('StartQuery on /vpc/flow failed'),
        },
        errorKey: 'runs/run-1/errors/insights-1.json',
      },
    });
    const whole = stored('runs/run-1/errors/insights-1.json');
    expect(whole).toMatchObject({
      runId: 'run-1',
      sourceId: 'insights-1',
      error: {
        name: 'FlowLogQueryFailedError',
        logGroups: ['/vpc/flow'],
        stack: expect.stringContaining('FlowLogQueryFailedError'),
        cause: { name: 'ResourceNotFoundException' },
      },
    });
  });

  it('keeps at most 500 characters of a long cause in state and says where the whole error is', async () => {
    // Prepare
    const { handler } = await loadQuery();
    const long = Array.from({ length: 50 }, (_, i) => `/aws/vpc/flow-logs/${'x'.repeat(80)}-${i}`);

    // Act: the inventory holds none of these log groups.
    const result = await handler(event({ logGroups: long }));

    // Assess
    const outcome = (result as { outcome: { error: { Error: string; Cause: string } } }).outcome;
    expect(outcome.error.Error).toBe('QueryItemError');
    expect(outcome.error.Cause.length).toBeLessThanOrEqual(500);
    expect(outcome.error.Cause).toMatch(/\(whole error: runs\/run-1\/errors\/insights-1\.json\)$/);
  });

  it("stops the item's query and fails it with FlowLogQueryTimeoutError once its budget is spent", async () => {
    // Prepare
    const { handler, logs, logsSdk } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(logsSdk.GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(logsSdk.StopQueryCommand).resolves({ success: true });
    const started = (await handler(event())) as { job: { deadline: number }; deadline: number };
    const spent = { ...started, deadline: 1, job: { ...started.job, deadline: 1 } };

    // Act
    const result = await handler(checkOf(event(), spent));

    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      outcome: { status: 'failed', error: { Error: 'FlowLogQueryTimeoutError' } },
    });
    expect(logs.commandCalls(logsSdk.StopQueryCommand).map((c) => c.args[0].input)).toEqual([
      { queryId: 'q-slow' },
    ]);
  });

  it('records a failure the workflow caught: stops the running job and stores the whole error', async () => {
    // Prepare
    const { handler, logs, logsSdk, stored } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(logsSdk.StopQueryCommand).resolves({ success: true });
    const poll = await handler(event());
    const cause = JSON.stringify({
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after 900.00 seconds ${'.'.repeat(2000)}`,
      trace: ['at a', 'at b'],
    });

    // Act
    const outcome = await handler({
      action: 'record-failure',
      runId: 'run-1',
      query: event().query,
      poll,
      error: { Error: 'Sandbox.Timedout', Cause: cause },
    });

    // Assess
    expect(outcome).toMatchObject({
      sourceId: 'insights-1',
      status: 'failed',
      error: {
        Error: 'Sandbox.Timedout',
        Cause: expect.stringMatching(/^Task timed out after 900.00 seconds/),
      },
      errorKey: 'runs/run-1/errors/insights-1.json',
    });
    expect((outcome as { error: { Cause: string } }).error.Cause.length).toBeLessThanOrEqual(500);
    expect(logs.commandCalls(logsSdk.StopQueryCommand).map((c) => c.args[0].input)).toEqual([
      { queryId: 'q-1' },
    ]);
    expect(stored('runs/run-1/errors/insights-1.json')).toMatchObject({
      error: { Error: 'Sandbox.Timedout', Cause: cause },
    });
  });

  it('records a failure caught before the item started without stopping anything', async () => {
    // Prepare
    const { handler, logs } = await loadQuery();

    // Act
    const outcome = await handler({
      action: 'record-failure',
      runId: 'run-1',
      query: event().query,
      poll: { status: 'starting' },
      error: { Error: 'Lambda.TooManyRequestsException', Cause: 'Rate exceeded' },
    });

    // Assess
    expect(outcome).toMatchObject({ status: 'failed', error: { Error: 'Lambda.TooManyRequestsException' } });
    expect(logs.calls()).toHaveLength(0);
  });

  it('throws a throttled start for the workflow to retry, instead of failing the item', async () => {
    // Prepare
    const { handler, s3, s3Sdk } = await loadQuery();
    s3.on(s3Sdk.GetObjectCommand).rejects(
      Object.assign(new Error('Please reduce your request rate'), { name: 'SlowDown' }),
    );

    // Act
    const run = handler(event());

    // Assess: thrown by the AWS name the workflow's Retry matches.
    await expect(run).rejects.toMatchObject({ name: 'SlowDown' });
  });

  it('refuses an item whose flow logs the stored inventory does not hold', async () => {
    // Prepare
    const { handler } = await loadQuery();

    // Act
    const result = await handler(event({ logGroups: ['/vpc/gone'] }));

    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      outcome: {
        error: {
          Error: 'QueryItemError',
          Cause: expect.stringContaining('insights-1: the stored inventory has no flow log this item reads'),
        },
      },
    });
  });

  it('refuses an Athena item when Athena is not configured', async () => {
    // Prepare
    const { handler } = await loadQuery();

    // Act
    const result = await handler({
      ...event(),
      query: { sourceId: 'athena-fl-cw', kind: 'athena', flowLogId: 'fl-cw', table: 'vpc_flow_logs_fl_cw' },
    });

    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      outcome: {
        error: { Cause: expect.stringContaining('athena-fl-cw: Athena is not configured (ATHENA_DATABASE)') },
      },
    });
  });

  it('rejects an event whose item is of no known kind', async () => {
    // Prepare
    const { handler, logs } = await loadQuery();

    // Act
    const run = handler({ ...event(), query: { sourceId: 'x', kind: 'firehose' } } as never);

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InvalidEventError', fields: ['query.kind'] });
    expect(logs.calls()).toHaveLength(0);
  });
});
