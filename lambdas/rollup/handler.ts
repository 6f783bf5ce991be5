/**
 * The last step before notify of an organization run: the targets' outcomes (the Distributed
 * Map's ResultWriter) rolled up into the organization report — each audited target's stored
 * report.json read (a few at a time, never all held at once), each failed one a gap — compared
 * with the previous organization report, rendered and stored under `reports/org/…`.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ReportSink } from '../../adapters/aws/s3-report-sink';
import { S3WorkStore } from '../../adapters/aws/s3-work-store';
import { mapBounded } from '../../shared/concurrency';
import { OrgRollup } from '../../shared/org/rollup';
import { gapOfFailedRun, targetGap } from '../../shared/org/targets';
import { ORG_REPORT_FILE, renderOrgReport } from '../../shared/render/org';
import { createLoggers, kmsKeyOf, loadConfig, parseEvent, TOOL_VERSION } from '../config';
import { type RollupResult, rollupEventSchema, targetOutcomes } from './contract';

/** Target reports read at once. */
const READ_CONCURRENCY = 8;
/** From reports/org/<yyyy>/<mm>/<dd>/<run>/ up to the reports root. */
const ORG_REPORT_ROOT = '../../../../../';

const config = loadConfig('rollup');
const { logger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const kms = kmsKeyOf(config);
const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kms });
const sink = new S3ReportSink({ s3, bucket: config.reportBucket, prefix: config.reportPrefix, ...kms });

/** A target report's report.html, relative to the reports root. */
function reportPathOf(reportJsonKey: string): string {
  const root = config.reportPrefix === '' ? '' : `${config.reportPrefix}/`;
  const key = reportJsonKey.startsWith(root) ? reportJsonKey.slice(root.length) : reportJsonKey;
  return key.replace(/report\.json$/, 'report.html');
}

export const handler = async (rawEvent: unknown): Promise<RollupResult> => {
  const event = parseEvent(rollupEventSchema, rawEvent);
  const { runId } = event;
  logger.appendKeys({ runId });
  const outcomes = targetOutcomes(await store.getMapResults(event.targetResultsKey));
  // Before writing: writeOrg moves org/latest.json to this run.
  const previous = await sink.readOrgLatest();
  const rollup = new OrgRollup({
    runId,
    generatedAt: new Date(),
    tool: { name: 'sg-audit', version: TOOL_VERSION },
  });
  await mapBounded(outcomes, READ_CONCURRENCY, async (outcome) => {
    if (outcome.status === 'gap') {
      rollup.addGap(outcome.target, gapOfFailedRun(outcome.error));
      return;
    }
    try {
      const report = await sink.readReport(outcome.result.reportJsonKey);
      rollup.addAudit(outcome.target, report, reportPathOf(outcome.result.reportJsonKey));
    } catch (error) {
      // The target was audited but its report cannot be read back: a gap, named.
      const failure = error instanceof Error ? error : new Error(String(error));
      rollup.addGap(outcome.target, targetGap({ name: failure.name, message: failure.message }, 'RollUp'));
    }
  });
  const { report, tables } = rollup.finish(previous);
  const files = renderOrgReport(report, tables, { reportRoot: ORG_REPORT_ROOT });
  const stored = await sink.writeOrg(report, files);
  const gaps = report.targets.filter((t) => t.status === 'gap');
  const result: RollupResult = {
    runId,
    orgReportKey: `${sink.orgRunPrefix(report)}${ORG_REPORT_FILE}`,
    ...(stored.htmlUrl ? { htmlUrl: stored.htmlUrl } : {}),
    ...(stored.htmlUrlExpiresAt ? { htmlUrlExpiresAt: stored.htmlUrlExpiresAt } : {}),
    targets: report.totals.targets,
    audited: report.totals.audited,
    gaps: report.totals.gaps,
    gapTargets: gaps.slice(0, 50).map((t) => ({ accountId: t.accountId, region: t.region })),
  };
  logger.info('organization report stored', { ...result, htmlUrl: undefined });
  return result;
};
