/**
 * The S3 report sink: every rendered file of a run under
 * `<prefix>/<account>/<region>/<yyyy>/<mm>/<dd>/<run-id>/`, encrypted at rest, with the content
 * type each renderer declared (and a download disposition for CSV and XLSX), then a
 * `<prefix>/<account>/<region>/latest.json` pointer written last — so a reader of the pointer
 * never finds a run whose files are not all there. The HTML report gets a presigned GET URL for
 * the alerts. `readLatest`/`readReport` read a previous run back (the week-over-week diff).
 *
 * The link's stated expiry is the one it really has. A presigned URL stops working when the
 * credentials that signed it expire, whatever its X-Amz-Expires: so the link is signed for exactly
 * the lifetime stated (`htmlUrlExpiresAt`), the shortest of the configured lifetime (at most
 * SigV4's 7 days) and what is left of the signing credentials:
 *  - temporary credentials that state their expiration (SSO, assumed roles, IMDS, containers):
 *    until then;
 *  - temporary credentials that do not (a Lambda role's, from the environment: Lambda publishes no
 *    expiry for them): {@link DEFAULT_UNKNOWN_SESSION_LINK_SECONDS}, an hour — far within the hours
 *    they are observed to last, and a time that can be stated; the alert also names the S3 location,
 *    which outlives any link;
 *  - long-term keys: the configured lifetime.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { InvalidValueError, integerOption } from '../../shared/errors';
import type { ReportFile, ReportSink, StoredReport } from '../../shared/model/ports';
import type { OrgReport } from '../../shared/org/model';
import { orgReportSchema } from '../../shared/org/schema';
import type { DeepReadonly } from '../../shared/published-schema';
import { ORG_REPORT_FILE } from '../../shared/render/org';
import type { AuditReport } from '../../shared/report/model';
import { auditReportSchema } from '../../shared/report/schema';
import type { AdapterLogger } from './logger';
import { encryptionOf, errorText } from './s3-objects';

/** SigV4 presigned URLs live at most 7 days. */
export const PRESIGN_MAX_EXPIRES_SECONDS = 604_800;
/**
 * Lifetime of a link signed with temporary credentials that state no expiration (a Lambda
 * execution role's): short enough to be true.
 */
export const DEFAULT_UNKNOWN_SESSION_LINK_SECONDS = 3600;
export const DEFAULT_REPORT_PREFIX = 'reports';
export const LATEST_POINTER_NAME = 'latest.json';
/** The file the presigned link points at. */
export const HTML_REPORT_NAME = 'report.html';
const DEFAULT_CONCURRENCY = 4;
const LATEST_SCHEMA_VERSION = 1;

/** Presigns a GET for one object; the default is @aws-sdk/s3-request-presigner's getSignedUrl. */
export type PresignGet = (command: GetObjectCommand, expiresInSeconds: number) => Promise<string>;

export type S3ReportSinkLogger = Pick<AdapterLogger, 'debug' | 'warn'>;

export interface S3ReportSinkOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Key prefix of every report. @default 'reports' */
  readonly prefix?: string;
  /** KMS key (id, ARN or alias) for SSE-KMS; without it objects use SSE-S3 (AES256). */
  readonly kmsKeyId?: string;
  /**
   * Lifetime of the HTML report's presigned URL, 1 to 604800 s (SigV4's 7 days). Temporary signing
   * credentials shorten it to what they have left (see the module's comment); `htmlUrlExpiresAt`
   * states the lifetime the link is signed with.
   * @default 604800
   */
  readonly presignExpiresSeconds?: number;
  /**
   * Lifetime of the link when the signing credentials are temporary and state no expiration.
   * @default DEFAULT_UNKNOWN_SESSION_LINK_SECONDS
   */
  readonly unknownSessionLinkSeconds?: number;
  /** Presigner (tests inject one). @default getSignedUrl from @aws-sdk/s3-request-presigner */
  readonly presign?: PresignGet;
  /** Clock for the link's expiry. @default () => new Date() */
  readonly now?: () => Date;
  /** PutObject calls in flight at once. @default 4 */
  readonly concurrency?: number;
  readonly logger?: S3ReportSinkLogger;
}

