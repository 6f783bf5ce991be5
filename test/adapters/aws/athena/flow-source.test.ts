import { Readable } from 'node:stream';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  type GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
  StopQueryExecutionCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  AthenaResultFormatError,
} from '../../../../adapters/aws/athena/errors';
import { AthenaFlowSource, type AthenaFlowSourceOptions } from '../../../../adapters/aws/athena/flow-source';
import type { AthenaFlowTable } from '../../../../adapters/aws/athena/flow-tables';
import { InvalidValueError } from '../../../../shared/errors';
import { buildFlowSinglePassSql, FLOW_SINGLE_PASS_COLUMNS } from '../../../../shared/flow/aggregate-sql';
import { InvalidAthenaIdentifierError, windowPartitionFilter } from '../../../../shared/flow/athena-ddl';
import { DEFAULT_FIELDS } from '../../../../shared/flow/format';
import type { DeliveryCount } from '../../../../shared/model/delivery';
import type { FlowAggregate, FlowQuery } from '../../../../shared/model/flow';
import { flowAggregate } from '../../../support/flow-records';
import {
  type SinglePassTotals,
  type SqlCell,
  singlePassAggregateCells,
  singlePassDeliveryCells,
  singlePassFileCells,
  singlePassStatsCells,
} from '../../../support/flow-sql';

/** 2024-06-01T00:00:00Z */
const JUNE_1 = 1_717_200_000;
const WINDOW = { start: JUNE_1 + 8 * 3600, end: JUNE_1 + 12 * 3600 };
const QUERY: FlowQuery = { window: WINDOW, eniIds: [] };
const RESULTS = 's3://audit-results/athena/';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const FIELDS = [...DEFAULT_FIELDS, 'tcp-flags'];

const athenaMock = mockClient(AthenaClient);
const s3Mock = mockClient(S3Client);

const TABLE: AthenaFlowTable = {
  flowLogId: 'fl-1',
  table: 'vpc_flow_logs_fl_1',
  fields: FIELDS,
  perHour: false,
  location: 's3://flow-logs/AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/',
  projectionStart: '2024/01/01',
};

const AGGREGATE = flowAggregate({
  eniId: 'eni-a',
  clientAddr: '10.0.0.5',
  serverAddr: '10.0.0.9',
  evidence: 'flags',
  synRecords: 1,
  packets: 5,
  bytes: 3_000_000_180,
  firstSeen: JUNE_1 + 9 * 3600,
  lastSeen: JUNE_1 + 9 * 3600 + 30,
});

/** Athena's CSV quoting: every value quoted, NULL as nothing. */
function csvLine(values: readonly (string | number | null)[]): string {
  return values.map((v) => (v === null ? '' : `"${String(v).replaceAll('"', '""')}"`)).join(',');
}

type Cell = SqlCell;
type Totals = SinglePassTotals;
const aggregateCells = singlePassAggregateCells;
const statsCells = singlePassStatsCells;

/** An ENI's share of the counts: one record, nothing else. */
const ONE_RECORD: Totals = { records: 1, nodata: 0, skipdata: 0, incomplete: 0, oldest: null, newest: null };

/** The single-pass query's result: aggregate rows, ENI rows (each ONE_RECORD unless given), the totals row. */
function resultCsv(
  aggregates: readonly FlowAggregate[],
  totals: Totals,
  enis: readonly (string | [string, Totals])[],
  deliveries: readonly DeliveryCount[] = [],
): string {
  return `${[
    csvLine(FLOW_SINGLE_PASS_COLUMNS),
    ...aggregates.map((a) => csvLine(aggregateCells(a))),
    ...deliveries.map((d) => csvLine(singlePassDeliveryCells(d))),
    ...enis.map((e) =>
      csvLine(typeof e === 'string' ? statsCells('eni', e, ONE_RECORD) : statsCells('eni', ...e)),
    ),
    csvLine(statsCells('totals', null, totals)),
  ].join('\n')}\n`;
}

const TOTALS: Totals = {
  records: 2,
  nodata: 1,
  skipdata: 0,
  incomplete: 0,
  oldest: JUNE_1 + 7 * 3600,
  newest: JUNE_1 + 13 * 3600,
};

/** A GetObject body streamed in chunks of `size` bytes (splitting quotes and rows anywhere). */
function bodyOf(text: string, size = 7) {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return { Body: Readable.from(chunks) } as never;
}

