/**
 * `sg-audit plan`: a report becomes a change plan (shared/remediation/plan.ts) written as
 * plan.json, apply.sh, rollback.sh, plan.md and, for SGs that code manages, iac/. Offline: it
 * reads only the report. Loaded only when the command runs.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../shared/errors';
import { PLANNABLE_VERDICTS, type PlannableVerdict } from '../shared/remediation/model';
import { buildPlan } from '../shared/remediation/plan';
import { renderPlanFiles } from '../shared/remediation/render';
import { planSummary } from '../shared/remediation/summary';
import { progressOf } from './command-context';
import { EXIT_OK } from './exit-codes';
import type { CliIo } from './main';
import { readReportFile } from './report-file';

export interface PlanFlags {
  report: string;
  out: string;
  sg: string[];
  include: string;
  nacl?: boolean;
  naclQuota?: number;
  quiet?: boolean;
}

function parseInclude(text: string): PlannableVerdict[] {
  const verdicts = text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const unknown = verdicts.filter((v) => !(PLANNABLE_VERDICTS as readonly string[]).includes(v));
  if (unknown.length > 0 || verdicts.length === 0) {
    throw new InputError(
      `--include '${text}': only proven verdicts can be planned (${PLANNABLE_VERDICTS.join(', ')}); 'review' never is`,
    );
  }
  return verdicts as PlannableVerdict[];
}

/** Runs `sg-audit plan` with parsed flags; returns the exit code. */
export async function runPlanCommand(flags: PlanFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const include = parseInclude(flags.include);
  const report = readReportFile(flags.report);
  for (const id of flags.sg) {
    if (!report.securityGroups.some((sg) => sg.id === id)) {
      io.stderr.write(`warning: ${id} is not in the report; nothing of it is planned\n`);
    }
  }
  if (flags.nacl && report.networkAcls === undefined && report.naclRecommendations.length > 0) {
    io.stderr.write('warning: the report predates NACL entries in reports: re-run the audit to plan NACLs\n');
  }
  const plan = buildPlan(report, {
    sgIds: flags.sg,
    include,
    nacl: flags.nacl ?? false,
    ...(flags.naclQuota !== undefined ? { naclQuota: flags.naclQuota } : {}),
    createdAt: io.now?.() ?? new Date(),
    toolVersion: io.version,
  });
  const files = renderPlanFiles(plan);
  for (const file of files) {
    const target = path.join(flags.out, file.name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.body);
    if (file.executable) chmodSync(target, 0o755);
  }
  progress(`wrote ${files.length} files to ${flags.out}`);
  io.stdout.write(planSummary(plan));
  io.stdout.write(
    `\nReview ${path.join(flags.out, 'plan.md')}, then: sg-audit apply --plan ${path.join(flags.out, 'plan.json')}\n`,
  );
  return EXIT_OK;
}