const counts = z.record(z.string(), z.number());
/** What latest.json holds: enough to find the run's files and compare its counts. */
const latestPointerSchema = z.object({
  schemaVersion: z.number(),
  runId: z.string(),
  generatedAt: z.string(),
  account: z.object({ id: z.string().optional(), region: z.string().optional() }),
  window: z.object({ start: z.string(), end: z.string(), days: z.number() }),
  bucket: z.string(),
  /** The run's key prefix, ending in '/'. */
  prefix: z.string(),
  /** Every file key of the run. */
  keys: z.array(z.string()),
  /** Key of report.json, when the run rendered it. */
  reportKey: z.string().optional(),
  summary: z.object({
    securityGroups: z.number(),
    ruleEntries: z.number(),
    networkInterfaces: z.number(),
    findingsBySeverity: counts,
    rulesByStatus: counts,
    rulesByVerdict: counts,
    enisByCoverage: counts,
  }),
});

/** What latest.json holds, as latestPointerSchema validates it. */
export type LatestReportPointer = DeepReadonly<z.infer<typeof latestPointerSchema>>;

/** A report file (or the latest pointer) could not be written; names the bucket and key. */
export class S3ReportWriteError extends Error {
  override readonly name = 'S3ReportWriteError';
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.name}: ${options.cause.message}` : '';
    super(`cannot write s3://${bucket}/${key}${reason}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/** A stored report or pointer could not be read or is not what the sink writes. */
