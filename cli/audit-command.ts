/**
 * `sg-audit audit`: offline from an export directory (`--input`, adapters/local) or live from the
 * account of the standard AWS credential chain (cli/live.ts), through the shared pipeline
 * (shared/audit.ts), then reviewed, rendered and written. Loaded only when the command runs: the
 * engines (DuckDB, the AWS SDK, ExcelJS) stay out of `sg-audit --help`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AwsClients } from '../adapters/aws/clients';
import { S3ReportSink } from '../adapters/aws/s3-report-sink';
import { DUCKDB_BYTES_PER_THREAD, DuckDbFlowSource, memoryBytes } from '../adapters/local/duckdb/flow-source';
import {
  parseJsonFile,
  readExportDirectory,
  readRuleChanges,
  readTextFile,
} from '../adapters/local/export-dir';
import { type AuditOptions, runAudit } from '../shared/audit';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../shared/config';
import { EmptyWindowError, InputError, integerOption } from '../shared/errors';
import { planFlowSources, unreadWarning } from '../shared/flow/source-plan';
import { actionableFindings } from '../shared/history/review';
import { FLOW_LOG_FOLDER } from '../shared/inventory/aws-json';
import { SEVERITY_RANK, type Severity } from '../shared/model/analysis';
import type { TimeWindow } from '../shared/model/flow';
import type { Inventory } from '../shared/model/inventory';
import { parsePortList } from '../shared/net/ports';
import { parseOutputFormats, renderConsoleSummary } from '../shared/render/index';
import type { AuditReport } from '../shared/report/model';
import { reviewAndRender } from '../shared/review-and-render';
import { type EgressAllowList, parseEgressAllowList } from '../shared/suppressions/egress-allowlist';
import { parseSuppressions, type SuppressionSet } from '../shared/suppressions/suppressions';
import { type AwsFlags, athenaSettingsOf, awsClientsOf, iso, progressOf } from './command-context';
import { EXIT_FINDINGS, EXIT_OK } from './exit-codes';
import { collectGarbage, limitHeapGrowth } from './js-heap';
import { discoverAccount, liveWindow, openFlowSource, readRuleHistory } from './live';
import type { CliIo } from './main';
import { readReportFile } from './report-file';

export interface AuditFlags extends AwsFlags {
  input?: string;
  out: string;
  vpc: string[];
  sg: string[];
  days: number;
  end?: string;
  ports?: string;
  format: string;
  failOn?: Severity;
  config?: string;
  quiet?: boolean;
  athenaDatabase?: string;
  athenaWorkgroup?: string;
  athenaOutput?: string;
  s3Bucket?: string;
  previous?: string;
  suppressions?: string;
  egressAllowlist?: string;
  /** Offline: the memory the run stays under (see offlineMemory). */
  memoryLimit?: string;
  /** Offline: DuckDB worker threads (see offlineMemory). */
  threads?: number;
}

const configOverrides = z
  .object({
    summariseMinIps: z.number().int().min(1),
    summarisePrefixV4: z.number().int().min(0).max(32),
    summarisePrefixV6: z.number().int().min(0).max(128),
    portGroupMinPort: z.number().int().min(0).max(65535),
    portGroups: z.array(
      z.object({ from: z.number().int().min(0).max(65535), to: z.number().int().min(0).max(65535) }),
    ),
    portGroupMinPorts: z.number().int().min(1),
    ruleQuota: z.number().int().min(1),
    counterpartMinPorts: z.number().int().min(2),
    sensitivePorts: z.array(z.number().int().min(0).max(65535)),
    widePublicPrefixV4: z.number().int().min(0).max(32),
    widePublicPrefixV6: z.number().int().min(0).max(128),
    incompleteTailSeconds: z.number().int().min(0),
    naclFirstRuleNumber: z.number().int().min(1).max(32766),
    naclRuleStep: z.number().int().min(1),
    naclRuleQuota: z.number().int().min(1).max(40),
    deliveryBucketSeconds: z.union([z.literal(3600), z.literal(86400)]),
    deliveryToleranceBuckets: z.number().int().min(0),
    deliveryCounterTolerance: z.number().min(0).max(1),
    publicServiceMinNetworks: z.number().int().min(2),
    rejectedMinAttempts: z.number().int().min(1),
    rejectedRowLimit: z.number().int().min(1),
    egressDestinationsPerSg: z.number().int().min(1),
    ephemeralRanges: z.record(
      z.string(),
      z.array(z.object({ from: z.number().int().min(0).max(65535), to: z.number().int().min(0).max(65535) })),
    ),
  })
  .partial()
  .strict();

