/**
 * Step 3: runs the audit on the stored inventory and the query steps' aggregates (runAudit, the
 * same pipeline as the CLI), renders every format and stores the report. Sources that failed or
 * were not queried become report warnings, and their flow logs are not taken as evidence.
 *
 * Week over week, as the CLI's --previous/--suppressions/--egress-allowlist: the accepted risks
 * (SUPPRESSIONS_KEY in the report bucket) and the expected external destinations
 * (EGRESS_ALLOWLIST_KEY, there too) are read first, so a malformed file fails the run before the
 * audit and the workflow's Catch alerts with the entry named; the report is compared with the
 * latest stored run of the same account and region (reviewReport) and changes.csv stored beside
 * it. An absent allow-list leaves every egress destination 'unreviewed', as the report says. With
 * SECURITY_HUB_EXPORT the findings then go to Security Hub; the report being stored already, an
 * export failure is logged and counted, not a failed run.
 *
 * Who opened each rule: the security-group change history discover stored (CloudTrail's event
 * history) is passed to runAudit, which attributes every rule, finding and SG and warns where the
 * history is incomplete; a stored history that cannot be read leaves every rule 'unknown', said so.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { S3ReportSink } from '../../adapters/aws/s3-report-sink';
import { S3EgressAllowList, S3Suppressions } from '../../adapters/aws/s3-suppressions';
import { S3WorkStore } from '../../adapters/aws/s3-work-store';
import { SecurityHubExportError, SecurityHubExporter } from '../../adapters/aws/securityhub-exporter';
import { openStoredResults } from '../../adapters/aws/stored-aggregate-rows';
import { actionableBySeverity, alertableChanges } from '../../shared/alerts/changes';
import { runAudit } from '../../shared/audit';
import { DEFAULT_CONFIG } from '../../shared/config';
import { trustedEvidence } from '../../shared/flow/trusted-evidence';
import { previousReport, scopeWarning } from '../../shared/history/previous';
import type { RuleChangeHistory } from '../../shared/model/rule-change';
import type { StoredInventory } from '../../shared/model/run';
import { OUTPUT_FORMATS } from '../../shared/render';
import type { AuditReport, ReportWarning } from '../../shared/report/model';
import { reviewAndRender } from '../../shared/review-and-render';
import type { EgressAllowList } from '../../shared/suppressions/egress-allowlist';
import type { SuppressionSet } from '../../shared/suppressions/suppressions';
import { createLoggers, kmsKeyOf, loadConfig, parseEvent, TOOL_VERSION } from '../config';
import { type AnalyzeResult, analyzeEventSchema, queryOutcomes } from './contract';

const config = loadConfig('analyze');
const { logger, adapterLogger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const kms = kmsKeyOf(config);
const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kms });
const sink = new S3ReportSink({
  s3,
  bucket: config.reportBucket,
  prefix: config.reportPrefix,
  logger: adapterLogger,
  ...kms,
});
const suppressionsFile = new S3Suppressions({ s3, bucket: config.reportBucket });
const allowListFile = new S3EgressAllowList({ s3, bucket: config.reportBucket });
const securityHub = config.securityHubExport
  ? new SecurityHubExporter({
      securityHub: new SecurityHubClient({ retryMode: 'adaptive' }),
      logger: adapterLogger,
    })
  : undefined;

/**
 * The accepted risks, or where the missing file was looked for when SUPPRESSIONS_KEY names no
 * object (a team that accepts no risk never uploads one). Malformed: throws.
 */
async function readSuppressions(): Promise<{ suppressions?: SuppressionSet; missingAt?: string }> {
  if (config.suppressionsKey === undefined) return {};
  const lookup = await suppressionsFile.read(config.suppressionsKey);
  if (lookup.found) return { suppressions: lookup.suppressions };
  logger.info('no suppressions file: no finding is suppressed', { location: lookup.location });
  return { missingAt: lookup.location };
}

/**
 * The expected external destinations, or undefined when EGRESS_ALLOWLIST_KEY is unset or names no
 * object: every destination is then 'unreviewed', and the report's egress view says no allow-list
 * was given. Malformed: throws.
 */
async function readEgressAllowList(): Promise<EgressAllowList | undefined> {
  if (config.egressAllowlistKey === undefined) return undefined;
  const lookup = await allowListFile.read(config.egressAllowlistKey);
  if (lookup.found) return lookup.allowList;
  logger.info('no egress allow-list: every external destination is unreviewed', {
    location: lookup.location,
  });
  return undefined;
}

/**
 * A report warning when the suppressions file is missing but the previous run applied one: its
 * accepted risks count again (the changes say which). Without earlier acceptances a missing file
 * is the normal state, and a weekly warning about it would only be noise.
 */
function missingSuppressionsWarning(location: string, previous: AuditReport | undefined): ReportWarning[] {
  const accepted = previous?.findings.filter((f) => f.suppression?.status === 'active').length ?? 0;
  if (accepted === 0) return [];
  return [
    {
      code: 'suppressions-missing',
      message: `no suppressions file at ${location} (SUPPRESSIONS_KEY): the ${accepted} finding(s) accepted in the previous run are no longer suppressed`,
      file: location,
    },
  ];
}

/**
 * The change history discover stored for the run, or undefined when it read none (CHANGE_HISTORY
 * off). One that cannot be read is a history of nothing, incomplete, saying why: attribution then
 * calls every rule 'unknown' — never older than a history it did not see.
 */