export class S3ReportReadError extends Error {
  override readonly name = 'S3ReportReadError';
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, problem: string, options?: ErrorOptions) {
    super(`cannot read s3://${bucket}/${key}: ${problem}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/** A key segment from report values (account, region, run id): no '/', no '..', never empty. */
function keySegment(value: string | undefined, fallback: string): string {
  const segment = (value ?? '').replace(/[^A-Za-z0-9._=-]/g, '-');
  return segment === '' || /^\.+$/.test(segment) ? fallback : segment;
}

/** `<yyyy>/<mm>/<dd>/` of a report's generatedAt, in UTC. */
function datePath(generatedAt: string): string {
  const generated = new Date(generatedAt);
  if (Number.isNaN(generated.getTime())) {
    throw new InvalidValueError(`generatedAt '${generatedAt}' is not an ISO 8601 timestamp`, {
      field: 'generatedAt',
    });
  }
  const iso = generated.toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`;
}

/** The key segment of organization reports, beside the accounts' (12 digits: never 'org'). */
const ORG_SEGMENT = 'org';

const orgPointerSchema = z.object({ runId: z.string(), prefix: z.string(), reportKey: z.string() });

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DOWNLOAD_EXTENSIONS = /\.(csv|xlsx)$/i;

function isMissing(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');
}

/**
 * Writes a run's rendered files to S3 and points latest.json at them.
 *
 * @example
 * const sink = new S3ReportSink({ s3, bucket: 'audit-reports', kmsKeyId: 'alias/audit' });
 * const stored = await sink.write(report, await renderReport(report, OUTPUT_FORMATS));
 */
export class S3ReportSink implements ReportSink {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly kmsKeyId?: string;
  private readonly presignExpiresSeconds: number;
  private readonly unknownSessionLinkSeconds: number;
  private readonly presign: PresignGet;
  /** Whether this client's own credentials sign the link (not an injected presigner). */
  private readonly signsWithClientCredentials: boolean;
  private readonly now: () => Date;
  private readonly concurrency: number;
  private readonly logger?: S3ReportSinkLogger;

  constructor(options: S3ReportSinkOptions) {
    if (options.bucket.trim() === '')
      throw new InvalidValueError('the report bucket is empty', { field: 'bucket' });
    const expires = integerOption(
      'presignExpiresSeconds',
      options.presignExpiresSeconds ?? PRESIGN_MAX_EXPIRES_SECONDS,
      1,
      PRESIGN_MAX_EXPIRES_SECONDS,
    );
    const unknownSession = integerOption(
      'unknownSessionLinkSeconds',
      options.unknownSessionLinkSeconds ?? DEFAULT_UNKNOWN_SESSION_LINK_SECONDS,
      1,
    );
    const concurrency = integerOption('concurrency', options.concurrency ?? DEFAULT_CONCURRENCY, 1);
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? DEFAULT_REPORT_PREFIX).replace(/^\/+|\/+$/g, '');
    this.kmsKeyId = options.kmsKeyId;
    this.presignExpiresSeconds = expires;
    this.unknownSessionLinkSeconds = unknownSession;
    this.presign = options.presign ?? ((command, expiresIn) => getSignedUrl(this.s3, command, { expiresIn }));
    this.signsWithClientCredentials = options.presign === undefined;
    this.now = options.now ?? (() => new Date());
    this.concurrency = concurrency;
    this.logger = options.logger;
  }

  /**
   * The key prefix of one account and region: `<prefix>/<account>/<region>/`.
   *
   * @example sink.accountPrefix({ id: '123456789012', region: 'ap-northeast-2' }) // 'reports/123456789012/ap-northeast-2/'
   */
  accountPrefix(account: { readonly id?: string; readonly region?: string }): string {
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    return `${base}${keySegment(account.id, 'unknown-account')}/${keySegment(account.region, 'unknown-region')}/`;
  }

  /** The latest.json key of one account and region. */
  latestKey(account: { readonly id?: string; readonly region?: string }): string {
    return `${this.accountPrefix(account)}${LATEST_POINTER_NAME}`;
  }

  /**
   * The run's key prefix: `<prefix>/<account>/<region>/<yyyy>/<mm>/<dd>/<run-id>/`, the date
   * being the report's generatedAt in UTC.
   *
   * @throws InvalidValueError when generatedAt is not a timestamp.
   */
  runPrefix(report: AuditReport): string {
    return `${this.accountPrefix(report.account)}${datePath(report.generatedAt)}${keySegment(report.runId, 'run')}/`;
  }

  /**
   * Writes every file (SSE, content type, download disposition for CSV/XLSX), then latest.json,
   * and presigns the HTML report.
   *
   * @throws InvalidValueError on no files, a file name that is not a plain name, or a repeated one.
   * @throws S3ReportWriteError when a PutObject fails (latest.json is then not moved).
   */
  async write(report: AuditReport, files: readonly ReportFile[]): Promise<StoredReport> {
    return this.storeRun(
      this.runPrefix(report),
      files,
      this.latestKey(report.account),
      (keys, reportKey) => ({
        schemaVersion: LATEST_SCHEMA_VERSION,
        runId: report.runId,
        generatedAt: report.generatedAt,
        account: report.account,
        window: report.window,
        bucket: this.bucket,
        prefix: this.runPrefix(report),
        keys,
        ...(reportKey ? { reportKey } : {}),
        summary: {
          securityGroups: report.summary.securityGroups,
          ruleEntries: report.summary.ruleEntries,
          networkInterfaces: report.summary.networkInterfaces,
          findingsBySeverity: report.summary.findingsBySeverity,
          rulesByStatus: report.summary.rulesByStatus,
          rulesByVerdict: report.summary.rulesByVerdict,
          enisByCoverage: report.summary.enisByCoverage,
        },
      }),
    );
  }

  /**
   * The organization reports' key prefix: `<prefix>/org/` (no account id is `org`).
   *
   * @example sink.orgPrefix() // 'reports/org/'
   */
  orgPrefix(): string {
    return `${this.prefix === '' ? '' : `${this.prefix}/`}${ORG_SEGMENT}/`;
  }

  /**
   * An organization run's key prefix: `<prefix>/org/<yyyy>/<mm>/<dd>/<run-id>/`.
   *
   * @throws InvalidValueError when generatedAt is not a timestamp.
   */
  orgRunPrefix(report: Pick<OrgReport, 'generatedAt' | 'runId'>): string {
    return `${this.orgPrefix()}${datePath(report.generatedAt)}${keySegment(report.runId, 'run')}/`;
  }

  /**
   * Writes an organization run's files, then `<prefix>/org/latest.json` (its run, prefix and the
   * key of org-report.json), and presigns its report.html.
   *
   * @throws InvalidValueError / S3ReportWriteError as `write`.
   */
  async writeOrg(report: OrgReport, files: readonly ReportFile[]): Promise<StoredReport> {
    const runPrefix = this.orgRunPrefix(report);
    return this.storeRun(runPrefix, files, `${this.orgPrefix()}${LATEST_POINTER_NAME}`, (keys) => ({
      schemaVersion: LATEST_SCHEMA_VERSION,
      runId: report.runId,
      generatedAt: report.generatedAt,
      bucket: this.bucket,
      prefix: runPrefix,
      keys,
      reportKey: `${runPrefix}${ORG_REPORT_FILE}`,
    }));
  }

  /**
   * The previous organization report (through `<prefix>/org/latest.json`), or undefined when no
   * organization run wrote one. Read it before `writeOrg`, which moves the pointer.
   *
   * @throws S3ReportReadError when the pointer or the report is unreadable or malformed.
   */
  async readOrgLatest(): Promise<OrgReport | undefined> {
    const key = `${this.orgPrefix()}${LATEST_POINTER_NAME}`;
    const text = await this.getText(key, true);
    if (text === undefined) return undefined;
    const pointer = orgPointerSchema.safeParse(parseJson(this.bucket, key, text));
    if (!pointer.success) {
      throw new S3ReportReadError(this.bucket, key, `not an organization pointer: ${pointer.error.message}`);
    }
    return this.readOrgReport(pointer.data.reportKey);
  }

  /**
   * A stored org-report.json, validated.
   *
   * @throws S3ReportReadError when absent, unreadable or not an organization report.
   */
  async readOrgReport(key: string): Promise<OrgReport> {
    const text = await this.getText(key, false);
    const parsed = orgReportSchema.safeParse(parseJson(this.bucket, key, text ?? ''));
    if (!parsed.success) {
      throw new S3ReportReadError(this.bucket, key, `not an organization report: ${parsed.error.message}`);
    }
    return parsed.data;
  }

  /**
   * Writes a run's files under its prefix (SSE, content type, download disposition for CSV/XLSX),
   * then the pointer, and presigns report.html.
   */
  private async storeRun(
    runPrefix: string,
    files: readonly ReportFile[],
    latestKey: string,
    pointerOf: (keys: string[], reportKey: string | undefined) => object,
  ): Promise<StoredReport> {
    // A pointer to a run without files would hide the previous, complete run.
    if (files.length === 0) throw new InvalidValueError('no report files to store', { field: 'files' });
    const seen = new Set<string>();
    for (const file of files) {
      if (!FILE_NAME.test(file.name) || seen.has(file.name)) {
        throw new InvalidValueError(`report file name '${file.name}' is not a plain, unique file name`, {
          field: 'name',
        });
      }
      seen.add(file.name);
    }
    const keys = files.map((file) => `${runPrefix}${file.name}`);
    await this.forEachBounded(files, async (file, i) => {
      const key = keys[i] ?? `${runPrefix}${file.name}`;
      await this.put({
        Key: key,
        Body: file.body,
        ContentType: file.contentType,
        ...(DOWNLOAD_EXTENSIONS.test(file.name)
          ? { ContentDisposition: `attachment; filename="${file.name}"` }
          : {}),
      });
    });
    this.logger?.debug('report files written', {
      bucket: this.bucket,
      prefix: runPrefix,
      files: files.length,
    });

    // Last: readers of the pointer must find every file of the run in place.
    const reportKey = files.some((f) => f.name === 'report.json') ? `${runPrefix}report.json` : undefined;
    await this.put({
      Key: latestKey,
      Body: `${JSON.stringify(pointerOf(keys, reportKey), null, 2)}\n`,
      ContentType: 'application/json; charset=utf-8',
      CacheControl: 'no-cache',
    });

    const location = `s3://${this.bucket}/${runPrefix}`;
    const stored: StoredReport = { location, keys: [...keys, latestKey] };
    if (!seen.has(HTML_REPORT_NAME)) return stored;
    return { ...stored, ...(await this.presignHtml(`${runPrefix}${HTML_REPORT_NAME}`)) };
  }

  /**
   * The latest.json pointer of an account and region, or undefined when no run wrote one. Read it
   * before `write` to compare with the previous run: `write` moves it.
   *
   * @throws S3ReportReadError when it cannot be read (other than absent) or is malformed.
   */
  async readLatest(account: {
    readonly id?: string;
    readonly region?: string;
  }): Promise<LatestReportPointer | undefined> {
    const key = this.latestKey(account);
    const text = await this.getText(key, true);
    if (text === undefined) return undefined;
    const parsed = latestPointerSchema.safeParse(parseJson(this.bucket, key, text));
    if (!parsed.success) {
      throw new S3ReportReadError(this.bucket, key, `not a latest pointer: ${parsed.error.message}`);
    }
    return parsed.data;
  }

  /**
   * A stored report.json, validated against the report schema.
   *
   * @throws S3ReportReadError when absent, unreadable or not a report.
   */
  async readReport(key: string): Promise<AuditReport> {
    const text = await this.getText(key, false);
    const parsed = auditReportSchema.safeParse(parseJson(this.bucket, key, text ?? ''));
    if (!parsed.success)
      throw new S3ReportReadError(this.bucket, key, `not a report: ${parsed.error.message}`);
    return parsed.data;
  }

  private async put(input: Omit<PutObjectCommandInput, 'Bucket'>): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, ...input, ...encryptionOf(this.kmsKeyId) }),
      );
    } catch (error) {
      throw new S3ReportWriteError(this.bucket, input.Key ?? '', { cause: error });
    }
  }

  private async presignHtml(key: string): Promise<Pick<StoredReport, 'htmlUrl' | 'htmlUrlExpiresAt'>> {
    const lifetime = await this.linkLifetime();
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key });
    const htmlUrl = await this.presign(command, lifetime);
    return { htmlUrl, htmlUrlExpiresAt: new Date(this.now().getTime() + lifetime * 1000).toISOString() };
  }

  /** The seconds the link is signed for: the configured lifetime, cut to the signing session's. */
  private async linkLifetime(): Promise<number> {
    const configured = this.presignExpiresSeconds;
    // An injected presigner signs with credentials of its own, which this sink cannot see.
    const credentials = this.signsWithClientCredentials ? await this.signingCredentials() : undefined;
    if (credentials === undefined) return configured;
    let lifetime = configured;
    let why = '';
    if (credentials.expiration !== undefined) {
      const left = Math.floor((credentials.expiration.getTime() - this.now().getTime()) / 1000);
      lifetime = Math.max(1, Math.min(configured, left));
      why = 'the signing credentials expire';
    } else if (credentials.sessionToken) {
      lifetime = Math.min(configured, this.unknownSessionLinkSeconds);
      why = 'the signing credentials are temporary and state no expiration';
    }
    if (lifetime < configured) {
      this.logger?.warn('the report link is signed for less than the configured lifetime', {
        why,
        lifetimeSeconds: lifetime,
        configuredSeconds: configured,
      });
    }
    return lifetime;
  }

  /** The client's credentials as the presigner will resolve them (its memoized provider), if known. */
  private async signingCredentials(): Promise<{ sessionToken?: string; expiration?: Date } | undefined> {
    try {
      const provider = this.s3.config.credentials;
      return typeof provider === 'function' ? await provider() : provider;
    } catch {
      // The presigner will fail on them itself; the link's lifetime is moot.
      return undefined;
    }
  }

  private async getText(key: string, absentIsUndefined: boolean): Promise<string | undefined> {
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = await response.Body?.transformToString('utf-8');
      if (text === undefined) throw new S3ReportReadError(this.bucket, key, 'the object has no body');
      return text;
    } catch (error) {
      if (error instanceof S3ReportReadError) throw error;
      if (absentIsUndefined && isMissing(error)) return undefined;
      throw new S3ReportReadError(this.bucket, key, errorText(error), { cause: error });
    }
  }

  /** Runs `task` over the items with at most `concurrency` in flight; the first failure rejects. */
  private async forEachBounded<T>(
    items: readonly T[],
    task: (item: T, index: number) => Promise<void>,
  ): Promise<void> {
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < items.length) {
        const index = next;
        next += 1;
        const item = items[index] as T;
        try {
          await task(item, index);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    const workers = Array.from({ length: Math.min(this.concurrency, items.length) }, () => worker());
    const results = await Promise.allSettled(workers);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  }
}

function parseJson(bucket: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new S3ReportReadError(bucket, key, 'not JSON', { cause: error });
  }
}
