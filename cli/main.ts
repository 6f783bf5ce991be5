/**
 * The `sg-audit` command line. Argument parsing and output only: the audit itself is the shared
 * pipeline (shared/audit.ts), fed by the offline sources of adapters/local (`--input`) or live
 * from the account of the standard AWS credential chain (cli/live.ts); `export` writes the
 * offline export directory from the account (cli/export.ts).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { type AwsClientFactory, type AwsClients, createAwsClients } from '../adapters/aws/clients';
import { S3ReportSink } from '../adapters/aws/s3-report-sink';
import { DuckDbFlowSource } from '../adapters/local/duckdb/flow-source';
import { parseJsonFile, readExportDirectory, readTextFile } from '../adapters/local/export-dir';
import { runAudit } from '../shared/audit';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../shared/config';
import { EmptyWindowError, InputError } from '../shared/errors';
import { planFlowSources, unreadWarning } from '../shared/flow/source-plan';
import { actionableFindings } from '../shared/history/review';
import { FLOW_LOG_FOLDER } from '../shared/inventory/aws-json';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../shared/model/analysis';
import type { TimeWindow } from '../shared/model/flow';
import type { Inventory } from '../shared/model/inventory';
import { parsePortList } from '../shared/net/ports';
import { parseOutputFormats, renderConsoleSummary } from '../shared/render/index';
import type { AuditReport } from '../shared/report/model';
import { auditReportSchema } from '../shared/report/schema';
import { reviewAndRender } from '../shared/review-and-render';
import { parseSuppressions, type SuppressionSet } from '../shared/suppressions/suppressions';
import { exportAccount } from './export';
import { discoverAccount, liveWindow, openFlowSource } from './live';

/** Exit codes (documented in the README). */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_FINDINGS = 3;

export interface CliIo {
  readonly version: string;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** The current time (the default window of a live run; report timestamps). */
  readonly now?: () => Date;
  /** Creates the AWS clients of live runs and exports. @default createAwsClients (the SDK's chain) */
  readonly awsClients?: AwsClientFactory;
  /** Between Logs Insights / Athena status polls of a live run (tests shorten it). @default the sources' (1 s) */
  readonly flowPollIntervalMs?: number;
}

interface AwsFlags {
  region?: string;
  profile?: string;
}

interface AuditFlags extends AwsFlags {
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
}

