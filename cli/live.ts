/**
 * The live audit: the shared pipeline (runAudit) fed from an AWS account in-process. Discovery
 * reads EC2 (and RDS for names); flow evidence comes from where each flow log delivers:
 *  - CloudWatch Logs → one Logs Insights source over every flow-log group (it batches the groups
 *    by format and runs one query per batch and window, never one per SG);
 *  - S3 → Athena over projected tables when an Athena database is given, else the window's
 *    objects are copied to a temporary directory and aggregated locally with DuckDB (the offline
 *    engine: exact, but it downloads the window's objects — fine for an account or a week);
 *  - Kinesis Data Firehose → not readable back: stated in the report, ENIs covered only by it keep
 *    'unknown' rules.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AthenaFlowSource, type AthenaSettings } from '../adapters/aws/athena/flow-source';
import type { AwsClients } from '../adapters/aws/clients';
import {
  CloudTrailLookupSource,
  EVENT_HISTORY_DAYS,
  eventHistoryPeriod,
} from '../adapters/aws/cloudtrail-lookup';
import { type Ec2Discovery, Ec2InventorySource } from '../adapters/aws/ec2-inventory';
import {
  downloadFlowLogObjects,
  type FlowLogExportOptions,
  listFlowLogObjects,
} from '../adapters/aws/flow-log-transfer';
import { InsightsFlowSource } from '../adapters/aws/insights-flow-source';
import { LogGroupMetrics } from '../adapters/aws/log-group-metrics';
import { DuckDbFlowSource } from '../adapters/local/duckdb/flow-source';
import { InputError } from '../shared/errors';
import { type FlowLogTableSpec, flowLogTableSpec } from '../shared/flow/athena-ddl';
import { CompositeFlowSource } from '../shared/flow/composite-source';
import { type FlowSourcePlan, logGroupOf, unreadWarning } from '../shared/flow/source-plan';
import type { FlowAggregateResult, FlowAggregateSource, FlowQuery, TimeWindow } from '../shared/model/flow';
import type { FlowLogConfig, Inventory } from '../shared/model/inventory';
import type { RuleChangeHistory } from '../shared/model/rule-change';
import { collectGarbage } from './js-heap';

export interface LiveWindowOptions {
  /** ISO 8601 end of the window; @default now minus the incomplete tail */
  readonly end?: string;
  readonly days: number;
  readonly now: Date;
  /** The newest records are still being delivered: the default end stays this far behind now. */
  readonly incompleteTailSeconds: number;
}

/**
 * The live window: `days` long, ending at `end` or at now minus the incomplete tail (whole seconds).
 *
 * @example liveWindow({ days: 7, now: new Date('2026-11-21T00:00:00Z'), incompleteTailSeconds: 900 })
 * // { start: 1763079300, end: 1763684100 }
 */
export function liveWindow(options: LiveWindowOptions): TimeWindow {
  let end: number;
  if (options.end !== undefined) {
    const ms = Date.parse(options.end);
    if (Number.isNaN(ms)) throw new InputError(`--end '${options.end}' is not an ISO 8601 date-time`);
    end = Math.floor(ms / 1000);
  } else {
    end = Math.floor(options.now.getTime() / 1000) - options.incompleteTailSeconds;
  }
  return { start: end - Math.round(options.days * 86400), end };
}

/** S3 flow-log objects copied to a temporary directory, aggregated by DuckDB, removed on close. */
class DownloadedFlowSource implements FlowAggregateSource {
  constructor(
    private readonly duckdb: DuckDbFlowSource,
    private readonly directory: string,
  ) {}

  aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    return this.duckdb.aggregate(query);
  }

  async close(): Promise<void> {
    try {
      await this.duckdb.close();
    } finally {
      await rm(this.directory, { recursive: true, force: true });
    }
  }
}

