/**
 * Step 3: runs the audit on the stored inventory and the query steps' aggregates (runAudit, the
 * same pipeline as the CLI), renders every format and stores the report. Sources that failed or
 * were not queried become report warnings, and their flow logs are not taken as evidence.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { runAudit } from '../../shared/audit';
import { DEFAULT_CONFIG } from '../../shared/config';
import { OUTPUT_FORMATS, renderReport } from '../../shared/render';
import { S3ReportSink } from '../adapters/s3-report-sink';
import { S3WorkStore, StoredAggregatesSource } from '../adapters/s3-work-store';
import { createLoggers, loadConfig, parseEvent, TOOL_VERSION } from '../config';
import { type AnalyzeResult, analyzeEventSchema } from './contract';
import { trustedEvidence } from './evidence';

const config = loadConfig('analyze');
const { logger, adapterLogger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const kms = config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {};
const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kms });
const sink = new S3ReportSink({
  s3,
  bucket: config.reportBucket,
  prefix: config.reportPrefix,
  logger: adapterLogger,
  ...kms,
});

export const handler = async (rawEvent: unknown): Promise<AnalyzeResult> => {
  const { runId, inventoryKey, aggregateKeys, failedSources } = parseEvent(analyzeEventSchema, rawEvent);
  logger.appendKeys({ runId });
  const stored = await store.getInventory(inventoryKey);
  const results = await Promise.all(aggregateKeys.map((key) => store.getAggregates(key)));
  const evidence = trustedEvidence(
    stored,
    results.map((r) => r.sourceId),
    failedSources,
  );
  const audited = await runAudit({
    inventory: evidence.inventory,
    flowSource: new StoredAggregatesSource(results),
    window: stored.window,
    scope: { vpcIds: stored.scope.vpcIds, sgIds: [] },
    config: { ...DEFAULT_CONFIG, ports: config.ports },
    mode: 'live',
    runId,
    generatedAt: new Date(),
    toolVersion: TOOL_VERSION,
    instanceNames: new Map(stored.names),
    progress: (message) => logger.debug(message),
  });
  const report = { ...audited, warnings: [...evidence.warnings, ...audited.warnings] };
  const written = await sink.write(report, await renderReport(report, OUTPUT_FORMATS));
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
  };
  logger.info('report stored', { ...result, htmlUrl: undefined });
  return result;
};