function execution(
  id: string,
  state: QueryExecutionState,
  extra: { scanned?: number; reason?: string; location?: string | null } = {},
): GetQueryExecutionCommandOutput {
  return {
    $metadata: {},
    QueryExecution: {
      QueryExecutionId: id,
      Status: { State: state, StateChangeReason: extra.reason },
      Statistics: { DataScannedInBytes: extra.scanned ?? 0 },
      ...(extra.location === null
        ? {}
        : { ResultConfiguration: { OutputLocation: extra.location ?? `${RESULTS}${id}.csv` } }),
    },
  };
}

function startInputs(): StartQueryExecutionCommandInput[] {
  return athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
}

function kindOf(sql: string): 'aggregate' | 'database' | 'table' {
  if (sql.startsWith('-- sg-audit flow aggregate and stats')) return 'aggregate';
  if (sql.startsWith('CREATE DATABASE')) return 'database';
  return 'table';
}

/**
 * Athena that runs every query at once: ids `<table>-<kind>-<n>`, the given bytes scanned per
 * query (DDL: none), and the given result CSV in S3 for every query.
 */
function succeedingAthena(csv: string, scanned = 0): void {
  let started = 0;
  athenaMock.on(StartQueryExecutionCommand).callsFake((input: StartQueryExecutionCommandInput) => {
    started += 1;
    const table = /"sg_audit"\."([a-z0-9_]+)"/.exec(input.QueryString ?? '')?.[1] ?? 'ddl';
    return { QueryExecutionId: `${table}-${kindOf(input.QueryString ?? '')}-${started}` };
  });
  athenaMock.on(GetQueryExecutionCommand).callsFake(({ QueryExecutionId }: { QueryExecutionId: string }) =>
    execution(QueryExecutionId, 'SUCCEEDED', {
      scanned: QueryExecutionId.includes('-aggregate-') ? scanned : 0,
    }),
  );
  s3Mock.on(GetObjectCommand).callsFake(() => bodyOf(csv));
}

function sourceWith(overrides: Partial<AthenaFlowSourceOptions> = {}) {
  const sleeps: number[] = [];
  let clock = 1_000_000;
  const source = new AthenaFlowSource({
    athena: new AthenaClient({ region: 'ap-northeast-2', credentials: CREDENTIALS }),
    s3: new S3Client({ region: 'ap-northeast-2', credentials: CREDENTIALS }),
    database: 'sg_audit',
    workGroup: 'sg-audit',
    outputLocation: RESULTS,
    tables: [TABLE],
    pollIntervalMs: 500,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => clock,
    ...overrides,
  });
  return { source, sleeps };
}

beforeEach(() => {
  athenaMock.reset();
  s3Mock.reset();
  // The flow log's day folders hold no objects unless a test lists some (the S3 object counters).
  s3Mock.on(ListObjectsV2Command).resolves({});
});

