/**
 * `sg-audit audit` over an organization: every (account, region) target audited as one account is
 * — live through the member role (`--accounts LIST | --organization`, `--role-name`,
 * `--external-id`, `--regions`), or offline from a folder of `<account>/<region>/` export
 * directories (`--input DIR`) — each target's reports written to `OUT/<account>/<region>/`, then
 * the organization report to `OUT/org/`. A target that cannot be audited (its role missing, its
 * region not enabled, its export unreadable) is a gap of the organization report, never a failed
 * run. Loaded only when such a run is asked for.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AwsClients } from '../adapters/aws/clients';
import { createAwsClients } from '../adapters/aws/clients';
import { DEFAULT_MEMBER_ROLE_NAME, targetClients } from '../adapters/aws/member-role';
import { listActiveAccounts } from '../adapters/aws/organization-accounts';
import { parseJsonFile, readTextFile } from '../adapters/local/export-dir';
import { InputError } from '../shared/errors';
import type { OrgReport, OrgTarget } from '../shared/org/model';
import { OrgRollup } from '../shared/org/rollup';
import { orgReportSchema } from '../shared/org/schema';
import { planTargets, targetGap } from '../shared/org/targets';
import type { RenderedFile } from '../shared/render/index';
import { parseOutputFormats } from '../shared/render/index';
import { ORG_REPORT_FILE, renderOrgConsoleSummary, renderOrgReport } from '../shared/render/org';
import { reviewAndRender } from '../shared/review-and-render';
import {
  type AuditFlags,
  type AuditRun,
  analysisConfigOf,
  failingFindings,
  liveAudit,
  offlineAudit,
  readEgressAllowList,
  readSuppressionsFile,
} from './audit-command';
import { awsClientsOf, progressOf } from './command-context';
import { EXIT_FINDINGS, EXIT_OK } from './exit-codes';
import type { CliIo } from './main';
import { organizationExports } from './org-input';
import { readReportFile } from './report-file';

export interface OrgAuditFlags extends AuditFlags {
  accounts: string[];
  organization?: boolean;
  roleName?: string;
  externalId?: string;
  regions: string[];
}

/** From OUT/org/ up to OUT/, where the targets' folders are. */
const ORG_REPORT_ROOT = '../';

function writeFiles(directory: string, files: readonly RenderedFile[]): void {
  mkdirSync(directory, { recursive: true });
  for (const file of files) writeFileSync(path.join(directory, file.name), file.body);
}

