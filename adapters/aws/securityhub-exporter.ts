/**
 * Security Hub export: the report's findings (shared/export/asff) sent with BatchImportFindings
 * to the account's default custom integration. Current findings are imported ACTIVE, resolved
 * ones ARCHIVED under the same Id, so a weekly run updates rather than duplicates.
 *
 * Batches hold at most 100 findings and 6 MB of JSON (the API's limits; a larger batch is split
 * in halves). Throttling (10 TPS per account and region) is retried with capped exponential
 * backoff and full jitter, on top of the SDK client's own retries. Findings Security Hub refuses
 * one by one come back in `failed`; any other error stops the export with a
 * SecurityHubExportError naming the batch.
 *
 * Security Hub takes a finding's Workflow from BatchImportFindings only when it creates the
 * finding, so accepted risks are then set with BatchUpdateFindings (the customer-side call):
 * actively suppressed findings SUPPRESSED with their acceptance as the note, findings whose
 * acceptance expired back to NEW. Other findings' workflow is left to the people triaging them.
 */
import {
  BatchImportFindingsCommand,
  type BatchImportFindingsCommandOutput,
  BatchUpdateFindingsCommand,
  type BatchUpdateFindingsCommandOutput,
  type SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { integerOption } from '../../shared/errors';
import {
  type AsffFinding,
  type AsffTarget,
  asffFindingId,
  clipText,
  defaultProductArn,
  suppressionText,
  toAsffFindings,
} from '../../shared/export/asff';
import type { AuditReport } from '../../shared/report/model';
import { fullJitterDelay, type InjectedTiming, timingOf } from './timing';

/** BatchImportFindings takes at most 100 findings per call. */
export const SECURITY_HUB_MAX_BATCH = 100;
/** BatchUpdateFindings takes at most 100 finding identifiers per call. */
export const SECURITY_HUB_MAX_UPDATE = 100;
/** Note.Text is at most 512 characters. */
const NOTE_MAX_CHARS = 512;
/** …and at most 6 MB per request. */
export const SECURITY_HUB_MAX_BATCH_BYTES = 6 * 1024 * 1024;
const DEFAULT_MAX_ATTEMPTS = 6;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;

/** Error names Security Hub and the SDK use for throttling. */
const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
]);

export interface SecurityHubExporterLogger {
  info(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
}

export interface SecurityHubExporterOptions extends Pick<InjectedTiming, 'sleep' | 'random'> {
  readonly securityHub: SecurityHubClient;
  readonly logger?: SecurityHubExporterLogger;
  /** Findings per BatchImportFindings call, 1 to 100. @default 100 */
  readonly batchSize?: number;
  /** Attempts per batch while Security Hub throttles (the first call included). @default 6 */
  readonly maxAttempts?: number;
  /** Largest request body, in bytes (tests lower it). @default 6 MB */
  readonly maxBatchBytes?: number;
}

/** Where the findings go: BatchImportFindings must be called from the findings' account. */
export interface SecurityHubTarget {
  readonly accountId: string;
  readonly region: string;
  /** @default derived from the region */
  readonly partition?: string;
}

export interface SecurityHubFailedFinding {
  /** The ASFF Id of the finding. */
  readonly id: string;
  readonly code?: string;
  readonly message?: string;
}

export interface SecurityHubExportResult {
  /** Current findings Security Hub accepted. */
  readonly imported: number;
  /** Resolved findings Security Hub accepted as ARCHIVED. */
  readonly archived: number;
  /** Findings Security Hub refused one by one (FailedFindings), never dropped silently. */
  readonly failed: SecurityHubFailedFinding[];
  /** BatchImportFindings calls that succeeded. */
  readonly batches: number;
  /** Findings whose workflow BatchUpdateFindings set (SUPPRESSED, or NEW after an acceptance expired). */
  readonly workflowUpdates: number;
}

/** A batch failed for a reason other than single findings (or throttling outlasted the retries). */
export class SecurityHubExportError extends Error {
  override readonly name = 'SecurityHubExportError';
  /** 1-based number of the batch that failed, and how many batches the export had. */
  readonly batch: number;
  readonly batches: number;
  /** ASFF Ids in the failed batch. */
  readonly findingIds: readonly string[];
  /** What was accepted before the failure. */
  readonly imported: number;
  readonly archived: number;

