/**
 * The `sg-audit` command line. Argument parsing and output only: the audit itself is the shared
 * pipeline (shared/audit.ts) fed by the offline sources of adapters/local.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { DuckDbFlowSource } from '../adapters/local/duckdb-flow-source';
import { FLOW_LOG_FOLDER, parseJsonFile, readExportDirectory } from '../adapters/local/export-dir';
import { runAudit } from '../shared/audit';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../shared/config';
import { EmptyWindowError, InputError } from '../shared/errors';
import { SEVERITIES, type Severity } from '../shared/model/analysis';
import type { TimeWindow } from '../shared/model/flow';
import { parsePortList } from '../shared/net/ports';
import { parseOutputFormats, renderConsoleSummary, renderReport } from '../shared/render/index';
import type { AuditReport } from '../shared/report/model';

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
}

interface AuditFlags {
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
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  info: 4,
};

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
  const parsed = configOverrides.safeParse(parseJsonFile(readFileSync(file, 'utf8'), file));
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
    .description('Audit security groups of an export directory (offline) and write the reports')
    .option('-i, --input <dir>', 'export directory (AWS CLI JSON + flowlogs/); offline mode')
    .option('-o, --out <dir>', 'directory the reports are written to', 'sg-audit-report')
    .option('--vpc <id>', 'only security groups of this VPC (repeatable, comma-separated)', collect, [])
    .option('--sg <id>', 'only this security group (repeatable, comma-separated)', collect, [])
    .option('--days <n>', 'length of the analysed window in days', positiveNumber, 7)
    .option('--end <iso>', 'end of the window (default: the newest flow-log record found)')
    .option('--ports <list>', "analyse only these ports, e.g. '22,443,8000-8100'")
    .option('--format <list>', 'outputs: json,csv,xlsx,md,html', 'json,csv,xlsx,md,html')
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
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: AuditFlags) => {
      result.exitCode = await runAuditCommand(flags, io);
    });
  return program;
}

async function runAuditCommand(flags: AuditFlags, io: CliIo): Promise<number> {
  const started = Date.now();
  const progress = (message: string) => {
    if (!flags.quiet) io.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
  if (!flags.input) {
    throw new InputError(
      'live mode (no --input) needs the AWS adapters, which this build does not include yet; export the account with the AWS CLI and pass --input DIR',
    );
  }
  const formats = parseOutputFormats(flags.format);
  const ports = flags.ports ? parsePortList(flags.ports) : [];
  const config: AnalysisConfig = {
    ...DEFAULT_CONFIG,
    ...(flags.config ? loadConfigFile(flags.config) : {}),
    ports,
  };

  progress(`reading export directory ${flags.input}`);
  const inventory = readExportDirectory(flags.input);
  const flowDirectory = path.join(flags.input, FLOW_LOG_FOLDER);
  const flowSource = new DuckDbFlowSource({ directory: flowDirectory, progress });
  let report: AuditReport;
  try {
    const probe = await flowSource.probe();
    const end = flags.end ? parseEnd(flags.end) : probe.newestRecord;
    if (end === undefined) {
      throw new EmptyWindowError(
        `no flow-log records found under ${flowDirectory}: pass --end to audit without traffic evidence (every rule will be 'unknown')`,
      );
    }
    const window: TimeWindow = { start: end - Math.round(flags.days * 86400), end };
    if (
      probe.files > 0 &&
      (probe.newestRecord === undefined ||
        probe.newestRecord < window.start ||
        (probe.oldestRecord ?? 0) > window.end)
    ) {
      throw new EmptyWindowError(
        `the window ${iso(window.start)} .. ${iso(window.end)} holds no flow-log records (records span ${iso(probe.oldestRecord)} .. ${iso(probe.newestRecord)}); adjust --end/--days`,
      );
    }
    progress(
      `window ${iso(window.start)} .. ${iso(window.end)} (${flags.days} days), ${probe.files} flow-log files`,
    );
    report = await runAudit({
      inventory,
      flowSource,
      window,
      scope: { vpcIds: flags.vpc, sgIds: flags.sg },
      config,
      mode: 'offline',
      runId: randomUUID(),
      generatedAt: io.now?.() ?? new Date(),
      toolVersion: io.version,
      progress,
    });
  } finally {
    await flowSource.close();
  }
  for (const id of [...flags.vpc, ...flags.sg]) {
    const known = id.startsWith('vpc-')
      ? inventory.vpcs.some((v) => v.id === id) || inventory.securityGroups.some((sg) => sg.vpcId === id)
      : inventory.securityGroups.some((sg) => sg.id === id);
    if (!known) io.stderr.write(`warning: ${id} is not in the export; nothing of it was audited\n`);
  }

  const files = await renderReport(report, formats);
  mkdirSync(flags.out, { recursive: true });
  for (const file of files) writeFileSync(path.join(flags.out, file.name), file.body);
  progress(`wrote ${files.length} files to ${flags.out}`);
  io.stdout.write(renderConsoleSummary(report));
  io.stdout.write(`\nReports: ${files.map((f) => path.join(flags.out, f.name)).join(', ')}\n`);

  if (flags.failOn) {
    const threshold = SEVERITY_RANK[flags.failOn];
    const failing = report.findings.filter((f) => SEVERITY_RANK[f.severity] <= threshold).length;
    if (failing > 0) {
      io.stderr.write(
        `${failing} finding(s) at or above '${flags.failOn}' (--fail-on): exit ${EXIT_FINDINGS}\n`,
      );
      return EXIT_FINDINGS;
    }
  }
  return EXIT_OK;
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
