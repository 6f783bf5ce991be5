/**
 * Last step: alerts the configured channels (SNS e-mail, Slack) with the run's report summary,
 * or with the error the workflow's Catch recorded. Every channel is tried; the step fails
 * (AlertDeliveryError, safe to retry) only when no channel took the alert.
 *
 * A weekly alert that repeats last week's findings gets muted, so by default (ALERT_ON=changes) a
 * report alerts only on a first run or on new or worse findings that are not accepted risks;
 * otherwise it sends the short "no change" digest (NO_CHANGE_DIGEST) or nothing ('skipped').
 * Failure alerts always go out.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { alertChannelsOf } from '../../adapters/aws/alert-channels';
import { AlertDeliveryError } from '../../adapters/aws/composite-alert-publisher';
import { S3ReportSink } from '../../adapters/aws/s3-report-sink';
import { type AlertDecision, decideAlert } from '../../shared/alerts/changes';
import { decideOrgAlert } from '../../shared/alerts/org';
import type { AnyAlert, AuditAlert, OrgAlert, StoredReport } from '../../shared/model/ports';
import { errorOfStep } from '../../shared/model/run';
import { createLoggers, loadConfig, parseEvent } from '../config';
import { type NotifyResult, notifyEventSchema } from './contract';

const config = loadConfig('notify');
const { logger, adapterLogger } = createLoggers(config);
const reports = new S3ReportSink({
  s3: new S3Client({ retryMode: 'adaptive' }),
  bucket: config.reportBucket,
  logger: adapterLogger,
});
const alerts = alertChannelsOf(config, adapterLogger);

/** A run that does not alert: logged with why, nothing published. */
function skipped(runId: string, reason: string, message: string): NotifyResult {
  logger.info(message, { reason });
  return { runId, kind: 'skipped', reason, published: [], failed: [] };
}

/** Where the alert says the report is: its folder in the report bucket, its key, and the HTML link when signed. */
type StoredLink = Pick<StoredReport, 'htmlUrl' | 'htmlUrlExpiresAt'>;

function storedReport(key: string, link: StoredLink): StoredReport {
  return {
    location: `s3://${config.reportBucket}/${key.replace(/[^/]*$/, '')}`,
    keys: [key],
    ...(link.htmlUrl ? { htmlUrl: link.htmlUrl } : {}),
    ...(link.htmlUrlExpiresAt ? { htmlUrlExpiresAt: link.htmlUrlExpiresAt } : {}),
  };
}

/** A stored report's alert before the decision, the decision by its own rules, and what a skip logs. */
interface AlertCandidate {
  readonly decided: AlertDecision;
  readonly unsent: Extract<AuditAlert, { kind: 'report' }> | OrgAlert;
  readonly quiet: string;
}

async function reportCandidate(key: string, link: StoredLink): Promise<AlertCandidate> {
  const report = await reports.readReport(key);
  const unsent = { kind: 'report', report, stored: storedReport(key, link) } as const;
  return { decided: decideAlert(report, config), unsent, quiet: 'no alert: nothing new or worse' };
}

async function orgCandidate(key: string, link: StoredLink): Promise<AlertCandidate> {
  const report = await reports.readOrgReport(key);
  const unsent = { kind: 'organization', report, stored: storedReport(key, link) } as const;
  const quiet = 'no alert: nothing new or worse across the organization';
  return { decided: decideOrgAlert(report, config), unsent, quiet };
}

export const handler = async (rawEvent: unknown): Promise<NotifyResult> => {
  const event = parseEvent(notifyEventSchema, rawEvent);
  logger.appendKeys({ runId: event.runId });
  let alert: AnyAlert;
  let decision: { reason: string; digest: boolean } | undefined;
  if ('error' in event) {
    const region = config.region ? { account: { region: config.region } } : {};
    const step = event.step ? { step: event.step } : {};
    alert = { kind: 'failure', runId: event.runId, error: errorOfStep(event.error), ...step, ...region };
  } else {
    const { decided, unsent, quiet } =
      'orgReportKey' in event
        ? await orgCandidate(event.orgReportKey, event)
        : await reportCandidate(event.reportJsonKey, event);
    if (!decided.send) return skipped(event.runId, decided.reason, quiet);
    decision = { reason: decided.reason, digest: decided.digest };
    alert = { ...unsent, ...(decided.digest ? { digest: true } : {}) };
  }
  const outcomes = await alerts.publishAll(alert);
  const published = outcomes.filter((o) => o.delivered).map((o) => o.name);
  const failures = outcomes.flatMap((o) => (o.delivered ? [] : [{ name: o.name, error: o.error }]));
  // Nothing delivered: a retry repeats no message. Partly delivered: a retry would, so report instead.
  if (published.length === 0 && failures.length > 0) throw new AlertDeliveryError(failures, published);
  const failed = failures.map((f) => ({ channel: f.name, error: `${f.error.name}: ${f.error.message}` }));
  logger.info('alert published', { kind: alert.kind, ...decision, published, failed });
  const why = decision ? { reason: decision.reason, ...(decision.digest ? { digest: true } : {}) } : {};
  return { runId: event.runId, kind: alert.kind, ...why, published, failed };
};
