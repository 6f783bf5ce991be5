/**
 * `sg-audit apply` and `sg-audit rollback`: a plan (or an applied record) made real on EC2 through
 * the shared use case (shared/remediation/apply.ts) and the EC2 target (adapters/aws). The record
 * is written as the run goes (applied-<time>.json, rollback-<time>.json), so even a crash leaves
 * what was done. Loaded only when the command runs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AwsClients } from '../adapters/aws/clients';
import { Ec2RemediationTarget } from '../adapters/aws/ec2-remediation';
import { InputError } from '../shared/errors';
import { applyPlan, type RunOutcome, rollbackApplied } from '../shared/remediation/apply';
import type { AppliedRecord } from '../shared/remediation/model';
import { planSummary } from '../shared/remediation/summary';
import { type AwsFlags, awsClientsOf, progressOf } from './command-context';
import { EXIT_DRIFT, EXIT_ERROR, EXIT_OK } from './exit-codes';
import type { CliIo } from './main';
import { readAppliedFile, readPlanFile } from './report-file';

export interface ApplyFlags extends AwsFlags {
  plan: string;
  dryRun?: boolean;
  yes?: boolean;
  out?: string;
  quiet?: boolean;
}

export interface RollbackFlags extends AwsFlags {
  applied: string;
  dryRun?: boolean;
  yes?: boolean;
  out?: string;
  quiet?: boolean;
}

/** The question on the terminal (stderr), answered on stdin; no terminal, no answer. */
async function askOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new InputError('no terminal to confirm on: review the plan, then pass --yes');
  }
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

/** The account and region the credentials act in; refuses a plan made for another account. */
async function checkAccount(
  clients: AwsClients,
  expected: { readonly id?: string; readonly region?: string },
  region: string | undefined,
): Promise<{ id?: string; region?: string }> {
  const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  if (expected.id && identity.Account && identity.Account !== expected.id) {
    throw new InputError(
      `the plan is for account ${expected.id}, the credentials act in ${identity.Account}: nothing was changed`,
    );
  }
  return { ...(identity.Account ? { id: identity.Account } : {}), ...(region ? { region } : {}) };
}

function outcomeText(outcome: RunOutcome, file: string | undefined, operation: 'apply' | 'rollback'): string {
  const record = outcome.record;
  const lines: string[] = [];
  for (const sg of record.securityGroups) {
    lines.push(
      `  ${sg.status.padEnd(18)} ${sg.sgId.padEnd(22)} ${sg.message ?? `${sg.stepsDone} of ${sg.steps.length} steps`}`,
    );
  }
  for (const acl of record.nacls) {
    lines.push(
      `  ${acl.status.padEnd(18)} ${acl.naclId.padEnd(22)} ${acl.message ?? `${acl.stepsDone} of ${acl.steps.length} steps`}`,
    );
  }
  if (record.stoppedAt) {
    lines.push(
      '',
      `stopped at ${record.stoppedAt.target}, step ${record.stoppedAt.step} of ${record.stoppedAt.of}: ${record.stoppedAt.error}`,
      'the SGs and NACLs listed as applied are done and verified; the failing one keeps only the steps it made',
      '(adds come first, so its access is intact); those not reached are unchanged.',
    );
  }
  if (file) {
    lines.push('', `record: ${file}`);
    if (operation === 'apply' && record.securityGroups.concat().some((sg) => sg.stepsDone > 0)) {
      lines.push(`undo with: sg-audit rollback --applied ${file}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function exitCodeOf(outcome: RunOutcome): number {
  if (outcome.failed) return EXIT_ERROR;
  return outcome.drifted > 0 ? EXIT_DRIFT : EXIT_OK;
}

async function runRemediation(
  flags: AwsFlags & { dryRun?: boolean; yes?: boolean; out?: string; quiet?: boolean },
  io: CliIo,
  input: {
    readonly file: string;
    readonly account: { id?: string; region?: string };
    readonly operation: 'apply' | 'rollback';
  },
  go: (target: Ec2RemediationTarget, options: Parameters<typeof applyPlan>[2]) => Promise<RunOutcome>,
): Promise<number> {
  const progress = progressOf(flags, io);
  const region = flags.region ?? input.account.region;
  const clients = awsClientsOf({ ...flags, ...(region ? { region } : {}) }, io);
  try {
    const account = await checkAccount(clients, input.account, region);
    const now = () => io.now?.() ?? new Date();
    const started = now();
    const recordFile = flags.dryRun
      ? undefined
      : path.join(
          flags.out ?? path.dirname(input.file),
          `${input.operation === 'apply' ? 'applied' : 'rollback'}-${stamp(started)}.json`,
        );
    const confirm = flags.yes || flags.dryRun ? undefined : (io.confirm ?? askOnTerminal);
    const outcome = await go(new Ec2RemediationTarget({ ec2: clients.ec2 }), {
      dryRun: flags.dryRun ?? false,
      now,
      account,
      progress,
      ...(confirm
        ? {
            confirm: (summary: string) =>
              confirm(
                `${summary}\n${input.operation === 'apply' ? 'Apply' : 'Roll back'} these changes in account ${account.id ?? '?'} ${account.region ?? ''}? [y/N] `,
              ),
          }
        : {}),
      ...(recordFile
        ? {
            onRecord: (record: AppliedRecord) =>
              writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`),
          }
        : {}),
    });
    if (outcome.declined) {
      io.stdout.write('not confirmed: nothing was changed\n');
      return EXIT_OK;
    }
    if (flags.dryRun) io.stdout.write('dry run (EC2 DryRun, nothing changed):\n');
    io.stdout.write(outcomeText(outcome, recordFile, input.operation));
    if (outcome.drifted > 0) {
      io.stderr.write(
        `${outcome.drifted} refused for drift: make a new plan from a fresh audit (exit ${EXIT_DRIFT})\n`,
      );
    }
    return exitCodeOf(outcome);
  } finally {
    clients.destroy();
  }
}

/** Runs `sg-audit apply` with parsed flags; returns the exit code. */
export async function runApplyCommand(flags: ApplyFlags, io: CliIo): Promise<number> {
  const plan = readPlanFile(flags.plan);
  if (!flags.yes && !flags.dryRun) io.stdout.write(planSummary(plan));
  return runRemediation(
    flags,
    io,
    { file: flags.plan, account: plan.report.account, operation: 'apply' },
    (target, options) => applyPlan(plan, target, options),
  );
}

/** Runs `sg-audit rollback` with parsed flags; returns the exit code. */
export async function runRollbackCommand(flags: RollbackFlags, io: CliIo): Promise<number> {
  const applied = readAppliedFile(flags.applied);
  if (applied.operation !== 'apply') {
    throw new InputError('this record is of a rollback: roll back an applied-<time>.json', {
      file: flags.applied,
    });
  }
  return runRemediation(
    flags,
    io,
    { file: flags.applied, account: applied.account ?? {}, operation: 'rollback' },
    (target, options) => rollbackApplied(applied, target, options),
  );
}