async function readChangeHistory(stored: StoredInventory): Promise<RuleChangeHistory | undefined> {
  if (stored.changeHistoryKey === undefined) return undefined;
  try {
    return await store.getChangeHistory(stored.changeHistoryKey);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error('the stored change history cannot be read; no rule is attributed', { error: reason });
    return {
      source: 'cloudtrail-lookup',
      events: [],
      complete: false,
      warnings: [
        `the change history discover stored cannot be read (${reason}): who opened each rule is unknown`,
      ],
    };
  }
}

/** Exports the stored report's findings; a failure is logged and returned, never thrown. */
async function exportToSecurityHub(
  exporter: SecurityHubExporter,
  report: AuditReport,
): Promise<NonNullable<AnalyzeResult['securityHub']>> {
  const accountId = report.account.id;
  const region = config.region ?? report.account.region;
  try {
    if (accountId === undefined || region === undefined) {
      throw new Error('the report names no account id or region to import the findings into');
    }
    const exported = await exporter.exportReport(report, { accountId, region });
    if (exported.failed.length > 0) {
      logger.error('Security Hub refused some findings', { failed: exported.failed.slice(0, 20) });
    }
    return {
      imported: exported.imported,
      archived: exported.archived,
      workflowUpdates: exported.workflowUpdates,
      failed: exported.failed.length,
    };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger.error('Security Hub export failed; the report is stored', { error: reason });
    // Batches before the failing one went in.
    const done = error instanceof SecurityHubExportError ? error : { imported: 0, archived: 0 };
    return { imported: done.imported, archived: done.archived, workflowUpdates: 0, failed: 0, error: reason };
  }
}

export const handler = async (rawEvent: unknown): Promise<AnalyzeResult> => {
  const event = parseEvent(analyzeEventSchema, rawEvent);
  const { runId, inventoryKey } = event;
  logger.appendKeys({ runId });
  // After the Distributed Map, the outcomes are in the work bucket (its ResultWriter), not in state.
  const mapped = event.queryResultsKey
    ? queryOutcomes(await store.getMapResults(event.queryResultsKey))
    : { aggregateKeys: [], failedSources: [] };
  const aggregateKeys = [...event.aggregateKeys, ...mapped.aggregateKeys];
  const failedSources = [...event.failedSources, ...mapped.failedSources];
  // Before the (long) audit: a malformed suppressions file or allow-list fails the run at once.
  const accepted = await readSuppressions();
  const egressAllowList = await readEgressAllowList();
  const stored = await store.getInventory(inventoryKey);
  // One stored result at a time; past IN_MEMORY_ROWS rows they are streamed to the fold, not held.
  const results = await openStoredResults(store, aggregateKeys);
  if (results.streamed)
    logger.info('aggregate rows streamed from the work bucket', { objects: aggregateKeys.length });
  const evidence = trustedEvidence(stored, results.sourceIds, failedSources);
  const ruleChanges = await readChangeHistory(stored);
  const audited = await runAudit({
    inventory: evidence.inventory,
    flowSource: results.source,
    window: stored.window,
    scope: { vpcIds: stored.scope.vpcIds, sgIds: [] },
    config: { ...DEFAULT_CONFIG, ports: config.ports },
    mode: 'live',
    runId,
    generatedAt: new Date(),
    toolVersion: TOOL_VERSION,
    instanceNames: new Map(stored.names),
    progress: (message) => logger.debug(message),
    ...(ruleChanges ? { ruleChanges } : {}),
    ...(egressAllowList ? { egressAllowList } : {}),
  });
  const fresh: AuditReport = { ...audited, warnings: [...evidence.warnings, ...audited.warnings] };
  // Before write: writing moves latest.json to this run.
  const history = await previousReport(sink, fresh);
  const missing =
    accepted.missingAt === undefined ? [] : missingSuppressionsWarning(accepted.missingAt, history.previous);
  const scope = history.previous ? scopeWarning(history.previous, fresh) : undefined;
  for (const warning of history.warnings) logger.warn(warning.message);
  const { report, files } = await reviewAndRender(
    { ...fresh, warnings: [...fresh.warnings, ...missing, ...history.warnings, ...(scope ? [scope] : [])] },
    {
      ...(history.previous ? { previous: history.previous } : {}),
      compare: true,
      ...(accepted.suppressions ? { suppressions: accepted.suppressions } : {}),
      now: new Date(),
      formats: OUTPUT_FORMATS,
    },
  );
  const written = await sink.write(report, files);
  const exported = securityHub ? await exportToSecurityHub(securityHub, report) : undefined;
  const changes = alertableChanges(report);
  const reportPrefix = sink.runPrefix(report);
  const result: AnalyzeResult = {
    runId,
    reportPrefix,
    reportJsonKey: `${reportPrefix}report.json`,
    ...(written.htmlUrl ? { htmlUrl: written.htmlUrl } : {}),
    ...(written.htmlUrlExpiresAt ? { htmlUrlExpiresAt: written.htmlUrlExpiresAt } : {}),
    findingsBySeverity: report.summary.findingsBySeverity,
    securityGroups: report.summary.securityGroups,
    networkInterfaces: report.summary.networkInterfaces,
    warningCount: report.warnings.length,
    failedSources: failedSources.length,
    bytesScanned: report.summary.bytesScanned,
    changes: {
      firstRun: changes?.firstRun ?? true,
      worsened: changes?.worsened ?? true,
      newFindings: changes?.newFindings ?? 0,
      worseFindings: changes?.worseFindings ?? 0,
      resurfacedFindings: changes?.resurfacedFindings ?? 0,
      resolvedFindings: changes?.resolvedFindings ?? 0,
    },
    actionableFindingsBySeverity: actionableBySeverity(report),
    ...(exported ? { securityHub: exported } : {}),
  };
  logger.info('report stored', { ...result, htmlUrl: undefined });
  return result;
};
