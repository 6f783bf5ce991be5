/**
 * The deployed remediation's files beside a run's report in the report bucket: the plan files
 * (plan.json, plan.md, apply.sh, …) the remediate function writes, plan.json the apply function
 * reads back (validated), and the applied-<time>.json record it writes as it goes. SSE-KMS under
 * the stack's key, as the reports.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { AppliedRecord, RemediationPlan } from '../../shared/remediation/model';
import { appliedRecordSchema, remediationPlanSchema } from '../../shared/remediation/schema';

/** A remediation file could not be read, parsed or written; names the object. */
export class RemediationFileError extends Error {
  override readonly name = 'RemediationFileError';
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, problem: string, options?: ErrorOptions) {
    super(`s3://${bucket}/${key}: ${problem}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

export interface S3RemediationFilesOptions {
  readonly s3: S3Client;
  /** The report bucket. */
  readonly bucket: string;
  /** SSE-KMS key of written files; SSE-S3 without it. */
  readonly kmsKeyId?: string;
}

const CONTENT_TYPES: readonly [RegExp, string][] = [
  [/\.json$/, 'application/json; charset=utf-8'],
  [/\.md$/, 'text/markdown; charset=utf-8'],
  [/\.sh$/, 'text/x-shellscript; charset=utf-8'],
];

function reason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Reads and writes a run's remediation files.
 *
 * @example await new S3RemediationFiles({ s3, bucket, kmsKeyId }).put('reports/…/run-1/plan.md', markdown)
 */
export class S3RemediationFiles {
  private readonly s3: S3Client;
  readonly bucket: string;
  private readonly kmsKeyId?: string;

  constructor(options: S3RemediationFilesOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.kmsKeyId = options.kmsKeyId;
  }

  /** @throws RemediationFileError when PutObject fails. */
  async put(key: string, body: string): Promise<void> {
    const encryption: Partial<PutObjectCommandInput> = this.kmsKeyId
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyId, BucketKeyEnabled: true }
      : { ServerSideEncryption: 'AES256' };
    const contentType =
      CONTENT_TYPES.find(([pattern]) => pattern.test(key))?.[1] ?? 'text/plain; charset=utf-8';
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...encryption,
        }),
      );
    } catch (error) {
      throw new RemediationFileError(this.bucket, key, `cannot write: ${reason(error)}`, { cause: error });
    }
  }

  /** A plan.json, validated against the plan schema. @throws RemediationFileError */
  async readPlan(key: string): Promise<RemediationPlan> {
    const parsed = remediationPlanSchema.safeParse(await this.getJson(key));
    if (!parsed.success) {
      throw new RemediationFileError(
        this.bucket,
        key,
        `not an sg-audit plan: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data as RemediationPlan;
  }

  /** An applied-<time>.json, validated against its schema. @throws RemediationFileError */
  async readApplied(key: string): Promise<AppliedRecord> {
    const parsed = appliedRecordSchema.safeParse(await this.getJson(key));
    if (!parsed.success) {
      throw new RemediationFileError(
        this.bucket,
        key,
        `not an sg-audit applied record: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data as AppliedRecord;
  }

  /** Any JSON file of the run's remediation (not-opted-in.json). @throws RemediationFileError */
  readJson(key: string): Promise<unknown> {
    return this.getJson(key);
  }

  private async getJson(key: string): Promise<unknown> {
    let text: string | undefined;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = await response.Body?.transformToString('utf-8');
    } catch (error) {
      throw new RemediationFileError(this.bucket, key, `cannot read: ${reason(error)}`, { cause: error });
    }
    try {
      return JSON.parse(text ?? '') as unknown;
    } catch (error) {
      throw new RemediationFileError(this.bucket, key, 'not JSON', { cause: error });
    }
  }
}
