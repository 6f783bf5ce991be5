/**
 * Approval records in the work bucket (`approvals/<runId>.json`, shared/remediation/approval.ts):
 * the remediate function writes a run's record with the waiting task's token, and ends it with the
 * decision; `sg-audit approve|reject` reads it with the approver's own credentials. Written with
 * SSE-KMS under the stack's key, as every work object.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type ApprovalRecord, approvalKey, approvalRecordSchema } from '../../shared/remediation/approval';

/** An approval record could not be read or written; names the object. */
export class ApprovalStoreError extends Error {
  override readonly name = 'ApprovalStoreError';
  readonly bucket: string;
  readonly key: string;
  /** The S3 error's name (NoSuchKey, AccessDenied …), when S3 answered one. */
  readonly code?: string;

  constructor(bucket: string, key: string, problem: string, options: ErrorOptions & { code?: string } = {}) {
    super(
      `s3://${bucket}/${key}: ${problem}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.bucket = bucket;
    this.key = key;
    if (options.code !== undefined) this.code = options.code;
  }
}

export interface S3ApprovalStoreOptions {
  readonly s3: S3Client;
  /** The work bucket. */
  readonly bucket: string;
  /** SSE-KMS key of written records; SSE-S3 without it. */
  readonly kmsKeyId?: string;
}

function describe(error: unknown): { text: string; code?: string } {
  if (error instanceof Error) return { text: `${error.name}: ${error.message}`, code: error.name };
  return { text: String(error) };
}

/**
 * Reads and writes approval records.
 *
 * @example await new S3ApprovalStore({ s3, bucket }).read('20251117T000512Z-7f3a9c')
 */
export class S3ApprovalStore {
  private readonly s3: S3Client;
  readonly bucket: string;
  private readonly kmsKeyId?: string;

  constructor(options: S3ApprovalStoreOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.kmsKeyId = options.kmsKeyId;
  }

  /** @throws ApprovalStoreError when PutObject fails. */
  async write(record: ApprovalRecord): Promise<string> {
    const key = approvalKey(record.runId);
    const encryption: Partial<PutObjectCommandInput> = this.kmsKeyId
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.kmsKeyId, BucketKeyEnabled: true }
      : { ServerSideEncryption: 'AES256' };
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: `${JSON.stringify(record, null, 2)}\n`,
          ContentType: 'application/json; charset=utf-8',
          ...encryption,
        }),
      );
    } catch (error) {
      const { text, code } = describe(error);
      throw new ApprovalStoreError(this.bucket, key, `cannot write: ${text}`, {
        cause: error,
        ...(code ? { code } : {}),
      });
    }
    return key;
  }

  /**
   * The run's approval record, or undefined when there is none (an unknown run, or one that
   * planned nothing to approve).
   *
   * @throws ApprovalStoreError when it cannot be read or is not an approval record.
   */
  async read(runId: string): Promise<ApprovalRecord | undefined> {
    const key = approvalKey(runId);
    let text: string | undefined;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = await response.Body?.transformToString('utf-8');
    } catch (error) {
      const { text: reason, code } = describe(error);
      if (code === 'NoSuchKey' || code === 'NotFound') return undefined;
      throw new ApprovalStoreError(this.bucket, key, `cannot read: ${reason}`, {
        cause: error,
        ...(code ? { code } : {}),
      });
    }
    let value: unknown;
    try {
      value = JSON.parse(text ?? '');
    } catch (error) {
      throw new ApprovalStoreError(this.bucket, key, 'not JSON', { cause: error });
    }
    const parsed = approvalRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApprovalStoreError(
        this.bucket,
        key,
        `not an approval record: ${issue?.path.join('.') || '(record)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    return parsed.data as ApprovalRecord;
  }
}