describe('AthenaFlowSource.aggregate', () => {
  const FOLDER = 'AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2024/06/01/';
  const objectKey = (flowLogId: string, hash: string) =>
    `${FOLDER}123456789012_vpcflowlogs_ap-northeast-2_${flowLogId}_20240601T0910Z_${hash}.log.gz`;
  /** The result CSV with `file` rows naming these objects. */
  const withFiles = (csv: string, keys: readonly string[]) =>
    `${csv}${keys.map((key) => csvLine(singlePassFileCells(`s3://flow-logs/${key}`, 2))).join('\n')}\n`;

  it('reads only its flow log’s objects and holds those read against S3’s list of them', async () => {
    // Prepare: three objects of fl-1 listed before the query (one not read), one stored while it
    // ran, and one of another flow log in the same folder.
    const before = new Date(0);
    succeedingAthena(
      withFiles(resultCsv([AGGREGATE], TOTALS, ['eni-a']), [
        objectKey('fl-1', 'a1'),
        objectKey('fl-1', 'a2'),
      ]),
    );
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: objectKey('fl-1', 'a1'), Size: 10, LastModified: before },
        { Key: objectKey('fl-1', 'a2'), Size: 10, LastModified: before },
        { Key: objectKey('fl-1', 'a3'), Size: 10, LastModified: before },
        { Key: objectKey('fl-1', 'a4'), Size: 10, LastModified: new Date(2_000_000) },
        { Key: objectKey('fl-2', 'b1'), Size: 10, LastModified: before },
      ],
    });
    const { source } = sourceWith();

    // Act
    const { stats } = await source.aggregate(QUERY);

    // Assess
    const [sql] = startInputs().map((i) => i.QueryString ?? '');
    expect(sql).toContain(`AND "$path" LIKE '%\\_fl-1\\_%' ESCAPE '\\'`);
    expect(sql).toContain('CAST("$path" AS VARCHAR) AS source_file');
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'flow-logs', Prefix: FOLDER },
    ]);
    expect(stats.files).toBe(2);
    expect(stats.counters).toEqual([
      {
        kind: 's3-objects',
        flowLogIds: ['fl-1'],
        subject: 's3://flow-logs objects of fl-1 delivered 2024-06-01',
        bucketStart: JUNE_1,
        delivered: 3,
        read: 2,
      },
    ]);
    expect(stats.warnings).toEqual([]);
  });

  it.each([
    ['denied', Object.assign(new Error('Access Denied'), { name: 'AccessDenied' })],
    ['throttled', Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' })],
  ])('keeps the records’ proof and says so when the object listing is %s', async (_what, error) => {
    // Prepare
    succeedingAthena(withFiles(resultCsv([AGGREGATE], TOTALS, ['eni-a']), [objectKey('fl-1', 'a1')]));
    s3Mock.on(ListObjectsV2Command).rejects(error);
    const { source } = sourceWith();

    // Act
    const { aggregates, stats } = await source.aggregate(QUERY);

    // Assess
    expect(aggregates).toEqual([AGGREGATE]);
    expect(stats.counters).toBeUndefined();
    expect(stats.warnings).toEqual([
      `flow log fl-1: its S3 objects were not counted (${error.name}: ${error.message}); delivery rests on its records alone`,
    ]);
  });

  it('counts no objects when told not to (no listing)', async () => {
    // Prepare
    succeedingAthena(withFiles(resultCsv([], TOTALS, []), [objectKey('fl-1', 'a1')]));
    const { source } = sourceWith({ countObjects: false });

    // Act
    const { stats } = await source.aggregate(QUERY);

    // Assess
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(0);
    expect(stats.counters).toBeUndefined();
    expect(stats.files).toBe(1);
  });

  it('runs one query per table and reads its aggregates and statistics from the result CSV in S3', async () => {
    // Prepare
    const delivery = { flowLogId: 'fl-1', eniId: 'eni-a', bucketStart: 1717200000, records: 3 };
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a', 'eni-b'], [delivery]), 20_000_000);
    const { source } = sourceWith();

    // Act
    const { aggregates, stats } = await source.aggregate(QUERY);

    // Assess
    expect(aggregates).toEqual([AGGREGATE]);
    expect(stats).toEqual({
      engine: 'athena',
      sources: ['fl-1'],
      files: 0,
      records: 2,
      nodataRecords: 1,
      skipdataRecords: 0,
      malformedRecords: 0,
      malformedSamples: [],
      queries: 1,
      bytesScanned: 20_000_000,
      newestRecord: TOTALS.newest,
      oldestRecord: TOTALS.oldest,
      enisWithRecords: ['eni-a', 'eni-b'],
      warnings: [],
      deliveries: [delivery],
      flowLogIds: ['fl-1'],
      otherEnis: [],
    });
    const inputs = startInputs();
    expect(inputs.map((i) => kindOf(i.QueryString ?? ''))).toEqual(['aggregate']);
    for (const input of inputs) {
      expect(input).toMatchObject({
        WorkGroup: 'sg-audit',
        ResultConfiguration: { OutputLocation: RESULTS },
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'sg_audit' },
        ClientRequestToken: expect.any(String),
      });
      expect(input.QueryString?.split('FROM "sg_audit"."vpc_flow_logs_fl_1"')).toHaveLength(2);
      expect(input.QueryString).toContain("day BETWEEN '2024/06/01' AND '2024/06/01'");
      expect(input.QueryString).toContain("CAST('fl-1' AS VARCHAR) AS flow_log_id");
    }
    expect(inputs[0]?.QueryString).toContain('bitwise_and(flags, 18)');
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'audit-results', Key: 'athena/vpc_flow_logs_fl_1-aggregate-1.csv' },
    ]);
    expect(athenaMock.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  // An empty scan sums nothing: the totals row holds NULLs (or, should an engine drop the empty
  // grouping set's row, there is none).
  const nothing: Totals = {
    records: null,
    nodata: null,
    skipdata: null,
    incomplete: null,
    oldest: null,
    newest: null,
  };
  it.each([
    ['a totals row of NULLs', resultCsv([], nothing, [])],
    ['no totals row', `${csvLine(FLOW_SINGLE_PASS_COLUMNS)}\n`],
  ])('returns no aggregates and zero counts when the window holds no records (%s)', async (_what, csv) => {
    // Prepare
    succeedingAthena(csv);
    const { source } = sourceWith();

    // Act
    const { aggregates, stats } = await source.aggregate(QUERY);

    // Assess
    expect(aggregates).toEqual([]);
    expect(stats).toMatchObject({
      records: 0,
      nodataRecords: 0,
      enisWithRecords: [],
      queries: 1,
      warnings: [],
    });
    expect(stats.newestRecord).toBeUndefined();
    expect(stats.oldestRecord).toBeUndefined();
  });

  it('passes the ENI scope, the port ranges and per-hour Hive partitions into the SQL', async () => {
    // Prepare
    succeedingAthena(resultCsv([], TOTALS, []));
    const { source } = sourceWith({ tables: [{ ...TABLE, perHour: true, hivePartitions: true }] });

    // Act
    await source.aggregate({ window: WINDOW, eniIds: ['eni-a', 'eni-b'], ports: [{ from: 22, to: 22 }] });

    // Assess
    const [aggregate, ...more] = startInputs().map((i) => i.QueryString ?? '');
    expect(more).toEqual([]);
    expect(aggregate).toContain("interface_id IN ('eni-a', 'eni-b')");
    expect(aggregate).toContain('server_port BETWEEN 22 AND 22');
    expect(aggregate).toContain(
      "day BETWEEN 'year=2024/month=06/day=01' AND 'year=2024/month=06/day=01' AND (day > 'year=2024/month=06/day=01' OR hour >= 8) AND (day < 'year=2024/month=06/day=01' OR hour <= 13)",
    );
  });

  it('sums DataScannedInBytes and queries over every table', async () => {
    // Prepare
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a']), 1_250);
    const { source } = sourceWith({
      tables: [TABLE, { ...TABLE, flowLogId: 'fl-2', table: 'vpc_flow_logs_fl_2' }],
    });

    // Act
    const { aggregates, stats } = await source.aggregate(QUERY);

    // Assess
    expect(stats.bytesScanned).toBe(2_500);
    expect(stats.queries).toBe(2);
    expect(stats.records).toBe(4);
    expect(stats.sources).toEqual(['fl-1', 'fl-2']);
    expect(stats.enisWithRecords).toEqual(['eni-a']);
    expect(aggregates).toEqual([AGGREGATE, AGGREGATE]);
  });

  it('retries a throttled StartQueryExecution with backoff', async () => {
    // Prepare
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a']));
    const throttle = () =>
      new TooManyRequestsException({ message: 'too many active queries', $metadata: {} });
    const succeed = athenaMock.on(StartQueryExecutionCommand);
    succeed
      .rejectsOnce(throttle())
      .rejectsOnce(throttle())
      .callsFake((input: StartQueryExecutionCommandInput) => ({
        QueryExecutionId: `vpc_flow_logs_fl_1-${kindOf(input.QueryString ?? '')}-9`,
      }));
    const { source, sleeps } = sourceWith({ maxConcurrentQueries: 1, throttleBaseDelayMs: 100 });

    // Act
    const { aggregates } = await source.aggregate(QUERY);

    // Assess
    expect(aggregates).toEqual([AGGREGATE]);
    expect(sleeps).toEqual([100, 200]);
    const tokens = startInputs().map((i) => i.ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
  });

  it('gives up with the throttling error after the last attempt', async () => {
    // Prepare
    athenaMock
      .on(StartQueryExecutionCommand)
      .rejects(new TooManyRequestsException({ message: 'too many active queries', $metadata: {} }));
    const { source, sleeps } = sourceWith({ maxConcurrentQueries: 1, throttleAttempts: 3 });

    // Act
    const act = source.aggregate(QUERY);

    // Assess
    await expect(act).rejects.toThrow(TooManyRequestsException);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('throws AthenaQueryFailedError with the StateChangeReason when a query fails', async () => {
    // Prepare
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('q-1', 'RUNNING'))
      .resolves(
        execution('q-1', 'FAILED', { reason: "TABLE_NOT_FOUND: Table 'vpc_flow_logs_fl_1' does not exist" }),
      );
    const { source, sleeps } = sourceWith({ maxConcurrentQueries: 1 });

    // Act
    const act = source.aggregate(QUERY);

    // Assess
    await expect(act).rejects.toThrow(AthenaQueryFailedError);
    await expect(source.aggregate(QUERY)).rejects.toMatchObject({
      name: 'AthenaQueryFailedError',
      queryExecutionId: 'q-1',
      state: 'FAILED',
      stateChangeReason: "TABLE_NOT_FOUND: Table 'vpc_flow_logs_fl_1' does not exist",
    });
    expect(sleeps[0]).toBe(500);
  });

  it('stops a query that outlives the timeout and throws AthenaQueryTimeoutError', async () => {
    // Prepare
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('q-slow', 'RUNNING'));
    athenaMock.on(StopQueryExecutionCommand).resolves({});
    const { source, sleeps } = sourceWith({ maxConcurrentQueries: 1, queryTimeoutMs: 2_000 });

    // Act
    const act = source.aggregate(QUERY);

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'AthenaQueryTimeoutError',
      queryExecutionId: 'q-slow',
      timeoutMs: 2_000,
    });
    expect(athenaMock.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { QueryExecutionId: 'q-slow' },
    ]);
    expect(sleeps).toEqual([500, 500, 500, 500]);
  });

  it('still reports the timeout when stopping the query fails', async () => {
    // Prepare
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('q-slow', 'QUEUED'));
    athenaMock.on(StopQueryExecutionCommand).rejects(new Error('AccessDenied'));
    const errors: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => errors.push(m) };
    const { source } = sourceWith({ maxConcurrentQueries: 1, queryTimeoutMs: 1_000, logger });

    // Act
    const act = source.aggregate(QUERY);

    // Assess
    await expect(act).rejects.toThrow(AthenaQueryTimeoutError);
    expect(errors).toEqual(['athena query timed out and could not be stopped']);
  });

  it('reads GetQueryResults pages when the result CSV is missing', async () => {
    // Prepare
    succeedingAthena('');
    s3Mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const row = (values: readonly Cell[]) => ({
      Data: values.map((v) => (v === null ? {} : { VarCharValue: String(v) })),
    });
    const columnInfo = FLOW_SINGLE_PASS_COLUMNS.map((Name) => ({ Name, Type: 'varchar' }));
    const second = { ...AGGREGATE, clientAddr: '10.0.0.6' };
    athenaMock
      .on(GetQueryResultsCommand, {
        QueryExecutionId: 'vpc_flow_logs_fl_1-aggregate-1',
        NextToken: undefined,
      })
      .resolves({
        ResultSet: {
          Rows: [row(FLOW_SINGLE_PASS_COLUMNS), row(aggregateCells(AGGREGATE))],
          ResultSetMetadata: { ColumnInfo: columnInfo },
        },
        NextToken: 'page-2',
      })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'vpc_flow_logs_fl_1-aggregate-1', NextToken: 'page-2' })
      .resolves({
        ResultSet: {
          Rows: [
            row(aggregateCells(second)),
            row(statsCells('eni', 'eni-a', ONE_RECORD)),
            row(statsCells('totals', null, TOTALS)),
          ],
          ResultSetMetadata: { ColumnInfo: columnInfo },
        },
      });
    const { source } = sourceWith({ maxConcurrentQueries: 1 });

    // Act
    const { aggregates, stats } = await source.aggregate(QUERY);

    // Assess
    expect(aggregates).toEqual([AGGREGATE, second]);
    expect(stats).toMatchObject({ records: 2, nodataRecords: 1, enisWithRecords: ['eni-a'] });
    expect(athenaMock.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.MaxResults)).toEqual([
      1000, 1000,
    ]);
  });

  it('reads GetQueryResults pages and sends no ResultConfiguration when the workgroup holds the output location', async () => {
    // Prepare
    succeedingAthena('');
    athenaMock
      .on(GetQueryExecutionCommand)
      .callsFake(({ QueryExecutionId }: { QueryExecutionId: string }) =>
        execution(QueryExecutionId, 'SUCCEEDED', { location: null }),
      );
    athenaMock.on(GetQueryResultsCommand).resolves({ ResultSet: { Rows: [] } });
    const { source } = sourceWith({ outputLocation: undefined });

    // Act
    const { aggregates, stats } = await source.aggregate(QUERY);

    // Assess
    expect(aggregates).toEqual([]);
    expect(stats.records).toBe(0);
    expect(startInputs().every((i) => i.ResultConfiguration === undefined)).toBe(true);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(athenaMock.commandCalls(GetQueryResultsCommand)).toHaveLength(1);
  });

  it('applies an ENI scope too long for one query to the results, counts included, with a warning', async () => {
    // Prepare
    const other = { ...AGGREGATE, eniId: 'eni-out' };
    const share = (records: number, nodata: number, skipdata: number): Totals => ({
      records,
      nodata,
      skipdata,
      incomplete: 0,
      oldest: null,
      newest: null,
    });
    succeedingAthena(
      resultCsv([AGGREGATE, other], { ...TOTALS, records: 5, nodata: 4, skipdata: 2 }, [
        ['eni-a', share(2, 1, 0)],
        ['eni-out', share(3, 3, 2)],
      ]),
    );
    const eniIds = ['eni-a', ...Array.from({ length: 200 }, (_, i) => `eni-${String(i).padStart(17, '0')}`)];
    const unscoped = {
      dialect: 'athena' as const,
      relation: '"sg_audit"."vpc_flow_logs_fl_1"',
      fields: FIELDS,
      window: WINDOW,
      partitionFilter: windowPartitionFilter(WINDOW, false),
    };
    // Room for the SQL without the list, not for the list (~25 bytes per ENI).
    const maxQueryBytes = buildFlowSinglePassSql(unscoped).length + 1_000;
    const { source } = sourceWith({ maxQueryBytes });

    // Act
    const { aggregates, stats } = await source.aggregate({ window: WINDOW, eniIds });

    // Assess
    expect(startInputs().some((i) => i.QueryString?.includes('interface_id IN ('))).toBe(false);
    expect(aggregates).toEqual([AGGREGATE]);
    expect(stats).toMatchObject({
      enisWithRecords: ['eni-a'],
      records: 2,
      nodataRecords: 1,
      skipdataRecords: 0,
      oldestRecord: TOTALS.oldest,
      newestRecord: TOTALS.newest,
      queries: 1,
    });
    expect(stats.warnings).toEqual([expect.stringContaining('201 ENIs do not fit in one Athena query')]);
  });

  it('counts SKIPDATA records in the stats (the audit words the warning) and warns about incomplete records', async () => {
    // Prepare
    succeedingAthena(resultCsv([], { ...TOTALS, skipdata: 3, incomplete: 2 }, []));
    const { source } = sourceWith();

    // Act
    const { stats } = await source.aggregate(QUERY);

    // Assess
    expect(stats.skipdataRecords).toBe(3);
    expect(stats.warnings).toEqual([expect.stringContaining('2 record(s) in the window lack a value')]);
  });

  it('names the query and row of a malformed result row', async () => {
    // Prepare
    succeedingAthena(
      resultCsv([{ ...AGGREGATE, evidence: 'guess' as FlowAggregate['evidence'] }], TOTALS, []),
    );
    const { source } = sourceWith();

    // Act
    const act = source.aggregate(QUERY);

    // Assess
    await expect(act).rejects.toThrow(AthenaResultFormatError);
    await expect(source.aggregate(QUERY)).rejects.toThrow(/result row 1: evidence: unknown evidence 'guess'/);
  });

  it.each([
    [
      'of an unknown kind',
      resultCsv([], TOTALS, []).replace('"totals"', '"subtotal"'),
      /row_kind: unknown row kind 'subtotal'/,
    ],
    [
      'with a malformed count',
      resultCsv([], TOTALS, []).replace(`"${TOTALS.nodata}"`, '"many"'),
      /nodata_records: expected an integer, got many/,
    ],
  ])('rejects a result row %s, naming the query and row', async (_what, csv, message) => {
    // Prepare
    succeedingAthena(csv);
    const { source } = sourceWith();

    // Act
    const act = source.aggregate(QUERY);

    // Assess
    await expect(act).rejects.toThrow(AthenaResultFormatError);
    await expect(act).rejects.toThrow(message);
    await expect(act).rejects.toThrow(/query vpc_flow_logs_fl_1-aggregate-1 result row 1: /);
  });
});

