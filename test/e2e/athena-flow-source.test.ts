/**
 * The Athena flow source against moto_server. Moto's Athena runs no SQL: it parses CREATE
 * DATABASE, and answers each started query with the next result registered through its API
 * (writing it as `<OutputLocation>/<id>.csv` when one is registered by then). So these tests
 * assert the plumbing — DDL and queries issued, results read from the S3 CSV or from
 * GetQueryResults, timeouts stopped — with the rows the real query would return; the query
 * semantics are tested through the SQL builders (test/shared/flow/*).
 */

import {
  AthenaClient,
  CreateWorkGroupCommand,
  GetDatabaseCommand,
  GetQueryExecutionCommand,
  ListQueryExecutionsCommand,
} from '@aws-sdk/client-athena';
import {
  CreateFlowLogsCommand,
  CreateVpcCommand,
  DescribeFlowLogsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AthenaQueryTimeoutError } from '../../adapters/aws/athena/errors';
import { AthenaFlowSource, type AthenaFlowSourceOptions } from '../../adapters/aws/athena/flow-source';
import { FLOW_SINGLE_PASS_COLUMNS } from '../../shared/flow/aggregate-sql';
import { type FlowLogTableSpec, flowLogTableSpec } from '../../shared/flow/athena-ddl';
import { flowLogsFile, flowLogsFromJson, validateAwsJson } from '../../shared/inventory/aws-json';
import type { FlowAggregate } from '../../shared/model/flow';
import { flowAggregate } from '../support/flow-records';
import { singlePassAggregateCells, singlePassFileCells, singlePassStatsCells } from '../support/flow-sql';
import { type MotoServer, motoClientConfig, startMoto } from '../support/moto';

const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-2';
const FLOW_BUCKET = 'sg-audit-flow-logs';
const RESULTS_BUCKET = 'sg-audit-athena-results';
const RESULTS = `s3://${RESULTS_BUCKET}/sg-audit/`;
const LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags}';
/** 2024-06-01T00:00:00Z */
const JUNE_1 = 1_717_200_000;
const WINDOW = { start: JUNE_1 + 8 * 3600, end: JUNE_1 + 12 * 3600 };
const ENI = 'eni-0a1b2c3d4e5f60718';
const TIMEOUT_ERROR_NAME = 'AthenaQueryTimeoutError';

const HTTPS = flowAggregate({
  eniId: ENI,
  clientAddr: '10.0.1.20',
  serverAddr: '10.0.1.10',
  evidence: 'flags',
  synRecords: 1,
  packets: 12,
  bytes: 4_800,
  firstSeen: JUNE_1 + 9 * 3600,
  lastSeen: JUNE_1 + 9 * 3600 + 42,
});
const UNDECIDED: FlowAggregate = {
  ...HTTPS,
  protocol: 17,
  clientAddr: '10.0.2.7',
  serverPort: 5353,
  clientPort: 40001,
  evidence: 'undecided',
  records: 1,
  synRecords: 0,
  requestRecords: 1,
  packets: 1,
  bytes: 90,
};

type Cell = string | number | null;

/** A row as GetQueryResults returns it: NULL has no VarCharValue. */
const row = (cells: readonly Cell[]) => ({
  Data: cells.map((c) => (c === null ? {} : { VarCharValue: String(c) })),
});

/**
 * The result the single-pass query would return: the header row, one row per aggregate, one per
 * ENI (its share of the records: all of them, here, as one ENI), then the totals row.
 */
function flowResult(
  aggregates: readonly FlowAggregate[],
  records: number,
  nodata: number,
  enis: readonly string[],
) {
  const stats = {
    records,
    nodata,
    skipdata: 0,
    incomplete: 0,
    oldest: WINDOW.start - 600,
    newest: WINDOW.end + 300,
  };
  return {
    rows: [
      row(FLOW_SINGLE_PASS_COLUMNS),
      ...aggregates.map((a) => row(singlePassAggregateCells(a))),
      ...enis.map((eni) => row(singlePassStatsCells('eni', eni, stats))),
      row(singlePassStatsCells('totals', null, stats)),
    ],
    column_info: FLOW_SINGLE_PASS_COLUMNS.map((name) => ({ Name: name, Type: 'varchar' })),
  };
}

let moto: MotoServer;
let athena: AthenaClient;
let s3: S3Client;
let spec: FlowLogTableSpec;

