/**
 * The `sg-audit` command line: argument parsing and output. Each command's module is loaded only
 * when it runs (cli/audit-command.ts, cli/export-command.ts), so `sg-audit --help` loads neither
 * DuckDB nor the AWS SDK. The audit itself is the shared pipeline (shared/audit.ts), fed by the
 * offline sources of adapters/local (`--input`) or live from the account of the standard AWS
 * credential chain (cli/live.ts); `export` writes the offline export directory from the account
 * (cli/export.ts).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AwsClientFactory } from '../adapters/aws/clients';
import { SEVERITIES } from '../shared/model/analysis';
import type { ApplyFlags, RollbackFlags } from './apply-command';
import type { DecisionFlags, StepFunctionsClientFactory } from './decide-command';
import type { DoctorFlags } from './doctor-command';
import { EXIT_DRIFT, EXIT_ERROR, EXIT_FINDINGS, EXIT_NOT_READY, EXIT_OK } from './exit-codes';
import type { ExportFlags } from './export-command';
import type { OrgAuditFlags } from './org-command';
import type { PlanFlags } from './plan-command';

export { EXIT_DRIFT, EXIT_ERROR, EXIT_FINDINGS, EXIT_NOT_READY, EXIT_OK } from './exit-codes';

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
  /** Asks a yes/no question (apply and rollback without --yes). @default the terminal; none: an error */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Creates the Step Functions client of approve/reject. @default the SDK's chain, as the other clients */
  readonly stepFunctions?: StepFunctionsClientFactory;
  /**
   * The process's peak resident memory so far, in bytes: an offline audit compares it with
   * --memory-limit and warns when it went above. bin/sg-audit.mjs, whose child process runs the
   * command alone, passes it. @default none: not compared (main() in a process doing other work)
   */
  readonly peakMemoryBytes?: () => number;
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

/**
 * Adds the options of a command that calls AWS, in this order: `--region` (its default in words),
 * `--profile`, then `-q`.
 */
function withAwsAccess(command: Command, regionDefault: string): Command {
  return command
    .option('--region <region>', `AWS region (default: ${regionDefault})`)
    .option('--profile <name>', 'named profile of ~/.aws/config (default: the SDK chain)')
    .option('-q, --quiet', 'no progress on stderr');
}