describe('AthenaFlowSource.ensureTables', () => {
  it('creates the database, then each table, once per source before the first aggregation', async () => {
    // Prepare
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a']));
    const { source } = sourceWith({
      ensureTables: true,
      tables: [TABLE, { ...TABLE, flowLogId: 'fl-2', table: 'vpc_flow_logs_fl_2', fileFormat: 'parquet' }],
    });

    // Act
    const first = await source.aggregate(QUERY);
    const second = await source.aggregate(QUERY);

    // Assess
    const kinds = startInputs().map((i) => kindOf(i.QueryString ?? ''));
    expect(kinds.slice(0, 3)).toEqual(['database', 'table', 'table']);
    expect(kinds.filter((k) => k === 'database' || k === 'table')).toHaveLength(3);
    const ddl = startInputs().map((i) => i.QueryString ?? '');
    expect(ddl[0]).toBe('CREATE DATABASE IF NOT EXISTS `sg_audit`');
    expect(ddl[1]).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS `sg_audit`.`vpc_flow_logs_fl_1`');
    expect(ddl[1]).toContain(`LOCATION "${TABLE.location}"`);
    expect(ddl[2]).toContain('STORED AS PARQUET');
    expect(startInputs()[0]?.QueryExecutionContext).toEqual({ Catalog: 'AwsDataCatalog' });
    expect(first.stats.queries).toBe(3 + 2);
    expect(second.stats.queries).toBe(2);
  });

  it('tries again on the next call after a DDL statement failed', async () => {
    // Prepare
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'ddl-1' });
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('ddl-1', 'FAILED', { reason: 'AccessDeniedException: glue:CreateDatabase' }))
      .resolves(execution('ddl-1', 'SUCCEEDED'));
    const { source } = sourceWith({ ensureTables: true });

    // Act
    const failed = source.ensureTables();

    // Assess
    await expect(failed).rejects.toThrow(AthenaQueryFailedError);
    await expect(source.ensureTables()).resolves.toBe(2);
    await expect(source.ensureTables()).resolves.toBe(2);
    expect(startInputs()).toHaveLength(1 + 2);
  });
});