/** Reads a JSON settings file whose keys override DEFAULT_CONFIG (thresholds, quotas, port groups). */
export function loadConfigFile(file: string): Partial<AnalysisConfig> {
  if (!existsSync(file)) throw new InputError('settings file not found', { file });
  const parsed = configOverrides.safeParse(parseJsonFile(readTextFile(file), file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(issue?.message ?? 'invalid settings', { file, field: issue?.path.join('.') ?? '' });
  }
  return parsed.data as Partial<AnalysisConfig>;
}

/** The analysis settings of the flags: --config's overrides and --ports on the defaults. */
export function analysisConfigOf(flags: Pick<AuditFlags, 'config' | 'ports'>): AnalysisConfig {
  return {
    ...DEFAULT_CONFIG,
    ...(flags.config ? loadConfigFile(flags.config) : {}),
    ports: flags.ports ? parsePortList(flags.ports) : [],
  };
}

/** Findings at or above --fail-on's severity that fail the build (accepted risks do not). */
export function failingFindings(report: AuditReport, failOn: Severity): number {
  const threshold = SEVERITY_RANK[failOn];
  return actionableFindings(report).filter((f) => SEVERITY_RANK[f.severity] <= threshold).length;
}

function parseEnd(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InputError(`--end '${text}' is not an ISO 8601 date-time`);
  return Math.floor(ms / 1000);
}

/** The offline run's memory limit unless told (`--memory-limit`). */
export const DEFAULT_MEMORY_LIMIT = '1GiB';

/** DuckDB worker threads of an offline run unless told (`--threads`). */
export const DEFAULT_DUCKDB_THREADS = 1;

/** An offline run's memory: the limit, DuckDB's working memory and its threads. */
export interface OfflineMemory {
  /** What the whole run stays under (`--memory-limit`). */
  readonly total: number;
  /** DuckDB's memory_limit: its aggregation's working memory, beyond which it spills. */
  readonly duckdb: number;
  /** What DuckDB's memory_limit may grow to for an aggregation that cannot finish in `duckdb`: half the limit. */
  readonly maxDuckdb: number;
  /** DuckDB worker threads, each with {@link DUCKDB_BYTES_PER_THREAD} of the working memory. */
  readonly threads: number;
}

/**
 * How an offline run uses its memory limit. DuckDB's aggregation works in a fixed amount of
 * memory, {@link DUCKDB_BYTES_PER_THREAD} per worker thread (one unless `--threads`), and spills
 * to a temp directory beyond it: a fixed amount rather than a share of the limit, so that the
 * run's memory does not grow with the records (a share would be filled by a large input and left
 * unused by a small one). Only an aggregation that cannot finish in it (DuckDB finishes a spilled
 * aggregation one partition at a time, and partitions grow with very large inputs) runs again
 * with twice as much, up to half the limit. A limit whose half cannot hold the working memory
 * gets its half, with the threads it holds (at least one). The rest is Node's: the modules, the
 * analysis, the renderers; the aggregate rows stay in DuckDB and are streamed to the fold.
 *
 * @throws InputError when the size or the thread count is not one.
 * @example offlineMemory('1GiB') // { total: 1073741824, duckdb: 134217728, maxDuckdb: 536870912, threads: 1 }
 * @example offlineMemory('256MiB', 2) // { total: 268435456, duckdb: 134217728, maxDuckdb: 134217728, threads: 1 }
 */
export function offlineMemory(
  size: string = DEFAULT_MEMORY_LIMIT,
  threads: number = DEFAULT_DUCKDB_THREADS,
): OfflineMemory {
  let total: number;
  try {
    total = memoryBytes(size);
  } catch (error) {
    throw new InputError(`--memory-limit: ${(error as Error).message}`);
  }
  integerOption('--threads', threads, 1);
  const maxDuckdb = Math.floor(total / 2);
  const duckdb = Math.min(maxDuckdb, threads * DUCKDB_BYTES_PER_THREAD);
  const fitting = Math.max(1, Math.min(threads, Math.floor(duckdb / DUCKDB_BYTES_PER_THREAD)));
  return { total, duckdb, maxDuckdb, threads: fitting };
}

export interface AuditRun {
  readonly report: AuditReport;
  readonly inventory: Inventory;
  /** Offline: the memory the run was to stay under (--memory-limit), in bytes. */
  readonly memoryLimit?: number;
}

/**
 * The warning an offline run owes when its memory went above --memory-limit (none when it did
 * not): the limit bounds DuckDB and what follows the records, not the analyses' entries per
 * distinct peer, and a run that used more must say so rather than leave the limit believed.
 *
 * @example memoryLimitWarning(1.2 * 2 ** 30, 2 ** 30) // 'warning: this audit's memory peaked at 1229 MiB, above --memory-limit (1024 MiB): …'
 */
export function memoryLimitWarning(peakBytes: number, limitBytes: number): string | undefined {
  if (peakBytes <= limitBytes) return undefined;
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
  return (
    `warning: this audit's memory peaked at ${mib(peakBytes)}, above --memory-limit (${mib(limitBytes)}): ` +
    'the limit bounds DuckDB and what grows with the flow records, not the analyses, which hold one entry ' +
    'per distinct peer and service port (about 1 KB each at the peak; README, Memory). ' +
    'The report is complete; audit less at a time (--days, --vpc) to stay under it.\n'
  );
}

/** Runs `sg-audit audit` with parsed flags; returns the exit code. */
export async function runAuditCommand(flags: AuditFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const formats = parseOutputFormats(flags.format);
  const config = analysisConfigOf(flags);
  const liveOnly = (
    ['athenaDatabase', 'athenaWorkgroup', 'athenaOutput', 'region', 'profile'] as const
  ).filter((key) => flags[key] !== undefined);
  if (flags.input && liveOnly.length > 0 && !flags.s3Bucket) {
    io.stderr.write(`warning: --${liveOnly.map(kebab).join(', --')} only apply to live runs (no --input)\n`);
  }
  let clients: AwsClients | undefined;
  try {
    if (!flags.input || flags.s3Bucket) clients = awsClientsOf(flags, io);
    // Read the history inputs first: a bad file fails before the (long) audit.
    const suppressions = flags.suppressions ? readSuppressionsFile(flags.suppressions) : undefined;
    const previous = flags.previous ? readReportFile(flags.previous, 'previous report not found') : undefined;
    const allowList = flags.egressAllowlist ? readEgressAllowList(flags.egressAllowlist) : undefined;
    const expected = allowList ? { egressAllowList: allowList } : {};
    const audited = flags.input
      ? await offlineAudit(flags, flags.input, config, io, progress, expected)
      : await liveAudit(flags, config, io, progress, clients as AwsClients, expected);
    const { inventory } = audited;
    const { report, files } = await reviewAndRender(audited.report, {
      ...(previous ? { previous } : {}),
      compare: flags.previous !== undefined,
      ...(suppressions ? { suppressions } : {}),
      now: io.now?.() ?? new Date(),
      formats,
    });
    for (const id of [...flags.vpc, ...flags.sg]) {
      const known = id.startsWith('vpc-')
        ? inventory.vpcs.some((v) => v.id === id) || inventory.securityGroups.some((sg) => sg.vpcId === id)
        : inventory.securityGroups.some((sg) => sg.id === id);
      if (!known) {
        io.stderr.write(
          `warning: ${id} is not in the ${flags.input ? 'export' : 'account (this region)'}; nothing of it was audited\n`,
        );
      }
    }

    mkdirSync(flags.out, { recursive: true });
    for (const file of files) writeFileSync(path.join(flags.out, file.name), file.body);
    progress(`wrote ${files.length} files to ${flags.out}`);
    if (audited.memoryLimit !== undefined && io.peakMemoryBytes !== undefined) {
      const warning = memoryLimitWarning(io.peakMemoryBytes(), audited.memoryLimit);
      if (warning !== undefined) io.stderr.write(warning);
    }
    let stored = '';
    if (flags.s3Bucket && clients) {
      const sink = new S3ReportSink({ s3: clients.s3, bucket: flags.s3Bucket });
      const location = await sink.write(report, files);
      progress(`wrote ${location.keys.length} objects to ${location.location}`);
      stored = `, ${location.location}`;
    }
    io.stdout.write(renderConsoleSummary(report));
    io.stdout.write(`\nReports: ${files.map((f) => path.join(flags.out, f.name)).join(', ')}${stored}\n`);

    if (flags.failOn) {
      const failing = failingFindings(report, flags.failOn);
      if (failing > 0) {
        io.stderr.write(
          `${failing} finding(s) at or above '${flags.failOn}' (--fail-on): exit ${EXIT_FINDINGS}\n`,
        );
        return EXIT_FINDINGS;
      }
    }
    return EXIT_OK;
  } finally {
    clients?.destroy();
  }
}

export function readEgressAllowList(file: string): EgressAllowList {
  if (!existsSync(file)) throw new InputError('egress allow-list not found', { file });
  return parseEgressAllowList(readTextFile(file), file);
}

export function readSuppressionsFile(file: string): SuppressionSet {
  if (!existsSync(file)) throw new InputError('suppressions file not found', { file });
  return parseSuppressions(readTextFile(file), file);
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** One export directory audited offline (the window ends at its newest record unless --end). */
export async function offlineAudit(
  flags: AuditFlags,
  input: string,
  config: AnalysisConfig,
  io: CliIo,
  progress: (message: string) => void,
  expected: Pick<AuditOptions, 'egressAllowList'>,
): Promise<AuditRun> {
  progress(`reading export directory ${input}`);
  const inventory = readExportDirectory(input);
  const ruleChanges = readRuleChanges(input);
  const flowDirectory = path.join(input, FLOW_LOG_FOLDER);
  const now = io.now?.() ?? new Date();
  const memory = offlineMemory(flags.memoryLimit, flags.threads);
  limitHeapGrowth();
  // Records after the run's time are implausible: left out of the default window and counted.
  const flowSource = new DuckDbFlowSource({
    directory: flowDirectory,
    progress,
    now: Math.floor(now.getTime() / 1000),
    memoryLimit: memory.duckdb,
    maxMemoryLimit: memory.maxDuckdb,
    threads: memory.threads,
    streamRows: true,
    beforeAggregation: collectGarbage,
  });
  try {
    const probe = await flowSource.probe();
    const end = flags.end ? parseEnd(flags.end) : probe.newestRecord;
    if (end === undefined) {
      throw new EmptyWindowError(
        `no flow-log records found under ${flowDirectory} (records dated after their object's delivery or after now are left out): pass --end to audit without traffic evidence (every rule will be 'unknown')`,
      );
    }
    const window: TimeWindow = { start: end - Math.round(flags.days * 86400), end };
    const emptyWindow = (oldest: number | undefined, newest: number | undefined): EmptyWindowError =>
      new EmptyWindowError(
        `the window ${iso(window.start)} .. ${iso(window.end)} holds no flow-log records (records span ${iso(oldest)} .. ${iso(newest)}); adjust --end/--days`,
      );
    if (probe.files > 0 && (probe.newestRecord === undefined || probe.newestRecord < window.start)) {
      throw emptyWindow(undefined, probe.newestRecord);
    }
    progress(
      `window ${iso(window.start)} .. ${iso(window.end)} (${flags.days} days), ${probe.files} flow-log files`,
    );
    const report = await runAudit({
      inventory,
      flowSource,
      window,
      scope: { vpcIds: flags.vpc, sgIds: flags.sg },
      config,
      mode: 'offline',
      runId: randomUUID(),
      generatedAt: now,
      toolVersion: io.version,
      progress,
      releaseMemory: collectGarbage,
      ...expected,
      ...(ruleChanges ? { ruleChanges } : {}),
    });
    // Only a full read knows the oldest record: the aggregation's, or one now when no ENI in
    // scope was covered (so nothing was aggregated).
    const span = report.flowSources[0] ?? (probe.files > 0 ? await flowSource.span() : undefined);
    if (span?.oldestRecord !== undefined && span.oldestRecord > window.end) {
      throw emptyWindow(span.oldestRecord, span.newestRecord);
    }
    return { report, inventory, memoryLimit: memory.total };
  } finally {
    await flowSource.close();
  }
}

/** One account and region audited live with the given clients. */
export async function liveAudit(
  flags: AuditFlags,
  config: AnalysisConfig,
  io: CliIo,
  progress: (message: string) => void,
  clients: AwsClients,
  expected: Pick<AuditOptions, 'egressAllowList'>,
): Promise<AuditRun> {
  const now = io.now?.() ?? new Date();
  const window = liveWindow({
    ...(flags.end !== undefined ? { end: flags.end } : {}),
    days: flags.days,
    now,
    incompleteTailSeconds: config.incompleteTailSeconds,
  });
  const warn = (message: string) => io.stderr.write(`warning: ${message}\n`);
  const { discovery, inventory, accountId, region } = await discoverAccount(
    clients,
    flags.vpc,
    progress,
    warn,
  );
  const athena = athenaSettingsOf(flags);
  if (!athena && (flags.athenaWorkgroup || flags.athenaOutput)) {
    warn('--athena-workgroup/--athena-output need --athena-database; S3 flow logs are read locally');
  }
  const plan = planFlowSources(inventory.flowLogs, { s3: athena ? 'athena' : 'download' });
  for (const warning of [...plan.warnings, ...plan.unqueried.map(unreadWarning)]) warn(warning);
  progress(`window ${iso(window.start)} .. ${iso(window.end)} (${flags.days} days)`);
  const flowSource = await openFlowSource(plan, {
    clients,
    flowLogs: inventory.flowLogs,
    window,
    now,
    ...(accountId ? { accountId } : {}),
    ...(region ? { region } : {}),
    ...(athena ? { athena } : {}),
    ...(io.flowPollIntervalMs !== undefined ? { pollIntervalMs: io.flowPollIntervalMs } : {}),
    progress,
  });
  try {
    const ruleChanges = await readRuleHistory(clients, now, progress);
    // A flow log nothing reads says nothing about its ENIs: it is no coverage (as in the workflow).
    const unread = new Set(plan.unqueried.map((u) => u.flowLogId));
    const report = await runAudit({
      inventory: { ...inventory, flowLogs: inventory.flowLogs.filter((f) => !unread.has(f.id)) },
      flowSource,
      window,
      scope: { vpcIds: flags.vpc, sgIds: flags.sg },
      config,
      mode: 'live',
      runId: randomUUID(),
      generatedAt: now,
      toolVersion: io.version,
      progress,
      releaseMemory: collectGarbage,
      ...(discovery.result.names ? { instanceNames: discovery.result.names } : {}),
      ...expected,
      ...(ruleChanges ? { ruleChanges } : {}),
    });
    return { report, inventory };
  } finally {
    await flowSource.close();
  }
}
