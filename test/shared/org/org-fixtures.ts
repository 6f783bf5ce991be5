/**
 * An organization run for the roll-up, renderer and alert tests: two accounts × two regions, the
 * sample report (compared with last week's) in one target, a first-run report in another, an
 * unchanged one, and a target whose member role could not be assumed.
 */

import type { OrgReport, OrgTarget } from '../../../shared/org/model';
import { OrgRollup, type OrgRollupResult } from '../../../shared/org/rollup';
import { targetGap } from '../../../shared/org/targets';
import type { AuditReport } from '../../../shared/report/model';
import { changedReport, firstRunReport, unchangedReport } from '../../fixtures/changes-fixture';

export const PROD = '111111111111';
export const DEV = '222222222222';
export const TOOL = { name: 'sg-audit', version: '0.1.0' };
export const ASSUME_ROLE_DENIED = {
  name: 'AccessDenied',
  message: `User: arn:aws:sts::999999999999:assumed-role/SgAudit-Discover/run is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${DEV}:role/SgAuditMember`,
};

export const TARGETS = {
  prodEu: { accountId: PROD, region: 'eu-west-1', accountName: 'prod' },
  prodUs: { accountId: PROD, region: 'us-east-1', accountName: 'prod' },
  devEu: { accountId: DEV, region: 'eu-west-1', accountName: 'dev' },
  devUs: { accountId: DEV, region: 'us-east-1', accountName: 'dev' },
} as const satisfies Record<string, OrgTarget>;

/** A report as the target's own run writes it: its account and region. */
export function reportOf(report: AuditReport, target: OrgTarget): AuditReport {
  return { ...report, account: { id: target.accountId, region: target.region } };
}

/**
 * The organization run: prod/eu-west-1 changed since last week, prod/us-east-1 on its first run,
 * dev/eu-west-1 unchanged, dev/us-east-1 a gap (AssumeRole denied).
 *
 * @example const { report, tables } = orgRun(previous);
 */
export function orgRun(previous?: OrgReport, runId = 'org-run-2'): OrgRollupResult {
  const rollup = new OrgRollup({ runId, generatedAt: new Date('2025-11-17T01:00:00Z'), tool: TOOL });
  const { prodEu, prodUs, devEu, devUs } = TARGETS;
  rollup.addGap(devUs, targetGap(ASSUME_ROLE_DENIED, 'Discover'));
  rollup.addAudit(prodEu, reportOf(changedReport(), prodEu), `${PROD}/eu-west-1/report.html`);
  rollup.addAudit(prodUs, reportOf(firstRunReport(), prodUs), `${PROD}/us-east-1/report.html`);
  rollup.addAudit(devEu, reportOf(unchangedReport(), devEu), `${DEV}/eu-west-1/report.html`);
  return rollup.finish(previous);
}
