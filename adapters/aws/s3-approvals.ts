/**
 * Approval records in the work bucket (`approvals/<runId>.json`, shared/remediation/approval.ts):
 * the remediate function writes a run's record with the waiting task's token, and ends it with the
 * decision; `sg-audit approve|reject` reads it with the approver's own credentials. Written with
 * SSE-KMS under the stack's key, as every work object.
 */
import { type ApprovalRecord, approvalKey, approvalRecordSchema } from '../../shared/remediation/approval';
import { errorText, S3BucketObjects, type S3BucketOptions, S3ObjectError } from './s3-objects';

/** An approval record could not be read or written; names the object. */
export class ApprovalStoreError extends S3ObjectError {
  override readonly name = 'ApprovalStoreError';
  /** The S3 error's name (NoSuchKey, AccessDenied …), when S3 answered one. */
  readonly code?: string;

  constructor(bucket: string, key: string, problem: string, options: ErrorOptions & { code?: string } = {}) {
    super(bucket, key, problem, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.code !== undefined) this.code = options.code;
  }
}

/** The work bucket, and the SSE-KMS key of written records (SSE-S3 without it). */
export type S3ApprovalStoreOptions = S3BucketOptions;

function describe(error: unknown): { text: string; code?: string } {
  return { text: errorText(error), ...(error instanceof Error ? { code: error.name } : {}) };
}

/**
 * Reads and writes approval records.
 *
 * @example await new S3ApprovalStore({ s3, bucket }).read('20251117T000512Z-7f3a9c')
 */
export class S3ApprovalStore extends S3BucketObjects {
  /** @throws ApprovalStoreError when PutObject fails. */
  async write(record: ApprovalRecord): Promise<string> {
    const key = approvalKey(record.runId);
    try {
      await this.putObject({
        Key: key,
        Body: `${JSON.stringify(record, null, 2)}\n`,
        ContentType: 'application/json; charset=utf-8',
      });
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
      text = await this.getText(key);
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