  constructor(
    details: {
      batch: number;
      batches: number;
      findingIds: readonly string[];
      imported: number;
      archived: number;
    },
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.name}: ${options.cause.message}` : '';
    const first = details.findingIds[0] ?? '';
    super(
      `BatchImportFindings failed on batch ${details.batch} of ${details.batches} (${details.findingIds.length} findings from ${first})${cause}`,
      options,
    );
    this.batch = details.batch;
    this.batches = details.batches;
    this.findingIds = details.findingIds;
    this.imported = details.imported;
    this.archived = details.archived;
  }
}

/** Whether an SDK error means "slow down". */
export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (THROTTLING_ERRORS.has(error.name)) return true;
  const meta = error as { $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  return meta.$metadata?.httpStatusCode === 429 || meta.$retryable?.throttling === true;
}

function requestBytes(findings: readonly AsffFinding[]): number {
  return Buffer.byteLength(JSON.stringify({ Findings: findings }), 'utf8');
}

/**
 * Exports audit reports to Security Hub.
 *
 * @example
 * const exporter = new SecurityHubExporter({ securityHub: new SecurityHubClient({}) });
 * const result = await exporter.exportReport(report, { accountId: '123456789012', region: 'ap-northeast-2' });
 */
export class SecurityHubExporter {
  private readonly securityHub: SecurityHubClient;
  private readonly logger?: SecurityHubExporterLogger;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly timing: Required<InjectedTiming>;
  private readonly maxBatchBytes: number;

  constructor(options: SecurityHubExporterOptions) {
    const batchSize = integerOption(
      'batchSize',
      options.batchSize ?? SECURITY_HUB_MAX_BATCH,
      1,
      SECURITY_HUB_MAX_BATCH,
    );
    const maxAttempts = integerOption('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1);
    this.securityHub = options.securityHub;
    this.logger = options.logger;
    this.batchSize = batchSize;
    this.maxAttempts = maxAttempts;
    this.timing = timingOf(options);
    this.maxBatchBytes = options.maxBatchBytes ?? SECURITY_HUB_MAX_BATCH_BYTES;
  }

  /**
   * Imports the report's findings (ACTIVE) and its resolved findings (ARCHIVED). A report with
   * neither makes no call.
   *
   * @throws SecurityHubExportError when a batch fails for a reason other than single findings.
   */
  async exportReport(report: AuditReport, target: SecurityHubTarget): Promise<SecurityHubExportResult> {
    const asffTarget: AsffTarget = target;
    const { active, archived } = toAsffFindings(report, asffTarget);
    const findings = [...active, ...archived];
    if (findings.length === 0) {
      this.logger?.info('no findings to export to Security Hub', { runId: report.runId });
      return { imported: 0, archived: 0, failed: [], batches: 0, workflowUpdates: 0 };
    }
    const batches = this.batches(findings);
    const failed: SecurityHubFailedFinding[] = [];
    let importedCount = 0;
    let archivedCount = 0;
    for (const [i, batch] of batches.entries()) {
      let response: BatchImportFindingsCommandOutput;
      try {
        response = await this.send(batch, i + 1, batches.length);
      } catch (error) {
        throw new SecurityHubExportError(
          {
            batch: i + 1,
            batches: batches.length,
            findingIds: batch.map((f) => f.Id),
            imported: importedCount,
            archived: archivedCount,
          },
          { cause: error },
        );
      }
      const refused = new Set<string>();
      for (const f of response.FailedFindings ?? []) {
        const id = f.Id ?? '';
        refused.add(id);
        failed.push({
          id,
          ...(f.ErrorCode !== undefined ? { code: f.ErrorCode } : {}),
          ...(f.ErrorMessage !== undefined ? { message: f.ErrorMessage } : {}),
        });
      }
      for (const finding of batch) {
        if (refused.has(finding.Id)) continue;
        if (finding.RecordState === 'ARCHIVED') archivedCount += 1;
        else importedCount += 1;
      }
    }
    const workflow = await this.updateWorkflows(report, asffTarget, new Set(failed.map((f) => f.id)));
    failed.push(...workflow.failed);
    if (failed.length > 0) {
      this.logger?.warn('Security Hub refused some findings', {
        failed: failed.length,
        sample: failed.slice(0, 5),
      });
    }
    this.logger?.info('findings exported to Security Hub', {
      runId: report.runId,
      imported: importedCount,
      archived: archivedCount,
      failed: failed.length,
      batches: batches.length,
      workflowUpdates: workflow.updated,
    });
    return {
      imported: importedCount,
      archived: archivedCount,
      failed,
      batches: batches.length,
      workflowUpdates: workflow.updated,
    };
  }

  /**
   * Sets the workflow of accepted risks: one BatchUpdateFindings per acceptance entry and status
   * (the note is the entry's), at most 100 findings each. Findings the import refused are skipped.
   */
  private async updateWorkflows(
    report: AuditReport,
    target: AsffTarget,
    refused: ReadonlySet<string>,
  ): Promise<{ updated: number; failed: SecurityHubFailedFinding[] }> {
    const productArn = defaultProductArn(target);
    const groups = new Map<string, { status: 'SUPPRESSED' | 'NEW'; note: string; ids: string[] }>();
    for (const finding of report.findings) {
      if (finding.suppression === undefined) continue;
      const id = asffFindingId(target, finding);
      if (refused.has(id)) continue;
      const status = finding.suppression.status === 'active' ? 'SUPPRESSED' : 'NEW';
      const note = clipText(suppressionText(finding), NOTE_MAX_CHARS);
      const key = `${status}\n${note}`;
      const group = groups.get(key) ?? { status, note, ids: [] };
      group.ids.push(id);
      groups.set(key, group);
    }
    let updated = 0;
    const failed: SecurityHubFailedFinding[] = [];
    const calls = [...groups.values()].flatMap((g) => {
      const chunks: { status: 'SUPPRESSED' | 'NEW'; note: string; ids: string[] }[] = [];
      for (let i = 0; i < g.ids.length; i += SECURITY_HUB_MAX_UPDATE) {
        chunks.push({ ...g, ids: g.ids.slice(i, i + SECURITY_HUB_MAX_UPDATE) });
      }
      return chunks;
    });
    for (const [i, call] of calls.entries()) {
      let response: BatchUpdateFindingsCommandOutput;
      try {
        response = await this.withThrottlingRetry('BatchUpdateFindings', i + 1, calls.length, () =>
          this.securityHub.send(
            new BatchUpdateFindingsCommand({
              FindingIdentifiers: call.ids.map((Id) => ({ Id, ProductArn: productArn })),
              Workflow: { Status: call.status },
              Note: { Text: call.note, UpdatedBy: 'sg-audit' },
            }),
          ),
        );
      } catch (error) {
        // The findings are imported; only their workflow is not set: report them, go on.
        const { name, message } = error instanceof Error ? error : new Error(String(error));
        failed.push(...call.ids.map((id) => ({ id, code: name, message: `workflow not set: ${message}` })));
        continue;
      }
      const unprocessed = response.UnprocessedFindings ?? [];
      for (const u of unprocessed) {
        failed.push({
          id: u.FindingIdentifier?.Id ?? '',
          ...(u.ErrorCode !== undefined ? { code: u.ErrorCode } : {}),
          ...(u.ErrorMessage !== undefined ? { message: u.ErrorMessage } : {}),
        });
      }
      updated += call.ids.length - unprocessed.length;
    }
    return { updated, failed };
  }

  /** Chunks of at most batchSize findings, each halved until its request fits the byte limit. */
  private batches(findings: readonly AsffFinding[]): AsffFinding[][] {
    const out: AsffFinding[][] = [];
    const pending: AsffFinding[][] = [];
    for (let i = 0; i < findings.length; i += this.batchSize) {
      pending.push(findings.slice(i, i + this.batchSize));
    }
    // Bounded: every split halves a batch, and a single finding is sent as is (ASFF's 240 KB
    // per-finding limit is far below the batch limit; Security Hub reports it if exceeded).
    while (pending.length > 0) {
      const batch = pending.shift() as AsffFinding[];
      if (batch.length > 1 && requestBytes(batch) > this.maxBatchBytes) {
        const half = Math.ceil(batch.length / 2);
        pending.unshift(batch.slice(0, half), batch.slice(half));
      } else {
        out.push(batch);
      }
    }
    return out;
  }

  private send(
    batch: AsffFinding[],
    number: number,
    total: number,
  ): Promise<BatchImportFindingsCommandOutput> {
    return this.withThrottlingRetry('BatchImportFindings', number, total, () =>
      this.securityHub.send(new BatchImportFindingsCommand({ Findings: batch })),
    );
  }

  /** Runs one call, retrying throttling with capped exponential backoff and full jitter. */
  private async withThrottlingRetry<T>(
    operation: string,
    number: number,
    total: number,
    call: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (!isThrottling(error) || attempt >= this.maxAttempts) throw error;
        // Full jitter: batches of parallel runs do not retry in lockstep.
        const delay = fullJitterDelay(attempt, this.timing.random, {
          baseMs: BASE_DELAY_MS,
          maxMs: MAX_DELAY_MS,
        });
        this.logger?.warn(`Security Hub throttled ${operation}: retrying`, {
          batch: number,
          batches: total,
          attempt,
          delayMs: delay,
        });
        await this.timing.sleep(delay);
      }
    }
  }
}
