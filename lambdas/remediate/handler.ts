/**
 * The deployed remediation's planning and alerting (the apply function changes the SGs):
 * - plan: the plan of the SGs carrying the opt-in tag (buildPlan over the stored report), written
 *   beside the report with plan.md, apply.sh and the SGs not opted in;
 * - request-approval (the waiting task): stores the approval record with the task token in the
 *   work bucket and alerts the approvers with the summary and the approve/reject commands;
 * - outcome: ends the record (approved, rejected, expired, failed; the token dropped) and alerts
 *   how it ended, from the applied record when there is one.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { alertChannelsOf } from '../../adapters/aws/alert-channels';
import { AlertDeliveryError } from '../../adapters/aws/composite-alert-publisher';
import { S3ApprovalStore } from '../../adapters/aws/s3-approvals';
import { S3RemediationFiles } from '../../adapters/aws/s3-remediation-files';
import { S3ReportSink } from '../../adapters/aws/s3-report-sink';
import { outcomeDetails, outcomeOfApplied } from '../../shared/alerts/remediation';
import type { RemediationAlert } from '../../shared/model/ports';
import {
  approvalAlertOf,
  approvalRecordOf,
  decidedRecord,
  deployedPlanFiles,
  NOT_OPTED_IN_FILE,
  type NotOptedIn,
  planOptedIn,
  rejectionOf,
} from '../../shared/remediation/approval';
import { createLoggers, kmsKeyOf, loadConfig, parseEvent, TOOL_VERSION } from '../config';
import { type OutcomeResult, type PlanResult, type RemediateEvent, remediateEventSchema } from './contract';

const config = loadConfig('remediate');
const { logger, adapterLogger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const kms = kmsKeyOf(config);
const reports = new S3ReportSink({ s3, bucket: config.reportBucket, logger: adapterLogger });
const files = new S3RemediationFiles({ s3, bucket: config.reportBucket, ...kms });
const approvals = new S3ApprovalStore({ s3, bucket: config.workBucket, ...kms });
const alerts = alertChannelsOf(config, adapterLogger);
const { tag, include, approvalTimeoutSeconds } = config.remediation;

const folderOf = (key: string) => key.replace(/[^/]*$/, '');

async function plan(event: Extract<RemediateEvent, { action: 'plan' }>): Promise<PlanResult> {
  const report = await reports.readReport(event.reportJsonKey);
  const made = planOptedIn(report, { tag, include, createdAt: new Date(), toolVersion: TOOL_VERSION });
  const { summary } = made.plan;
  const counts = { toApply: summary.toApply, adds: summary.adds, revokes: summary.revokes };
  if (made.plan.securityGroups.length === 0 && made.notOptedIn.length === 0) {
    logger.info('nothing to plan: no proven change');
    return { runId: event.runId, awaitApproval: false, ...counts, notOptedIn: 0 };
  }
  for (const file of deployedPlanFiles(made.plan, made.notOptedIn, tag))
    await files.put(`${event.reportPrefix}${file.name}`, file.body);
  const planKey = `${event.reportPrefix}plan.json`;
  logger.info('plan stored', { planKey, ...counts, notOptedIn: made.notOptedIn.length });
  return {
    runId: event.runId,
    awaitApproval: summary.toApply > 0,
    planKey,
    planId: made.plan.planId,
    ...counts,
    notOptedIn: made.notOptedIn.length,
  };
}

/** Publishes to every channel; throws when none took it (a retry then repeats no message). */
async function publish(alert: RemediationAlert): Promise<Pick<OutcomeResult, 'published' | 'failed'>> {
  const outcomes = await alerts.publishAll(alert);
  const published = outcomes.filter((o) => o.delivered).map((o) => o.name);
  const failures = outcomes.flatMap((o) => (o.delivered ? [] : [{ name: o.name, error: o.error }]));
  if (published.length === 0 && failures.length > 0) throw new AlertDeliveryError(failures, published);
  return {
    published,
    failed: failures.map((f) => ({ channel: f.name, error: `${f.error.name}: ${f.error.message}` })),
  };
}

async function requestApproval(
  event: Extract<RemediateEvent, { action: 'request-approval' }>,
): Promise<void> {
  const planned = await files.readPlan(event.planKey);
  const notOptedIn = (await files.readJson(`${folderOf(event.planKey)}${NOT_OPTED_IN_FILE}`)) as NotOptedIn[];
  const record = approvalRecordOf({
    runId: event.runId,
    plan: planned,
    planLocation: `s3://${config.reportBucket}/${folderOf(event.planKey)}`,
    notOptedIn,
    tag,
    taskToken: event.taskToken,
    now: new Date(),
    timeoutSeconds: approvalTimeoutSeconds,
    ...(config.region ? { region: config.region } : {}),
  });
  await approvals.write(record);
  const sent = await publish(approvalAlertOf(record, config.workBucket));
  logger.info('approval requested', { planId: record.planId, expiresAt: record.expiresAt, ...sent });
}

async function outcome({
  runId,
  decision,
}: Extract<RemediateEvent, { action: 'outcome' }>): Promise<OutcomeResult> {
  const now = new Date();
  const event = {
    runId,
    decision: decision.status,
    ...(decision.appliedKey ? { appliedKey: decision.appliedKey } : {}),
    ...(decision.error ? { error: decision.error } : {}),
    ...(decision.approval ? { approval: decision.approval } : {}),
  };
  const record = await approvals.read(event.runId);
  const rejection = event.decision === 'rejected' ? rejectionOf(event.error?.Cause) : {};
  const error = event.error
    ? `${event.error.Error}${event.error.Cause ? `: ${event.error.Cause}` : ''}`
    : undefined;
  const applied = event.appliedKey ? await files.readApplied(event.appliedKey) : undefined;
  const result = applied
    ? outcomeOfApplied(applied)
    : event.decision === 'applied'
      ? 'failed'
      : event.decision;
  const decidedBy = event.approval?.by ?? rejection.by;
  if (record?.status === 'pending') {
    const status = event.decision === 'applied' ? 'approved' : event.decision;
    const reason =
      event.decision === 'rejected' ? rejection.reason : event.decision === 'failed' ? error : undefined;
    await approvals.write(
      decidedRecord(record, status, now, {
        ...(decidedBy ? { by: decidedBy } : {}),
        ...(reason ? { reason } : {}),
      }),
    );
  }
  const alert: RemediationAlert = {
    kind: 'remediation-outcome',
    runId: event.runId,
    account: applied?.account ?? record?.account ?? {},
    outcome: result,
    ...(applied ? outcomeDetails(applied) : { securityGroups: [] }),
    ...(event.appliedKey ? { recordLocation: `s3://${config.reportBucket}/${event.appliedKey}` } : {}),
    ...(event.decision === 'rejected' && rejection.reason ? { reason: rejection.reason } : {}),
    ...(event.decision === 'failed' && error ? { reason: error } : {}),
    ...(decidedBy ? { decidedBy } : {}),
  };
  const sent = await publish(alert);
  logger.info('remediation ended', { outcome: result, ...sent });
  return { runId: event.runId, outcome: result, ...sent };
}

export const handler = async (
  rawEvent: unknown,
): Promise<PlanResult | OutcomeResult | { requested: true }> => {
  const event = parseEvent(remediateEventSchema, rawEvent);
  logger.appendKeys({ runId: event.runId, action: event.action });
  if (event.action === 'plan') return plan(event);
  if (event.action === 'request-approval') {
    await requestApproval(event);
    return { requested: true };
  }
  return outcome(event);
};