async function motoApi(path: string, body: object): Promise<void> {
  const response = await fetch(`${moto.endpoint}/moto-api/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`moto-api/${path} answered HTTP ${response.status}`);
}

/** Queues results for the next queries moto's Athena starts (or serves, when none was queued at start). */
function registerResults(...results: object[]): Promise<void> {
  return motoApi('static/athena/query-results', { account_id: ACCOUNT, region: REGION, results });
}

/** Makes moto's queries advance one state per GetQueryExecution after `times` polls (QUEUED → RUNNING → SUCCEEDED). */
function queryStatesAdvanceEvery(times: number): Promise<void> {
  return motoApi('state-manager/set-transition', {
    model_name: 'athena::execution',
    transition: { progression: 'manual', times },
  });
}

function queryStatesImmediate(): Promise<void> {
  return motoApi('state-manager/unset-transition', { model_name: 'athena::execution' });
}

/** Every query text moto's Athena has run, oldest first. */
async function queryTexts(workGroup?: string): Promise<string[]> {
  const { QueryExecutionIds = [] } = await athena.send(
    new ListQueryExecutionsCommand({ WorkGroup: workGroup }),
  );
  const texts: string[] = [];
  for (const id of QueryExecutionIds) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    texts.push(QueryExecution?.Query ?? '');
  }
  return texts;
}

function sourceWith(overrides: Partial<AthenaFlowSourceOptions> = {}): AthenaFlowSource {
  return new AthenaFlowSource({
    athena,
    s3,
    database: 'sg_audit',
    outputLocation: RESULTS,
    tables: [spec],
    // One query at a time: moto hands registered results out in the order queries start.
    maxConcurrentQueries: 1,
    pollIntervalMs: 5,
    ...overrides,
  });
}

beforeAll(async () => {
  moto = await startMoto();
  const config = motoClientConfig(moto.endpoint);
  athena = new AthenaClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  const ec2 = new EC2Client(config);
  for (const bucket of [FLOW_BUCKET, RESULTS_BUCKET]) {
    await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
  }
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc?.VpcId ?? '';
  // moto rejects a key prefix in an S3 destination: the bucket itself is the destination.
  const created = await ec2.send(
    new CreateFlowLogsCommand({
      ResourceIds: [vpcId],
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: `arn:aws:s3:::${FLOW_BUCKET}`,
      LogFormat: LOG_FORMAT,
    }),
  );
  if (created.FlowLogIds?.length !== 1)
    throw new Error(`moto created no flow log: ${JSON.stringify(created)}`);
  // The flow log as discovery maps it (DescribeFlowLogs JSON → FlowLogConfig), then its table.
  const described = JSON.parse(JSON.stringify(await ec2.send(new DescribeFlowLogsCommand({}))));
  const [flowLog] = flowLogsFromJson(validateAwsJson(flowLogsFile, described, 'DescribeFlowLogs'));
  if (flowLog === undefined) throw new Error('moto returned no flow log');
  spec = flowLogTableSpec(flowLog, ACCOUNT, REGION);
  // One object where AWS would deliver it (moto's Athena does not read it; the location must cover it).
  await s3.send(
    new PutObjectCommand({
      Bucket: FLOW_BUCKET,
      Key: `AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/2024/06/01/${ACCOUNT}_vpcflowlogs_${REGION}_${flowLog.id}_20240601T0910Z_0a1b2c3d.log.gz`,
      Body: 'not read by moto',
    }),
  );
  ec2.destroy();
});

afterEach(async () => {
  await queryStatesImmediate();
});

afterAll(async () => {
  athena?.destroy();
  s3?.destroy();
  await moto?.stop();
});

describe('AthenaFlowSource against moto', () => {
  it('creates the database and table over the flow log’s S3 location', async () => {
    // Prepare
    const source = sourceWith({ ensureTables: true });

    // Act
    const statements = await source.ensureTables();

    // Assess
    expect(statements).toBe(2);
    const database = await athena.send(
      new GetDatabaseCommand({ CatalogName: 'AwsDataCatalog', DatabaseName: 'sg_audit' }),
    );
    expect(database.Database?.Name).toBe('sg_audit');
    const [createDatabase, createTable] = await queryTexts();
    expect(createDatabase).toBe('CREATE DATABASE IF NOT EXISTS `sg_audit`');
    expect(createTable).toContain(`CREATE EXTERNAL TABLE IF NOT EXISTS \`sg_audit\`.\`${spec.table}\``);
    expect(createTable).toContain(`LOCATION "s3://${FLOW_BUCKET}/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/"`);
    expect(createTable).toContain('`tcp_flags` int');
    const delivered = await s3.send(
      new ListObjectsV2Command({
        Bucket: FLOW_BUCKET,
        Prefix: spec.location.replace(`s3://${FLOW_BUCKET}/`, ''),
      }),
    );
    expect(delivered.KeyCount).toBe(1);
  });

  it('reads the aggregates and statistics of one query per table from the CSV Athena writes to S3', async () => {
    // Prepare
    const warnings: string[] = [];
    const source = sourceWith({
      ensureTables: true,
      logger: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: () => {} },
    });
    await source.ensureTables();
    const before = (await queryTexts()).length;
    await registerResults(flowResult([HTTPS, UNDECIDED], 3, 1, [ENI]));

    // Act
    const { aggregates, stats } = await source.aggregate({ window: WINDOW, eniIds: [ENI] });

    // Assess
    expect(aggregates).toEqual([HTTPS, UNDECIDED]);
    expect(stats).toMatchObject({
      engine: 'athena',
      sources: [spec.flowLogId],
      records: 3,
      nodataRecords: 1,
      queries: 1,
      bytesScanned: 0,
      oldestRecord: WINDOW.start - 600,
      newestRecord: WINDOW.end + 300,
      enisWithRecords: [ENI],
      warnings: [],
    });
    const [sql, ...more] = (await queryTexts()).slice(before);
    expect(more).toEqual([]);
    expect(sql).toMatch(/^-- sg-audit flow aggregate and stats \(athena\)/);
    expect(sql?.split(`FROM "sg_audit"."${spec.table}"`)).toHaveLength(2);
    expect(sql).toContain("day BETWEEN '2024/06/01' AND '2024/06/01'");
    expect(sql).toContain(`interface_id IN ('${ENI}')`);
    const written = await s3.send(new ListObjectsV2Command({ Bucket: RESULTS_BUCKET, Prefix: 'sg-audit/' }));
    expect((written.Contents ?? []).filter((o) => o.Key?.endsWith('.csv'))).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('holds the objects read against S3’s list of its own objects in a folder shared with a Parquet flow log', async () => {
    // Prepare: a second object of the flow log (the first was put at start), and a Parquet flow
    // log's object in the same day folder; the query read the first object only.
    const folder = `AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/2024/06/01/`;
    const own = (hash: string) =>
      `${folder}${ACCOUNT}_vpcflowlogs_${REGION}_${spec.flowLogId}_20240601T0910Z_${hash}.log.gz`;
    for (const key of [
      own('9f8e7d6c'),
      `${folder}${ACCOUNT}_vpcflowlogs_${REGION}_fl-0fedcba987654321_20240601T0910Z_0a1b2c3d.log.parquet`,
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: FLOW_BUCKET, Key: key, Body: 'not read by moto' }));
    }
    // S3 dates objects to the second: one stored in the second the query starts is not held against it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const result = flowResult([HTTPS], 2, 0, [ENI]);
    const fileRow = row(singlePassFileCells(`s3://${FLOW_BUCKET}/${own('0a1b2c3d')}`, 2));
    const source = sourceWith({ ensureTables: true });
    await source.ensureTables();
    const before = (await queryTexts()).length;
    await registerResults({ ...result, rows: [...result.rows, fileRow] });

    // Act
    const { stats } = await source.aggregate({ window: WINDOW, eniIds: [ENI] });

    // Assess: two objects of its own delivered that day, one read; the Parquet log's is not its.
    const [sql] = (await queryTexts()).slice(before);
    expect(sql).toContain(`"$path" LIKE '%\\_${spec.flowLogId}\\_%' ESCAPE '\\'`);
    expect(stats.files).toBe(1);
    expect(stats.counters).toEqual([
      {
        kind: 's3-objects',
        flowLogIds: [spec.flowLogId],
        subject: `s3://${FLOW_BUCKET} objects of ${spec.flowLogId} delivered 2024-06-01`,
        bucketStart: JUNE_1,
        delivered: 2,
        read: 1,
      },
    ]);
  });

  it('reads GetQueryResults when the result CSV is not in S3', async () => {
    // Prepare: queries stay RUNNING for one poll; the results are registered only then, so moto
    // has written no CSV when the source looks for it.
    await queryStatesAdvanceEvery(1);
    const pending = [flowResult([HTTPS], 2, 0, [ENI])];
    const warnings: string[] = [];
    const source = sourceWith({
      sleep: async () => {
        const next = pending.shift();
        if (next !== undefined) await registerResults(next);
      },
      logger: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: () => {} },
    });

    // Act
    const { aggregates, stats } = await source.aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(aggregates).toEqual([HTTPS]);
    expect(stats).toMatchObject({ records: 2, nodataRecords: 0, enisWithRecords: [ENI], queries: 1 });
    expect(warnings).toEqual(['athena result CSV missing: reading GetQueryResults pages']);
    expect(pending).toEqual([]);
  });

  it('reads GetQueryResults when the workgroup, not the source, holds the output location', async () => {
    // Prepare
    await athena.send(
      new CreateWorkGroupCommand({
        Name: 'sg-audit',
        Configuration: { ResultConfiguration: { OutputLocation: `s3://${RESULTS_BUCKET}/workgroup/` } },
      }),
    );
    await registerResults(flowResult([UNDECIDED], 1, 0, [ENI]));
    const source = sourceWith({ outputLocation: undefined, workGroup: 'sg-audit' });

    // Act
    const { aggregates, stats } = await source.aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(aggregates).toEqual([UNDECIDED]);
    expect(stats.records).toBe(1);
    expect(await queryTexts('sg-audit')).toHaveLength(1);
  });

  it('stops a query that outlives the timeout', async () => {
    // Prepare: queries never leave QUEUED; the clock moves only with the source's sleeps.
    await queryStatesAdvanceEvery(1_000_000);
    let clock = 0;
    const source = sourceWith({
      queryTimeoutMs: 60_000,
      pollIntervalMs: 10_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
    });

    // Act
    const failure = await source.aggregate({ window: WINDOW, eniIds: [] }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(AthenaQueryTimeoutError);
    expect((failure as Error).name).toBe(TIMEOUT_ERROR_NAME);
    const { QueryExecution } = await athena.send(
      new GetQueryExecutionCommand({
        QueryExecutionId: (failure as AthenaQueryTimeoutError).queryExecutionId,
      }),
    );
    expect(QueryExecution?.Status?.State).toBe('CANCELLED');
  });
});
