/**
 * Scan efficiency (part 3) and truncation safety (part 5) of the cloud flow sources, against
 * mocked CloudWatch Logs / Athena clients that model what the services bill:
 *  - a Logs Insights query scans every byte its log groups hold in its time range, whatever the
 *    ENI filter (statistics.bytesScanned = those bytes);
 *  - an Athena query scans the hour partitions of its window once per table scan in its SQL
 *    (DataScannedInBytes = scans × partition bytes); Trino inlines CTEs, so a CTE read twice
 *    would scan twice: {@link tableScans} counts the reads and refuses SQL it cannot count.
 * The audit itself (runAudit) drives the sources; figures come from the adapters' FlowSourceStats.
 */
import {
  AthenaClient,
  GetQueryResultsCommand as AthenaResultsCommand,
  GetQueryExecutionCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  type ResultField,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AthenaFlowSource } from '../adapters/aws/athena/flow-source';
import { FlowLogQueryTruncatedError, InsightsFlowSource } from '../adapters/aws/insights-flow-source';
import { runAudit } from '../shared/audit';
import { DEFAULT_CONFIG } from '../shared/config';
import { MAX_INSIGHTS_QUERY_LENGTH, mergeFlowAggregates } from '../shared/flow/insights-query';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  TimeWindow,
} from '../shared/model/flow';
import type { AuditReport } from '../shared/report/model';
import { insightsRow } from '../testkit/insights-rows';
import { type SyntheticAccount, syntheticAccount } from './synthetic-account';

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
export const WINDOW: TimeWindow = { start: T0, end: T0 + 7 * 86400 - 1 };
const WINDOW_HOURS = 7 * 24;
const GB = 1e9;
/** The simulated account's five flow-log groups (or S3 tables): bytes each holds for the window. */
export const GROUP_BYTES = [400 * GB, 200 * GB, 100 * GB, 50 * GB, 10 * GB];
const noSleep = async () => undefined;

/** Bytes a log group holds between two epoch seconds (inclusive), at a uniform rate over the window. */
function groupBytes(group: number, start: number, end: number): number {
  const from = Math.max(start, WINDOW.start);
  const to = Math.min(end, WINDOW.end);
  if (to < from) return 0;
  return Math.round(((GROUP_BYTES[group] ?? 0) * (to - from + 1)) / (WINDOW.end - WINDOW.start + 1));
}

export interface InsightsSimulation {
  readonly client: CloudWatchLogsClient;
  /** StartQuery requests seen: log groups, time range, query length. */
  readonly started: {
    logGroups: string[];
    startTime: number;
    endTime: number;
    length: number;
    rows: number;
  }[];
}

/**
 * A CloudWatch Logs client whose Logs Insights answers are the merged `atoms` of the log groups,
 * ENIs and time range each query names (atoms are timestamped by firstSeen), capped at the query's
 * row limit; bytesScanned is the groups' bytes for the time range.
 */