export interface FlowSourceContext {
  readonly clients: AwsClients;
  /** The flow logs the plan was made of (Athena tables are specified from them). */
  readonly flowLogs: readonly FlowLogConfig[];
  readonly window: TimeWindow;
  /** The run's time: records after it are implausible (the local source leaves them out). @default the clock */
  readonly now?: Date;
  readonly accountId?: string;
  readonly region?: string;
  readonly athena?: AthenaSettings;
  readonly progress: (message: string) => void;
  /** Insights/Athena poll interval (tests shorten it). @default the sources' */
  readonly pollIntervalMs?: number;
  readonly transfer?: FlowLogExportOptions;
}

/**
 * The flow source of a plan (shared/flow/source-plan.ts): one Insights source over every planned
 * log group, one Athena source over the planned tables and one local source for the downloaded S3
 * objects, as they apply, under one CompositeFlowSource (close it when done). Flow logs nothing
 * reads become the composite's warnings.
 *
 * @example const flowSource = await openFlowSource(plan, { clients, flowLogs, window, accountId, region, progress });
 */
export async function openFlowSource(
  plan: FlowSourcePlan,
  context: FlowSourceContext,
): Promise<CompositeFlowSource> {
  const sources: FlowAggregateSource[] = [];
  const { clients, progress } = context;
  const warnings = [...plan.warnings, ...plan.unqueried.map(unreadWarning)];
  const poll = context.pollIntervalMs !== undefined ? { pollIntervalMs: context.pollIntervalMs } : {};
  const logGroups = plan.items.flatMap((item) =>
    item.kind === 'insights'
      ? item.logGroups.map((name) => ({
          name,
          fields: item.fields,
          flowLogIds: context.flowLogs.filter((f) => logGroupOf(f) === name).map((f) => f.id),
        }))
      : [],
  );
  if (logGroups.length > 0) {
    progress(`flow logs: Logs Insights over ${logGroups.map((g) => g.name).join(', ')}`);
    const flowLogIds = plan.sources.filter((s) => s.kind === 'insights').flatMap((s) => s.flowLogIds);
    sources.push(
      new InsightsFlowSource({
        logs: clients.logs,
        logGroups,
        flowLogIds,
        metrics: new LogGroupMetrics({ cloudwatch: clients.cloudwatch }),
        ...poll,
      }),
    );
  }
  const athenaTables = athenaTablesOf(plan, context, warnings);
  if (athenaTables.length > 0 && context.athena) {
    progress(`flow logs: Athena over ${athenaTables.map((t) => t.flowLogId).join(', ')}`);
    sources.push(
      new AthenaFlowSource({
        athena: clients.athena,
        s3: clients.s3,
        database: context.athena.database,
        ...(context.athena.workGroup ? { workGroup: context.athena.workGroup } : {}),
        ...(context.athena.outputLocation ? { outputLocation: context.athena.outputLocation } : {}),
        tables: athenaTables,
        ensureTables: true,
        ...poll,
      }),
    );
  }
  if (plan.downloads.length > 0) {
    sources.push(await downloadedSource(plan.downloads, context));
  }
  return new CompositeFlowSource(sources, { warnings });
}

/** The Athena table of each planned S3 flow log; without an account id and region, a warning. */
function athenaTablesOf(
  plan: FlowSourcePlan,
  context: FlowSourceContext,
  warnings: string[],
): FlowLogTableSpec[] {
  const tables: FlowLogTableSpec[] = [];
  for (const item of plan.items) {
    if (item.kind !== 'athena') continue;
    const flowLog = context.flowLogs.find((f) => f.id === item.flowLogId);
    if (flowLog === undefined) continue;
    if (context.accountId === undefined || context.region === undefined) {
      warnings.push(`flow log ${flowLog.id}: account or region unknown; its S3 objects are not queried`);
      continue;
    }
    tables.push(flowLogTableSpec(flowLog, context.accountId, context.region));
  }
  return tables;
}