describe('AthenaFlowSource', () => {
  it('rejects a database name that could inject SQL', () => {
    // Act
    const act = () => sourceWith({ database: 'sg_audit"; DROP' });

    // Assess
    expect(act).toThrow(InvalidAthenaIdentifierError);
  });

  it('rejects a table name that could inject SQL', () => {
    // Act
    const act = () => sourceWith({ tables: [{ ...TABLE, table: 'x" UNION SELECT' }] });

    // Assess
    expect(act).toThrow(InvalidAthenaIdentifierError);
  });

  it('requires a location for every table it must create', () => {
    // Act
    const act = () => sourceWith({ ensureTables: true, tables: [{ ...TABLE, location: undefined }] });

    // Assess
    expect(act).toThrow(InvalidValueError);
  });
});

describe('AthenaFlowSource polled as a job (start, check, stop)', () => {
  /** Through JSON, as the state machine hands it from one invocation to the next. */
  const viaState = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

  it('runs the DDL, then the query, as a job a fresh source continues from its JSON', async () => {
    // Prepare
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a']), 4_096);
    const fresh = () => sourceWith({ ensureTables: true }).source;

    // Act
    let poll = viaState(await fresh().start(QUERY, { jobId: 'run-1/athena-fl-1' }));
    const jobs = [];
    while (poll.status === 'running') {
      jobs.push(poll.job);
      poll = viaState(await fresh().check(QUERY, poll.job));
    }

    // Assess: DDL one statement per check, then the query; the result read at the end.
    expect(jobs.map((j) => j.running.map((r) => `${r.step} ${r.index}`))).toEqual([
      ['ddl 0'],
      ['ddl 1'],
      ['aggregate 0'],
    ]);
    expect(poll).toMatchObject({
      status: 'done',
      result: { aggregates: [AGGREGATE], stats: { queries: 3, bytesScanned: 4_096, records: 2 } },
    });
    for (const job of jobs) expect(JSON.stringify(job).length).toBeLessThan(1000);
  });

  it('sends the same ClientRequestToken when a start of the same job is sent again, and another for another job', async () => {
    // Prepare
    succeedingAthena(resultCsv([], TOTALS, []));
    const { source } = sourceWith();

    // Act: a step retried after its first attempt reached Athena starts the same job again.
    await source.start(QUERY, { jobId: 'run-1/athena-fl-1' });
    await source.start(QUERY, { jobId: 'run-1/athena-fl-1' });
    await source.start(QUERY, { jobId: 'run-2/athena-fl-1' });

    // Assess
    const [first, again, other] = startInputs().map((i) => i.ClientRequestToken);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('polls again, without starting the query again, when GetQueryExecution is throttled', async () => {
    // Prepare
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a']));
    athenaMock
      .on(GetQueryExecutionCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }))
      .callsFake(({ QueryExecutionId }: { QueryExecutionId: string }) =>
        execution(QueryExecutionId, 'SUCCEEDED'),
      );
    const { source } = sourceWith({ throttleAttempts: 1 });

    // Act
    const started = await source.start(QUERY);
    const throttled = started.status === 'running' ? await source.check(QUERY, started.job) : started;
    const done = throttled.status === 'running' ? await source.check(QUERY, throttled.job) : throttled;

    // Assess
    expect(throttled).toMatchObject({ status: 'running', job: { running: [{ polls: 1 }] } });
    expect(done).toMatchObject({ status: 'done', result: { aggregates: [AGGREGATE] } });
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
    expect(athenaMock.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  it("leaves a table's query for the next check, stopping nothing, while Athena throttles its start", async () => {
    // Prepare: the DDL runs; the aggregate's start is throttled on both of its attempts, then accepted.
    succeedingAthena(resultCsv([AGGREGATE], TOTALS, ['eni-a']));
    const throttle = () =>
      new TooManyRequestsException({ message: 'too many active queries', $metadata: {} });
    let aggregateStarts = 0;
    athenaMock.on(StartQueryExecutionCommand).callsFake((input: StartQueryExecutionCommandInput) => {
      const kind = kindOf(input.QueryString ?? '');
      if (kind === 'aggregate') aggregateStarts += 1;
      if (kind === 'aggregate' && aggregateStarts <= 2) throw throttle();
      return { QueryExecutionId: `vpc_flow_logs_fl_1-${kind}-${aggregateStarts}` };
    });
    const { source } = sourceWith({ ensureTables: true, throttleAttempts: 2 });
    const ddlDone = await source
      .start(QUERY)
      .then((p) => (p.status === 'running' ? source.check(QUERY, p.job) : p));
    if (ddlDone.status !== 'running') throw new Error('expected a running job');

    // Act
    const deferred = await source.check(QUERY, ddlDone.job);
    const started = deferred.status === 'running' ? await source.check(QUERY, deferred.job) : deferred;

    // Assess
    expect(deferred).toMatchObject({
      status: 'running',
      job: { running: [], pendingTables: [0], ddl: [], deferredStarts: 1 },
    });
    expect(started).toMatchObject({
      status: 'running',
      job: { running: [{ step: 'aggregate' }], deferredStarts: 0 },
    });
    expect(athenaMock.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  it("stops the running query and fails with AthenaQueryTimeoutError once the job's deadline has passed", async () => {
    // Prepare
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-slow' });
    athenaMock.on(GetQueryExecutionCommand).resolves(execution('q-slow', 'RUNNING'));
    athenaMock.on(StopQueryExecutionCommand).resolves({});
    let clock = 5_000;
    const { source } = sourceWith({ now: () => clock });
    const started = await source.start(QUERY, { deadline: 6_000 });
    if (started.status !== 'running') throw new Error('expected a running job');

    // Act
    clock = 6_000;
    const error = await source.check(QUERY, started.job).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(AthenaQueryTimeoutError);
    expect(error).toMatchObject({ queryExecutionId: 'q-slow', timeoutMs: 1_000 });
    expect(athenaMock.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { QueryExecutionId: 'q-slow' },
    ]);
  });

  it('refuses a job that names a table the source does not have', async () => {
    // Prepare
    const { source } = sourceWith();
    const job = {
      engine: 'athena' as const,
      jobId: 'j',
      ddl: [],
      pendingTables: [3],
      running: [],
      finished: [],
      queries: 0,
      bytesScanned: 0,
      deferredStarts: 0,
    };

    // Act & Assess
    await expect(source.check(QUERY, job)).rejects.toThrow(InvalidValueError);
    expect(athenaMock.calls()).toHaveLength(0);
  });
});