interface ExportFlags extends AwsFlags {
  out: string;
  vpc: string[];
  days: number;
  end?: string;
  quiet?: boolean;
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

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function parseEnd(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InputError(`--end '${text}' is not an ISO 8601 date-time`);
  return Math.floor(ms / 1000);
}

/** Builds the program; `main` runs it. Exported for tests. */
export function buildProgram(io: CliIo, result: { exitCode: number }): Command {
  const program = new Command('sg-audit')
    .description(
      'Audit AWS security groups: risk checks, flow-log evidence and least-privilege recommendations',
    )
    .version(io.version)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command('audit')
    .description(
      'Audit security groups and write the reports: offline from an export directory (--input), else live from the AWS account',
    )
    .option('-i, --input <dir>', 'export directory (AWS CLI JSON + flowlogs/); offline mode')
    .option('-o, --out <dir>', 'directory the reports are written to', 'sg-audit-report')
    .option('--vpc <id>', 'only security groups of this VPC (repeatable, comma-separated)', collect, [])
    .option('--sg <id>', 'only this security group (repeatable, comma-separated)', collect, [])
    .option('--days <n>', 'length of the analysed window in days', positiveNumber, 7)
    .option(
      '--end <iso>',
      'end of the window (default: offline the newest flow-log record found, live now minus 15 minutes)',
    )
    .option('--ports <list>', "analyse only these ports, e.g. '22,443,8000-8100'")
    .option('--format <list>', 'outputs: json,csv,xlsx,md,html,ocsf (or all)', 'json,csv,xlsx,md,html,ocsf')
    .addOption(
      new Option(
        '--fail-on <severity>',
        `exit with code ${EXIT_FINDINGS} when findings at or above this severity exist`,
      ).choices(SEVERITIES),
    )
    .option(
      '--config <file>',
      'JSON settings overriding thresholds (summariseMinIps, portGroupMinPorts, ruleQuota, …)',
    )
    .option('--region <region>', 'live: AWS region (default: the SDK chain, AWS_REGION)')
    .option('--profile <name>', 'live: named profile of ~/.aws/config (default: the SDK chain)')
    .option('--athena-database <name>', 'live: query S3 flow logs with Athena, tables in this database')
    .option('--athena-workgroup <name>', 'live: Athena workgroup (default: primary)')
    .option('--athena-output <s3url>', 'live: s3://bucket/prefix/ for Athena query results')
    .option('--s3-bucket <bucket>', 'also write the reports to this S3 bucket (reports/<account>/<region>/…)')
    .option('--previous <file>', "last run's report.json: adds what changed (report changes, changes.csv)")
    .option(
      '--suppressions <file>',
      'accepted risks (YAML or JSON): matching findings are marked and left out of --fail-on',
    )
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: AuditFlags) => {
      result.exitCode = await runAuditCommand(flags, io);
    });

  program
    .command('export')
    .description(
      "Write the offline export directory (inventory JSON + the window's flow logs) from the AWS account",
    )
    .requiredOption('-o, --out <dir>', 'the export directory to write')
    .option('--vpc <id>', 'only this VPC (repeatable, comma-separated)', collect, [])
    .option('--days <n>', 'length of the exported window in days', positiveNumber, 7)
    .option('--end <iso>', 'end of the window (default: now minus 15 minutes)')
    .option('--region <region>', 'AWS region (default: the SDK chain, AWS_REGION)')
    .option('--profile <name>', 'named profile of ~/.aws/config (default: the SDK chain)')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: ExportFlags) => {
      result.exitCode = await runExportCommand(flags, io);
    });
  return program;
}

