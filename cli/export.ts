/**
 * `sg-audit export`: writes the offline export directory (design.md, "Offline export directory")
 * from a live account — the describe-* documents exactly as discovery read them, and under
 * `flowlogs/` the window's flow-log records: S3 objects copied under their keys, CloudWatch Logs
 * events written as gzip text with the format's header. `sg-audit audit --input DIR` then gives
 * the findings a live run gives.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AwsClients } from '../adapters/aws/clients';
import {
  downloadFlowLogObjects,
  exportCloudWatchFlowLogs,
  type FlowLogExportOptions,
  listFlowLogObjects,
} from '../adapters/aws/flow-log-transfer';
import { CLOUDTRAIL_EVENTS_FILE } from '../adapters/local/export-dir';
import { InputError } from '../shared/errors';
import { logGroupOf } from '../shared/flow/source-plan';
import { FLOW_LOG_FOLDER } from '../shared/inventory/aws-json';
import type { TimeWindow } from '../shared/model/flow';
import type { FlowLogConfig, Inventory } from '../shared/model/inventory';
import type { RuleChangeHistory } from '../shared/model/rule-change';
import { discoverAccount, readRuleHistory } from './live';

/** Where CloudWatch Logs exports go, under `flowlogs/`. */
export const CLOUDWATCH_FOLDER = 'cloudwatch';

export interface ExportRequest {
  readonly out: string;
  readonly vpcIds: readonly string[];
  readonly window: TimeWindow;
  readonly progress: (message: string) => void;
  readonly warn: (message: string) => void;
  readonly transfer?: FlowLogExportOptions;
  /** When the export runs (the CloudTrail history ends then). @default now */
  readonly now?: Date;
}

export interface ExportSummary {
  /** Export document file names written. */
  readonly documents: readonly string[];
  readonly s3Objects: number;
  readonly s3Bytes: number;
  readonly cloudWatchFiles: number;
  readonly cloudWatchEvents: number;
  /** Security-group change events written to cloudtrail-events.json (absent: not read). */
  readonly cloudTrailEvents?: number;
}

/**
 * Exports the scope's inventory and the window's flow-log records into `request.out`.
 *
 * @example await exportAccount(clients, { out: 'export', vpcIds: [], window, progress, warn })
 */
export async function exportAccount(clients: AwsClients, request: ExportRequest): Promise<ExportSummary> {
  const { out, progress, warn, window } = request;
  const { discovery, inventory, accountId, region } = await discoverAccount(
    clients,
    request.vpcIds,
    progress,
    warn,
  );
  await mkdir(out, { recursive: true });
  const documents = Object.keys(discovery.documents).sort();
  for (const [name, document] of Object.entries(discovery.documents)) {
    await writeFile(path.join(out, name), `${JSON.stringify(document, null, 2)}\n`);
  }
  progress(`wrote ${documents.join(', ')}`);

  const flowDirectory = path.join(out, FLOW_LOG_FOLDER);
  await mkdir(flowDirectory, { recursive: true });
  let s3Objects = 0;
  let s3Bytes = 0;
  const s3FlowLogs = inventory.flowLogs.filter((f) => f.destinationType === 's3');
  if (s3FlowLogs.length > 0 && (accountId === undefined || region === undefined)) {
    throw new InputError('the account id or region is unknown: S3 flow-log objects cannot be located');
  }
  for (const flowLog of s3FlowLogs) {
    const objects = await listFlowLogObjects(
      clients.s3,
      flowLog,
      accountId as string,
      region as string,
      window,
      request.transfer,
    );
    progress(`${flowLog.id}: ${objects.length} S3 objects in the window`);
    s3Bytes += await downloadFlowLogObjects(clients.s3, objects, flowDirectory, {
      ...request.transfer,
      progress,
    });
    s3Objects += objects.length;
  }

  let cloudWatchFiles = 0;
  let cloudWatchEvents = 0;
  const eniIds = inventory.networkInterfaces.map((e) => e.id);
  for (const [logGroup, flowLogs] of cloudWatchGroups(inventory.flowLogs)) {
    const [first, ...others] = flowLogs;
    if (first === undefined) continue;
    const format = first.fields.join(' ');
    if (others.some((f) => f.fields.join(' ') !== format)) {
      warn(`log group ${logGroup} receives flow logs of several formats; exported with ${first.id}'s`);
    }
    const result = await exportCloudWatchFlowLogs(
      clients.logs,
      { logGroup, fields: first.fields, eniIds, flowLogOfEni: onlyFlowLogOfEni(inventory, flowLogs) },
      window,
      path.join(flowDirectory, CLOUDWATCH_FOLDER),
      { ...request.transfer, progress },
    );
    cloudWatchFiles += result.files;
    cloudWatchEvents += result.events;
  }
  for (const flowLog of inventory.flowLogs) {
    if (flowLog.destinationType !== 's3' && flowLog.destinationType !== 'cloud-watch-logs') {
      warn(`flow log ${flowLog.id} delivers to ${flowLog.destinationType}, which cannot be exported`);
    }
  }
  const history = await readRuleHistory(clients, request.now ?? new Date(), progress);
  if (history !== undefined) {
    for (const warning of history.warnings) warn(warning);
    await writeFile(
      path.join(out, CLOUDTRAIL_EVENTS_FILE),
      `${JSON.stringify(cloudTrailDocument(history), null, 2)}\n`,
    );
    progress(`wrote ${CLOUDTRAIL_EVENTS_FILE} (${history.events.length} events)`);
  }
  return {
    documents,
    s3Objects,
    s3Bytes,
    cloudWatchFiles,
    cloudWatchEvents,
    ...(history !== undefined ? { cloudTrailEvents: history.events.length } : {}),
  };
}

/**
 * cloudtrail-events.json: what `aws cloudtrail lookup-events` prints (`{"Events": [...]}`, the
 * pages as one), plus the period scanned and whether it was read whole, so an offline audit can
 * say "before <date>" for rules no event names.
 */
function cloudTrailDocument(history: RuleChangeHistory): Record<string, unknown> {
  const iso = (seconds: number | undefined) =>
    seconds === undefined ? undefined : new Date(seconds * 1000).toISOString();
  return {
    Events: history.events,
    StartTime: iso(history.start),
    EndTime: iso(history.end),
    Complete: history.complete,
    ...(history.warnings.length > 0 ? { Warnings: history.warnings } : {}),
  };
}

/** Per ENI, the one flow log (of those given) that records it, where exactly one does. */
function onlyFlowLogOfEni(inventory: Inventory, flowLogs: readonly FlowLogConfig[]): Map<string, string> {
  const only = new Map<string, string>();
  for (const eni of inventory.networkInterfaces) {
    const recording = flowLogs.filter((f) => [eni.id, eni.subnetId, eni.vpcId].includes(f.resourceId));
    const [one] = recording;
    if (recording.length === 1 && one !== undefined) only.set(eni.id, one.id);
  }
  return only;
}

/** CloudWatch Logs flow logs by log group. */
function cloudWatchGroups(flowLogs: readonly FlowLogConfig[]): Map<string, FlowLogConfig[]> {
  const groups = new Map<string, FlowLogConfig[]>();
  for (const flowLog of flowLogs) {
    const logGroup = flowLog.destinationType === 'cloud-watch-logs' ? logGroupOf(flowLog) : undefined;
    if (logGroup !== undefined) groups.set(logGroup, [...(groups.get(logGroup) ?? []), flowLog]);
  }
  return groups;
}
