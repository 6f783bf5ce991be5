import { gunzipSync, gzipSync } from 'node:zlib';
import type { QueryEvent } from '../../../lambdas/query/contract';
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

function event(query: Partial<QueryEvent['query']> = {}): QueryEvent {
  return {
    runId: 'run-1',
    inventoryKey: INVENTORY_KEY,
    window: WINDOW,
    query: {
      sourceId: 'insights-1',
      kind: 'insights',
      fields: [...DEFAULT_FIELDS],
      logGroups: ['/vpc/flow'],
      ...query,
    } as QueryEvent['query'],
  };
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
  const stored = (key: string): unknown => {
    const put = s3.commandCalls(s3Sdk.PutObjectCommand).find((c) => c.args[0].input.Key === key);
    return put
      ? JSON.parse(gunzipSync(Buffer.from(put.args[0].input.Body as Uint8Array)).toString())
      : undefined;
  };
  return { handler, logs, logsSdk, stored };
}

describe('query handler', () => {
  it('queries the ENIs its flow logs record and stores the aggregates', async () => {
    // Prepare
    const { handler, logs, logsSdk, stored } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(logsSdk.GetQueryResultsCommand)
      .resolves({ status: 'Complete', results: [], statistics: { bytesScanned: 2048, recordsMatched: 0 } });

    // Act
    const result = await handler(event());

    // Assess
    expect(result).toEqual({
      runId: 'run-1',
      sourceId: 'insights-1',
      aggregatesKey: 'runs/run-1/aggregates/insights-1.json.gz',
      eniCount: 1,
      rows: 0,
      records: 0,
      bytesScanned: 2048,
      queries: 1,
    });
    const start = logs.commandCalls(logsSdk.StartQueryCommand)[0]?.args[0].input;
    expect(start).toMatchObject({
      logGroupNames: ['/vpc/flow'],
      startTime: WINDOW.start,
      endTime: WINDOW.end,
    });
    expect(start?.queryString).toContain('eni-web');
    expect(start?.queryString).not.toContain('eni-other');
    expect(stored(result.aggregatesKey)).toMatchObject({
      sourceId: 'insights-1',
      rows: [],
      stats: { engine: 'logs-insights', bytesScanned: 2048 },
    });
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
    expect(result).toMatchObject({ eniCount: 0, queries: 0, rows: 0, bytesScanned: 0 });
    expect(logs.calls()).toHaveLength(0);
    expect(stored(result.aggregatesKey)).toMatchObject({
      rows: [],
      stats: { engine: 'athena', sources: ['fl-s3'] },
    });
  });

  it('throws the source’s typed error when the query fails', async () => {
    // Prepare
    const { handler, logs, logsSdk } = await loadQuery();
    logs.on(logsSdk.StartQueryCommand).rejects(
      Object.assign(new Error('log group does not exist'), {
        name: 'ResourceNotFoundException',
        $metadata: {},
      }),
    );

    // Act
    const run = handler(event());

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'FlowLogQueryFailedError' });
  });

  it('refuses an item whose flow logs the stored inventory does not hold', async () => {
    // Prepare
    const { handler } = await loadQuery();

    // Act
    const run = handler(event({ logGroups: ['/vpc/gone'] }));

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'QueryItemError' });
    await expect(run).rejects.toThrow('insights-1: the stored inventory has no flow log this item reads');
  });

  it('refuses an Athena item when Athena is not configured', async () => {
    // Prepare
    const { handler } = await loadQuery();

    // Act
    const run = handler({
      ...event(),
      query: { sourceId: 'athena-fl-cw', kind: 'athena', flowLogId: 'fl-cw', table: 'vpc_flow_logs_fl_cw' },
    });

    // Assess
    await expect(run).rejects.toThrow('athena-fl-cw: Athena is not configured (ATHENA_DATABASE)');
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