/** Builds the program; `main` runs it. Exported for tests. */
export function buildProgram(io: CliIo, result: { exitCode: number }): Command {
  /** The action of a command whose module is loaded only when it runs; its exit code is the run's. */
  const runLoaded =
    <F>(load: () => Promise<(flags: F, io: CliIo) => Promise<number>>) =>
    async (flags: F): Promise<void> => {
      result.exitCode = await (await load())(flags, io);
    };
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
    .option(
      '--egress-allowlist <file>',
      'expected external destinations (YAML or JSON): the egress view then shows the unexpected ones',
    )
    .option(
      '--memory-limit <size>',
      'offline: peak memory to stay under (e.g. 512MiB, 2GiB); the flow-log aggregation works in 128 MiB per thread and spills to disk beyond it',
      '1GiB',
    )
    .option(
      '--threads <n>',
      'offline: DuckDB threads for the flow-log aggregation (128 MiB each, within --memory-limit): faster on large exports, more memory',
      positiveNumber,
      1,
    )
    .option(
      '--accounts <list>',
      'organization run: these accounts (comma-separated), through their member role',
      collect,
      [],
    )
    .option(
      '--organization',
      'organization run: every ACTIVE account of the organization (Organizations ListAccounts)',
    )
    .option(
      '--role-name <name>',
      'organization run: the member role to assume in each account (default: SgAuditMember)',
    )
    .option('--external-id <id>', "organization run: the external id the member role's trust requires")
    .option(
      '--regions <list>',
      'organization run: these regions of each account (default: --region, the SDK chain)',
      collect,
      [],
    )
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (flags: OrgAuditFlags) => {
      // An organization run: live with --accounts/--organization/--regions, or offline over a
      // folder of <account>/<region>/ exports; its own module writes OUT/<account>/<region>/ and OUT/org/.
      const { isOrganizationRun } = await import('./org-input');
      if (isOrganizationRun(flags)) {
        const { runOrgAuditCommand } = await import('./org-command');
        result.exitCode = await runOrgAuditCommand(flags, io);
        return;
      }
      const { runAuditCommand } = await import('./audit-command');
      result.exitCode = await runAuditCommand(flags, io);
    });

  withAwsAccess(
    program
      .command('export')
      .description(
        "Write the offline export directory (inventory JSON + the window's flow logs) from the AWS account",
      )
      .requiredOption('-o, --out <dir>', 'the export directory to write')
      .option('--vpc <id>', 'only this VPC (repeatable, comma-separated)', collect, [])
      .option('--days <n>', 'length of the exported window in days', positiveNumber, 7)
      .option('--end <iso>', 'end of the window (default: now minus 15 minutes)'),
    'the SDK chain, AWS_REGION',
  ).action(runLoaded<ExportFlags>(async () => (await import('./export-command')).runExportCommand));
  program
    .command('doctor')
    .description(
      `Check the account before deploying (or when a run looks wrong): flow-log delivery over 24 h, a 1-hour trial of the audit's queries, quotas; exit ${EXIT_NOT_READY} when the audit would be blind`,
    )
    .option('--vpc <id>', 'only this VPC (repeatable, comma-separated)', collect, [])
    .option(
      '--athena-database <name>',
      'trial S3 flow logs in Athena, tables in this database (as the audit)',
    )
    .option('--athena-workgroup <name>', 'Athena workgroup (default: primary)')
    .option('--athena-output <s3url>', 's3://bucket/prefix/ for Athena query results')
    .option('--region <region>', 'AWS region (default: the SDK chain, AWS_REGION)')
    .option('--profile <name>', 'named profile of ~/.aws/config (default: the SDK chain)')
    .option('--json', 'print the result as JSON instead of the table')
    .option(
      '--role-arn <arn>',
      "a role whose permissions the audit will use (repeatable: the deployed functions' roles, or a member role): IAM's policy simulator checks them",
      collect,
      [],
    )
    .option('-q, --quiet', 'no progress on stderr')
    .action(runLoaded<DoctorFlags>(async () => (await import('./doctor-command')).runDoctorCommand));

  program
    .command('plan')
    .description(
      'Turn a report into a change plan: plan.json, apply.sh, rollback.sh, plan.md and IaC changes (proven verdicts only)',
    )
    .requiredOption('-r, --report <file>', "the audit's report.json")
    .option('-o, --out <dir>', 'directory the plan is written to', 'sg-audit-plan')
    .option('--sg <id>', 'only this security group (repeatable, comma-separated)', collect, [])
    .option('--include <verdicts>', 'verdicts to act on: narrow,remove', 'narrow,remove')
    .option('--nacl', 'also plan the network ACLs the report recommends entries for')
    .option('--nacl-quota <n>', 'NACL entries per direction (AWS default 20)', positiveNumber)
    .option('-q, --quiet', 'no progress on stderr')
    .action(runLoaded<PlanFlags>(async () => (await import('./plan-command')).runPlanCommand));

  /** apply and rollback: the same drift-checked change, of a plan or back to an applied record's before. */
  const change = (
    name: 'apply' | 'rollback',
    spec: {
      readonly description: string;
      /** The required input option: flags and help. */
      readonly input: readonly [string, string];
      /** The file written, and the input whose directory and region are the defaults ('plan', 'record'). */
      readonly writes: string;
      readonly from: string;
    },
  ) =>
    withAwsAccess(
      program
        .command(name)
        .description(spec.description)
        .requiredOption(...spec.input)
        .option('--dry-run', 'drift checks and EC2 DryRun only: nothing changes')
        .option('-y, --yes', 'do not ask before changing')
        .option('-o, --out <dir>', `where ${spec.writes} is written (default: the ${spec.from}'s directory)`),
      `the ${spec.from}'s`,
    );
  change('apply', {
    description: `Apply a change plan: drift check, EC2 DryRun, adds before revokes, verify; writes applied-<time>.json (exit ${EXIT_DRIFT} when an SG drifted)`,
    input: ['-p, --plan <file>', 'plan.json of sg-audit plan'],
    writes: 'applied-<time>.json',
    from: 'plan',
  }).action(runLoaded<ApplyFlags>(async () => (await import('./apply-command')).runApplyCommand));
  change('rollback', {
    description: `Restore the rules an apply changed, exactly as they were (same drift check; exit ${EXIT_DRIFT} when one drifted)`,
    input: ['-a, --applied <file>', 'applied-<time>.json of sg-audit apply'],
    writes: 'rollback-<time>.json',
    from: 'record',
  }).action(runLoaded<RollbackFlags>(async () => (await import('./apply-command')).runRollbackCommand));

  const decision = (name: 'approve' | 'reject', description: string) =>
    program
      .command(name)
      .description(description)
      .requiredOption('--run <id>', "the run id of the approval alert (the deployed workflow's execution)")
      .option(
        '--work-bucket <name>',
        "the work bucket holding the approval (the stack's ApprovalBucket output; the alert's command names it)",
      )
      .option('--region <region>', "the stack's region (default: the SDK chain, AWS_REGION)")
      .option(
        '--profile <name>',
        'named profile of ~/.aws/config: your own credentials (default: the SDK chain)',
      );
  decision(
    'approve',
    "Approve a deployed run's remediation plan: shows it, then lets the workflow apply it (Step Functions SendTaskSuccess)",
  ).action(runLoaded<DecisionFlags>(async () => (await import('./decide-command')).runApproveCommand));
  decision(
    'reject',
    "Reject a deployed run's remediation plan: nothing changes (Step Functions SendTaskFailure)",
  )
    .option('--reason <text>', 'why, for the rejection alert and the record')
    .action(runLoaded<DecisionFlags>(async () => (await import('./decide-command')).runRejectCommand));
  return program;
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