export function simulateInsights(
  account: SyntheticAccount,
  atoms: readonly FlowAggregate[],
): InsightsSimulation {
  const client = new CloudWatchLogsClient({
    region: 'ap-northeast-2',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const mock = mockClient(client);
  const groupIndex = new Map(account.flowLogTargets.map((t, k) => [t.logGroup, k]));
  const groupOfVpc = new Map(account.flowLogTargets.map((t) => [t.vpcId, t.logGroup]));
  const groupOfEni = new Map(
    account.inventory.networkInterfaces.map((e) => [e.id, groupOfVpc.get(e.vpcId) ?? '']),
  );
  const started: InsightsSimulation['started'] = [];
  const answers = new Map<string, { rows: ResultField[][]; bytesScanned: number; recordsMatched: number }>();
  mock.on(StartQueryCommand).callsFake((input) => {
    const logGroups: string[] = input.logGroupNames ?? [];
    const groups = new Set(logGroups);
    const enis = new Set<string>(input.queryString.match(/eni-[0-9a-f]+/g) ?? []);
    const limit: number = input.limit ?? 10_000;
    const matching = atoms.filter(
      (a) =>
        groups.has(groupOfEni.get(a.eniId) ?? '') &&
        (enis.size === 0 || enis.has(a.eniId)) &&
        a.firstSeen >= input.startTime &&
        a.firstSeen <= input.endTime,
    );
    const merged = mergeFlowAggregates(matching);
    const queryId = `q-${started.length + 1}`;
    const bytesScanned = logGroups.reduce(
      (sum, g) => sum + groupBytes(groupIndex.get(g) ?? -1, input.startTime, input.endTime),
      0,
    );
    answers.set(queryId, {
      rows: merged.slice(0, limit).map(insightsRow),
      bytesScanned,
      recordsMatched: matching.reduce((sum, a) => sum + a.records, 0),
    });
    started.push({
      logGroups,
      startTime: input.startTime,
      endTime: input.endTime,
      length: input.queryString.length,
      rows: Math.min(limit, merged.length),
    });
    return { queryId };
  });
  mock.on(GetQueryResultsCommand).callsFake((input) => {
    const answer = answers.get(input.queryId);
    if (!answer) throw new Error(`unknown query ${input.queryId}`);
    return {
      status: 'Complete',
      results: answer.rows,
      statistics: {
        bytesScanned: answer.bytesScanned,
        recordsMatched: answer.recordsMatched,
        recordsScanned: 0,
      },
    };
  });
  return { client, started };
}

/** Records what the audit got from its flow source. */
class RecordingSource implements FlowAggregateSource {
  result?: FlowAggregateResult;
  constructor(private readonly inner: FlowAggregateSource) {}
  async aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    this.result = await this.inner.aggregate(query);
    return this.result;
  }
}

function audit(account: SyntheticAccount, flowSource: FlowAggregateSource): Promise<AuditReport> {
  return runAudit({
    inventory: account.inventory,
    flowSource,
    window: WINDOW,
    scope: { vpcIds: [], sgIds: [] },
    config: DEFAULT_CONFIG,
    mode: 'live',
    runId: 'bench',
    generatedAt: new Date((WINDOW.end + 1) * 1000),
    toolVersion: 'bench',
  });
}

export interface ScanRow {
  readonly engine: string;
  readonly securityGroups: number;
  readonly enis: number;
  readonly queries: number;
  readonly queriesPerBatch: string;
  readonly bytesScanned: number;
  readonly windowBytes: number;
  readonly ratio: number;
  readonly longestQuery?: number;
}

/** One audit of M SGs over five log groups, through InsightsFlowSource. */
export async function insightsScan(m: number): Promise<ScanRow> {
  const account = syntheticAccount({ securityGroups: m, vpcs: GROUP_BYTES.length, window: WINDOW });
  const sim = simulateInsights(account, account.aggregates);
  const source = new InsightsFlowSource({
    logs: sim.client,
    logGroups: account.flowLogTargets.map((t) => ({ name: t.logGroup, fields: t.fields })),
    sleep: noSleep,
    pollIntervalMs: 1,
  });
  const report = await audit(account, source);
  const windowBytes = GROUP_BYTES.reduce((a, b) => a + b, 0);
  const perBatch = new Map<string, number>();
  for (const q of sim.started)
    perBatch.set(q.logGroups.join(','), (perBatch.get(q.logGroups.join(',')) ?? 0) + 1);
  return {
    engine: 'logs-insights',
    securityGroups: m,
    enis: account.inventory.networkInterfaces.length,
    queries: report.summary.queries,
    queriesPerBatch: [...perBatch.values()].join(' + '),
    bytesScanned: report.summary.bytesScanned,
    windowBytes,
    ratio: report.summary.bytesScanned / windowBytes,
    longestQuery: Math.max(...sim.started.map((q) => q.length)),
  };
}

/**
 * How many times Trino reads `relation` to run `sql`: its `FROM relation` occurrences, each once,
 * as long as no CTE is read twice (Trino inlines a CTE at every reference, so the count would be
 * too low); SQL with a CTE read twice is refused rather than miscounted.
 *
 * @example tableScans('WITH a AS (\n SELECT * FROM t\n)\nSELECT * FROM a', 't') // 1
 */
export function tableScans(sql: string, relation: string): number {
  for (const [, name] of sql.matchAll(/^(?:WITH )?([a-z_][a-z0-9_]*) AS \($/gm)) {
    const reads = sql.split(new RegExp(`\\b(?:FROM|JOIN) ${name}\\b`)).length - 1;
    if (reads > 1) throw new Error(`the scan model cannot count CTE '${name}', read ${reads} times`);
  }
  return sql.split(`FROM ${relation}`).length - 1;
}

/** One audit of M SGs over five S3 flow logs, through AthenaFlowSource. */
export async function athenaScan(m: number): Promise<ScanRow> {
  const account = syntheticAccount({
    securityGroups: m,
    vpcs: GROUP_BYTES.length,
    window: WINDOW,
    destination: 's3',
  });
  const athena = new AthenaClient({
    region: 'ap-northeast-2',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const s3 = new S3Client({
    region: 'ap-northeast-2',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const mock = mockClient(athena);
  mockClient(s3);
  const tables = account.flowLogTargets.map((t, k) => ({
    flowLogId: t.flowLogId,
    table: `flow_logs_${k}`,
    fields: t.fields,
    perHour: true,
  }));
  const slack = 3600;
  /** Hour partitions the window's filter reads (the window plus the delivery slack). */
  const hours = Math.floor((WINDOW.end + slack) / 3600) - Math.floor(WINDOW.start / 3600) + 1;
  const scanned = new Map<string, number>();
  const perTable = new Map<string, number>();
  mock.on(StartQueryExecutionCommand).callsFake((input) => {
    const id = `athena-${scanned.size + 1}`;
    let bytes = 0;
    tables.forEach((t, k) => {
      if (input.QueryString.includes(`"sg_audit"."${t.table}"`))
        perTable.set(t.table, (perTable.get(t.table) ?? 0) + 1);
      const scans = tableScans(input.QueryString, `"sg_audit"."${t.table}"`);
      bytes += Math.round((scans * (GROUP_BYTES[k] ?? 0) * hours) / WINDOW_HOURS);
    });
    scanned.set(id, bytes);
    return { QueryExecutionId: id };
  });
  mock.on(GetQueryExecutionCommand).callsFake((input) => ({
    QueryExecution: {
      QueryExecutionId: input.QueryExecutionId,
      Status: { State: 'SUCCEEDED' },
      Statistics: { DataScannedInBytes: scanned.get(input.QueryExecutionId) ?? 0 },
    },
  }));
  mock.on(AthenaResultsCommand).resolves({ ResultSet: { Rows: [], ResultSetMetadata: { ColumnInfo: [] } } });
  const source = new AthenaFlowSource({
    athena,
    s3,
    database: 'sg_audit',
    tables,
    sleep: noSleep,
    pollIntervalMs: 1,
    deliverySlackSeconds: slack,
  });
  const report = await audit(account, source);
  const windowBytes = GROUP_BYTES.reduce((a, b) => a + b, 0);
  return {
    engine: 'athena',
    securityGroups: m,
    enis: account.inventory.networkInterfaces.length,
    queries: report.summary.queries,
    queriesPerBatch: [...new Set(perTable.values())].map((n) => `${perTable.size} × ${n}`).join(' + '),
    bytesScanned: report.summary.bytesScanned,
    windowBytes,
    ratio: report.summary.bytesScanned / windowBytes,
  };
}

/** The longest ENI list one Insights query takes for the default format (for the explanation). */
export function insightsQueryLimit(): number {
  return MAX_INSIGHTS_QUERY_LENGTH;
}

const keyOf = (a: FlowAggregate) =>
  [a.eniId, a.action, a.protocol, a.clientAddr, a.serverAddr, a.serverPort, a.clientPort].join('|');

function canonical(rows: readonly FlowAggregate[]): string {
  return JSON.stringify([...rows].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)));
}

/** Each aggregate row split into 1–3 parts at different times of its span (the raw material). */
function atomsOf(rows: readonly FlowAggregate[]): FlowAggregate[] {
  const atoms: FlowAggregate[] = [];
  rows.forEach((row, k) => {
    const parts = Math.min(row.records, 1 + (k % 3));
    for (let p = 0; p < parts; p += 1) {
      const share = (total: number) => Math.floor(total / parts) + (p === 0 ? total % parts : 0);
      const t = row.firstSeen + Math.floor(((row.lastSeen - row.firstSeen) * p) / Math.max(1, parts - 1));
      const records = share(row.records);
      atoms.push({
        ...row,
        records,
        requestRecords: Math.min(records, share(row.requestRecords)),
        synRecords: Math.min(records, share(row.synRecords)),
        packets: share(row.packets),
        bytes: share(row.bytes),
        firstSeen: t,
        lastSeen: t,
        distinctClientPorts: row.serverPort === null ? 0 : 1,
      });
    }
  });
  return atoms;
}

export interface TruncationRow {
  readonly limit: number;
  readonly trueRows: number;
  readonly queries: number;
  readonly extraQueries: number;
  readonly cappedAnswers: number;
  readonly bytesScanned: number;
  readonly windowBytes: number;
  readonly aggregatesEqual: boolean;
  readonly reportEqual: boolean;
  readonly warning: string;
}

/**
 * Audits of one account through InsightsFlowSource with row limits below the true row count: the
 * aggregates the audit receives must equal the uncapped truth, and the report must not change.
 */
export async function truncationSafety(limits: readonly number[]): Promise<{
  rows: TruncationRow[];
  unsplittable: string;
}> {
  const account = syntheticAccount({ securityGroups: 400, vpcs: 2, window: WINDOW });
  const atoms = atomsOf(account.aggregates);
  const truth = mergeFlowAggregates(atoms);
  const logGroups = account.flowLogTargets.map((t) => ({ name: t.logGroup, fields: t.fields }));
  const windowBytes = (GROUP_BYTES[0] ?? 0) + (GROUP_BYTES[1] ?? 0);

  const run = async (limit: number, maxSplitDepth = 12) => {
    const sim = simulateInsights(account, atoms);
    const source = new RecordingSource(
      new InsightsFlowSource({
        logs: sim.client,
        logGroups,
        limit,
        sleep: noSleep,
        pollIntervalMs: 1,
        maxSplitDepth,
      }),
    );
    const report = await audit(account, source);
    return { sim, report, result: source.result };
  };
  const reportShape = (r: AuditReport) =>
    JSON.stringify({ sgs: r.securityGroups, findings: r.findings, nacl: r.naclRecommendations });

  const baseline = await run(100_000);
  const rows: TruncationRow[] = [];
  for (const limit of limits) {
    const capped = await run(limit);
    rows.push({
      limit,
      trueRows: truth.length,
      queries: capped.report.summary.queries,
      extraQueries: capped.report.summary.queries - baseline.report.summary.queries,
      cappedAnswers: capped.sim.started.filter((q) => q.rows >= limit).length,
      bytesScanned: capped.report.summary.bytesScanned,
      windowBytes,
      aggregatesEqual: canonical(capped.result?.aggregates ?? []) === canonical(truth),
      reportEqual: reportShape(capped.report) === reportShape(baseline.report),
      warning: capped.report.warnings.find((w) => w.message.includes('row limit'))?.message ?? '',
    });
  }
  rows.unshift({
    limit: 100_000,
    trueRows: truth.length,
    queries: baseline.report.summary.queries,
    extraQueries: 0,
    cappedAnswers: baseline.sim.started.filter((q) => q.rows >= 100_000).length,
    bytesScanned: baseline.report.summary.bytesScanned,
    windowBytes,
    aggregatesEqual: canonical(baseline.result?.aggregates ?? []) === canonical(truth),
    reportEqual: true,
    warning: '',
  });

  // A window that may not be split further must fail loudly, never return a partial answer.
  let unsplittable: string;
  try {
    await run(limits[limits.length - 1] ?? 100, 0);
    unsplittable = 'NO ERROR (silent truncation!)';
  } catch (error) {
    unsplittable =
      error instanceof FlowLogQueryTruncatedError
        ? `${error.name}: ${error.message.slice(0, 120)}…`
        : String(error);
  }
  return { rows, unsplittable };
}
