/**
 * The deployed remediation's apply step, once a human approved the plan: the shared use case
 * (shared/remediation/apply.ts) on EC2 — each SG re-read and refused when it drifted from the
 * plan's fingerprint, every step DryRun first, adds before revokes, each SG verified with a
 * describe — the record written beside the plan as it goes (applied-<time>.json, before/after).
 *
 * Its role may change only SGs carrying the opt-in tag (IAM aws:ResourceTag): an SG that lost the
 * tag fails its DryRun, which stops the run before any change.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { Ec2RemediationTarget } from '../../adapters/aws/ec2-remediation';
import { S3RemediationFiles } from '../../adapters/aws/s3-remediation-files';
import { applyPlan } from '../../shared/remediation/apply';
import { createLoggers, kmsKeyOf, loadConfig, parseEvent } from '../config';
import { type ApplyResult, applyEventSchema, PlanNotApprovedError } from './contract';

const config = loadConfig('apply');
const { logger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const files = new S3RemediationFiles({ s3, bucket: config.reportBucket, ...kmsKeyOf(config) });
const target = new Ec2RemediationTarget({ ec2: new EC2Client({ retryMode: 'adaptive', maxAttempts: 8 }) });

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

export const handler = async (rawEvent: unknown): Promise<ApplyResult> => {
  const event = parseEvent(applyEventSchema, rawEvent);
  logger.appendKeys({ runId: event.runId });
  const plan = await files.readPlan(event.planKey);
  if (plan.planId !== event.approval.planId) {
    throw new PlanNotApprovedError(
      `the approval names plan ${event.approval.planId}, ${event.planKey} is plan ${plan.planId}: nothing was changed`,
    );
  }
  const started = new Date();
  const appliedKey = `${event.planKey.replace(/plan\.json$/, '')}applied-${stamp(started)}.json`;
  const outcome = await applyPlan(plan, target, {
    dryRun: false,
    now: () => new Date(),
    account: plan.report.account,
    progress: (message) => logger.info(message),
    // Written as the run goes: a crash leaves what was done.
    onRecord: (record) => files.put(appliedKey, `${JSON.stringify(record, null, 2)}\n`),
  });
  const status = outcome.record.status === 'complete' ? 'complete' : 'stopped';
  logger.info('plan applied', {
    appliedKey,
    status,
    drifted: outcome.drifted,
    stoppedAt: outcome.record.stoppedAt,
  });
  return { runId: event.runId, appliedKey, status, drifted: outcome.drifted };
};