async function downloadedSource(
  flowLogs: readonly FlowLogConfig[],
  context: FlowSourceContext,
): Promise<DownloadedFlowSource> {
  const { accountId, region, progress } = context;
  if (accountId === undefined || region === undefined) {
    throw new InputError('the account id or region is unknown: S3 flow-log objects cannot be located');
  }
  const directory = await mkdtemp(path.join(tmpdir(), 'sg-audit-flowlogs-'));
  try {
    let objects = 0;
    let bytes = 0;
    for (const flowLog of flowLogs) {
      const found = await listFlowLogObjects(
        context.clients.s3,
        flowLog,
        accountId,
        region,
        context.window,
        context.transfer,
      );
      objects += found.length;
      bytes += await downloadFlowLogObjects(context.clients.s3, found, directory, {
        ...context.transfer,
        progress,
      });
    }
    progress(
      `flow logs: ${objects} S3 objects (${bytes} bytes) of ${flowLogs.map((f) => f.id).join(', ')} copied for local aggregation (pass --athena-database to query them in Athena instead)`,
    );
    const now = context.now === undefined ? {} : { now: Math.floor(context.now.getTime() / 1000) };
    return new DownloadedFlowSource(
      new DuckDbFlowSource({ directory, progress, ...now, beforeAggregation: collectGarbage }),
      directory,
    );
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

export interface LiveDiscovery {
  readonly discovery: Ec2Discovery;
  readonly inventory: Inventory;
  readonly accountId?: string;
  readonly region?: string;
}

/**
 * Discovers the scope's inventory, with the account id (the credentials' account, from STS — not
 * the VPCs' owner, another account for a shared VPC) and region the S3 flow-log layout needs.
 *
 * @example const { inventory, accountId } = await discoverAccount(clients, ['vpc-0a1b'], progress);
 */
export async function discoverAccount(
  clients: AwsClients,
  vpcIds: readonly string[],
  progress: (message: string) => void,
  warn: (message: string) => void,
): Promise<LiveDiscovery> {
  let clientRegion: string | undefined;
  try {
    clientRegion = await clients.ec2.config.region();
  } catch (error) {
    throw new InputError(
      'no AWS region: pass --region or set AWS_REGION (or audit an export offline with --input DIR)',
      {},
      { cause: error },
    );
  }
  progress(
    `discovering ${vpcIds.length > 0 ? vpcIds.join(', ') : 'every VPC'} of ${clientRegion || 'the region'}`,
  );
  const source = new Ec2InventorySource({ ec2: clients.ec2, rds: clients.rds, sts: clients.sts });
  const discovery = await source.discover({ vpcIds });
  const { inventory, warnings, apiCalls } = discovery.result;
  for (const warning of warnings) warn(warning);
  const calls = Object.values(apiCalls).reduce((sum, n) => sum + n, 0);
  progress(
    `discovered ${inventory.securityGroups.length} security groups, ${inventory.networkInterfaces.length} network interfaces, ${inventory.flowLogs.length} flow logs (${calls} API calls)`,
  );
  const accountId = inventory.accountId;
  const region = inventory.region ?? (clientRegion || undefined);
  return {
    discovery,
    inventory,
    ...(accountId ? { accountId } : {}),
    ...(region ? { region } : {}),
  };
}

/**
 * The account's security-group change history over CloudTrail's 90-day event history
 * (LookupEvents), or undefined when the run has no CloudTrail client.
 *
 * @example const history = await readRuleHistory(clients, new Date(), progress);
 */
export async function readRuleHistory(
  clients: Pick<AwsClients, 'cloudtrail'>,
  now: Date,
  progress: (message: string) => void,
): Promise<RuleChangeHistory | undefined> {
  if (clients.cloudtrail === undefined) return undefined;
  progress(`CloudTrail: reading security-group changes of the last ${EVENT_HISTORY_DAYS} days`);
  return new CloudTrailLookupSource({ cloudtrail: clients.cloudtrail, progress }).read(
    eventHistoryPeriod(now),
  );
}