function progressOf(flags: { quiet?: boolean }, io: CliIo): (message: string) => void {
  const started = Date.now();
  return (message: string) => {
    if (!flags.quiet) io.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
}

function awsClientsOf(flags: AwsFlags, io: CliIo): AwsClients {
  return (io.awsClients ?? createAwsClients)({
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
  });
}

interface AuditRun {
  readonly report: AuditReport;
  readonly inventory: Inventory;
}

async function runAuditCommand(flags: AuditFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const formats = parseOutputFormats(flags.format);
  const ports = flags.ports ? parsePortList(flags.ports) : [];
  const config: AnalysisConfig = {
    ...DEFAULT_CONFIG,
    ...(flags.config ? loadConfigFile(flags.config) : {}),
    ports,
  };
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
    const previous = flags.previous ? readPreviousReport(flags.previous) : undefined;
    const audited = flags.input
      ? await offlineAudit(flags, flags.input, config, io, progress)
      : await liveAudit(flags, config, io, progress, clients as AwsClients);
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
      const threshold = SEVERITY_RANK[flags.failOn];
      // Accepted risks (active suppressions) do not fail the build.
      const failing = actionableFindings(report).filter((f) => SEVERITY_RANK[f.severity] <= threshold).length;
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

function readSuppressionsFile(file: string): SuppressionSet {
  if (!existsSync(file)) throw new InputError('suppressions file not found', { file });
  return parseSuppressions(readTextFile(file), file);
}

/** The previous run's report.json, validated against the report schema. */
function readPreviousReport(file: string): AuditReport {
  if (!existsSync(file)) throw new InputError('previous report not found', { file });
  const parsed = auditReportSchema.safeParse(parseJsonFile(readTextFile(file), file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`not an sg-audit report: ${issue?.message ?? 'invalid'}`, {
      file,
      field: issue?.path.join('.') ?? '',
    });
  }
  return parsed.data as AuditReport;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

async function offlineAudit(
  flags: AuditFlags,
  input: string,
  config: AnalysisConfig,
  io: CliIo,
  progress: (message: string) => void,
): Promise<AuditRun> {
  progress(`reading export directory ${input}`);
  const inventory = readExportDirectory(input);
  const flowDirectory = path.join(input, FLOW_LOG_FOLDER);
  const now = io.now?.() ?? new Date();
  // Records after the run's time are implausible: left out of the default window and counted.
  const flowSource = new DuckDbFlowSource({
    directory: flowDirectory,
    progress,
    now: Math.floor(now.getTime() / 1000),
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
    });
    // Only a full read knows the oldest record: the aggregation's, or one now when no ENI in
    // scope was covered (so nothing was aggregated).
    const span = report.flowSources[0] ?? (probe.files > 0 ? await flowSource.span() : undefined);
    if (span?.oldestRecord !== undefined && span.oldestRecord > window.end) {
      throw emptyWindow(span.oldestRecord, span.newestRecord);
    }
    return { report, inventory };
  } finally {
    await flowSource.close();
  }
}

async function liveAudit(
  flags: AuditFlags,
  config: AnalysisConfig,
  io: CliIo,
  progress: (message: string) => void,
  clients: AwsClients,
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
  const athena = flags.athenaDatabase
    ? {
        database: flags.athenaDatabase,
        ...(flags.athenaWorkgroup ? { workGroup: flags.athenaWorkgroup } : {}),
        ...(flags.athenaOutput ? { outputLocation: flags.athenaOutput } : {}),
      }
    : undefined;
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
    ...(accountId ? { accountId } : {}),
    ...(region ? { region } : {}),
    ...(athena ? { athena } : {}),
    ...(io.flowPollIntervalMs !== undefined ? { pollIntervalMs: io.flowPollIntervalMs } : {}),
    progress,
  });
  try {
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
      ...(discovery.result.names ? { instanceNames: discovery.result.names } : {}),
    });
    return { report, inventory };
  } finally {
    await flowSource.close();
  }
}

async function runExportCommand(flags: ExportFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const window = liveWindow({
    ...(flags.end !== undefined ? { end: flags.end } : {}),
    days: flags.days,
    now: io.now?.() ?? new Date(),
    incompleteTailSeconds: DEFAULT_CONFIG.incompleteTailSeconds,
  });
  const clients = awsClientsOf(flags, io);
  try {
    progress(`window ${iso(window.start)} .. ${iso(window.end)} (${flags.days} days)`);
    const summary = await exportAccount(clients, {
      out: flags.out,
      vpcIds: flags.vpc,
      window,
      progress,
      warn: (message) => io.stderr.write(`warning: ${message}\n`),
    });
    io.stdout.write(
      `Exported to ${flags.out}: ${summary.documents.length} inventory documents, ${summary.s3Objects} S3 flow-log objects (${summary.s3Bytes} bytes), ` +
        `${summary.cloudWatchEvents} CloudWatch Logs events in ${summary.cloudWatchFiles} files; ` +
        `window ${iso(window.start)} .. ${iso(window.end)}\n` +
        `Audit it with: sg-audit audit --input ${flags.out} --end ${iso(window.end)} --days ${flags.days}\n`,
    );
    return EXIT_OK;
  } finally {
    clients.destroy();
  }
}

function iso(seconds: number | undefined): string {
  return seconds === undefined ? '?' : new Date(seconds * 1000).toISOString();
}

/**
 * Runs the CLI with the given arguments (without `node` and the script) and returns the exit code.
 *
 * @example await main(['audit', '--input', 'examples/sample-account', '--out', 'reports/sample'], io)
 */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const result = { exitCode: EXIT_OK };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT_OK : EXIT_ERROR;
    }
    const message = error instanceof Error ? error.message : String(error);
    const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : '';
    io.stderr.write(`error: ${name}${message}\n`);
    return EXIT_ERROR;
  }
}