/** A previous organization run's folder: its org report and its targets' reports, when there. */
function previousRuns(folder: string | undefined): {
  org?: OrgReport;
  of(target: OrgTarget): ReturnType<typeof readReportFile> | undefined;
} {
  if (folder === undefined) return { of: () => undefined };
  if (!existsSync(folder))
    throw new InputError('previous organization run folder not found', { file: folder });
  const orgFile = path.join(folder, 'org', ORG_REPORT_FILE);
  let org: OrgReport | undefined;
  if (existsSync(orgFile)) {
    const parsed = orgReportSchema.safeParse(parseJsonFile(readTextFile(orgFile), orgFile));
    if (!parsed.success) {
      throw new InputError(
        `not an sg-audit organization report: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        {
          file: orgFile,
        },
      );
    }
    org = parsed.data;
  }
  return {
    ...(org ? { org } : {}),
    of: (target) => {
      const file = path.join(folder, target.accountId, target.region, 'report.json');
      return existsSync(file) ? readReportFile(file, 'previous report not found') : undefined;
    },
  };
}

/** The targets of a live run: the listed accounts or the organization's, × the regions. */
async function liveTargets(flags: OrgAuditFlags, base: AwsClients): Promise<OrgTarget[]> {
  if (flags.organization && flags.accounts.length > 0) {
    throw new InputError('--accounts and --organization: give one of them');
  }
  const accounts = flags.organization
    ? await listActiveAccounts(base.organizations)
    : flags.accounts.map((id) => ({ id }));
  if (accounts.length === 0) {
    throw new InputError('no account to audit: give --accounts LIST or --organization (with --regions)');
  }
  const regions = flags.regions.length > 0 ? flags.regions : [await base.ec2.config.region()];
  return planTargets({ accounts, regions });
}

/** The targets of an offline run: the folder's `<account>/<region>/` exports, narrowed by --accounts/--regions. */
function offlineTargets(flags: OrgAuditFlags, input: string): (OrgTarget & { directory: string })[] {
  const exports = organizationExports(input).filter(
    (e) =>
      (flags.accounts.length === 0 || flags.accounts.includes(e.accountId)) &&
      (flags.regions.length === 0 || flags.regions.includes(e.region)),
  );
  if (exports.length === 0) {
    throw new InputError(
      'no <account>/<region>/ export directory (with security-groups.json) under the folder' +
        (flags.accounts.length + flags.regions.length > 0 ? ' for the --accounts/--regions given' : ''),
      { file: input },
    );
  }
  return exports;
}

/** Runs `sg-audit audit` over an organization; returns the exit code. */
export async function runOrgAuditCommand(flags: OrgAuditFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const warn = (message: string) => io.stderr.write(`warning: ${message}\n`);
  for (const [flag, given] of [
    ['--vpc', flags.vpc.length > 0],
    ['--sg', flags.sg.length > 0],
    ['--s3-bucket', flags.s3Bucket !== undefined],
  ] as const) {
    if (given) throw new InputError(`${flag} applies to a single-account audit, not to an organization run`);
  }
  const formats = parseOutputFormats(flags.format);
  const config = analysisConfigOf(flags);
  const suppressions = flags.suppressions ? readSuppressionsFile(flags.suppressions) : undefined;
  const previous = previousRuns(flags.previous);
  const allowList = flags.egressAllowlist ? readEgressAllowList(flags.egressAllowlist) : undefined;
  const expected = allowList ? { egressAllowList: allowList } : {};
  const now = io.now?.() ?? new Date();
  const rollup = new OrgRollup({
    runId: now.toISOString().replace(/[-:]|\.\d+/g, ''),
    generatedAt: now,
    tool: { name: 'sg-audit', version: io.version },
  });
  const base = flags.input ? undefined : awsClientsOf(flags, io);
  // Live, every target audits the same window (offline, each export ends at its newest record unless --end).
  const end =
    flags.end ??
    (flags.input ? undefined : new Date(now.getTime() - config.incompleteTailSeconds * 1000).toISOString());
  let failing = 0;
  try {
    const targets: (OrgTarget & { directory?: string })[] = flags.input
      ? offlineTargets(flags, flags.input)
      : await liveTargets(flags, base as AwsClients);
    const role = {
      roleName: flags.roleName ?? DEFAULT_MEMBER_ROLE_NAME,
      ...(flags.externalId ? { externalId: flags.externalId } : {}),
      sessionName: 'sg-audit-cli',
    };
    progress(`organization run: ${targets.length} target(s)`);
    for (const target of targets) {
      const label = `${target.accountId}/${target.region}`;
      const out = path.join(flags.out, target.accountId, target.region);
      const one: AuditFlags = { ...flags, out, vpc: [], sg: [], ...(end ? { end } : {}) };
      let clients: AwsClients | undefined;
      try {
        progress(`${label}: auditing`);
        let audited: AuditRun;
        if (target.directory !== undefined) {
          audited = await offlineAudit(one, target.directory, config, io, progress, expected);
        } else {
          clients = targetClients(target, {
            factory: io.awsClients ?? createAwsClients,
            sts: (base as AwsClients).sts,
            role,
          });
          // The member role first: a role that cannot be assumed is named as such (MemberRoleError).
          await clients.sts.config.credentials();
          audited = await liveAudit(one, config, io, progress, clients, expected);
        }
        const before = previous.of(target);
        const { report, files } = await reviewAndRender(audited.report, {
          ...(before ? { previous: before } : {}),
          compare: flags.previous !== undefined,
          ...(suppressions ? { suppressions } : {}),
          now,
          formats,
        });
        writeFiles(out, files);
        rollup.addAudit(target, report, `${target.accountId}/${target.region}/report.html`);
        if (flags.failOn) failing += failingFindings(report, flags.failOn);
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(String(error));
        warn(`${label}: not audited (a gap of the organization report): ${failure.name}: ${failure.message}`);
        rollup.addGap(target, targetGap({ name: failure.name, message: failure.message }));
      } finally {
        clients?.destroy();
      }
    }
  } finally {
    base?.destroy();
  }
  const { report, tables } = rollup.finish(previous.org);
  const orgDir = path.join(flags.out, 'org');
  const files = renderOrgReport(report, tables, { reportRoot: ORG_REPORT_ROOT });
  writeFiles(orgDir, files);
  progress(`wrote ${files.length} organization files to ${orgDir}`);
  io.stdout.write(renderOrgConsoleSummary(report));
  io.stdout.write(`\nReports: ${path.join(flags.out, '<account>', '<region>')}/, ${orgDir}/report.html\n`);
  if (flags.failOn && failing > 0) {
    io.stderr.write(
      `${failing} finding(s) at or above '${flags.failOn}' across the organization (--fail-on): exit ${EXIT_FINDINGS}\n`,
    );
    return EXIT_FINDINGS;
  }
  return EXIT_OK;
}
