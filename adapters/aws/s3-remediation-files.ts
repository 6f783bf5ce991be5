/**
 * The deployed remediation's files beside a run's report in the report bucket: the plan files
 * (plan.json, plan.md, apply.sh, …) the remediate function writes, plan.json the apply function
 * reads back (validated), and the applied-<time>.json record it writes as it goes. SSE-KMS under
 * the stack's key, as the reports.
 */
import type { z } from 'zod';
import type { AppliedRecord, RemediationPlan } from '../../shared/remediation/model';
import { appliedRecordSchema, remediationPlanSchema } from '../../shared/remediation/schema';
import { errorText, S3BucketObjects, type S3BucketOptions, S3ObjectError } from './s3-objects';

/** A remediation file could not be read, parsed or written; names the object. */
export class RemediationFileError extends S3ObjectError {
  override readonly name = 'RemediationFileError';
}

/** The report bucket, and the SSE-KMS key of written files (SSE-S3 without it). */
export type S3RemediationFilesOptions = S3BucketOptions;

const CONTENT_TYPES: readonly [RegExp, string][] = [
  [/\.json$/, 'application/json; charset=utf-8'],
  [/\.md$/, 'text/markdown; charset=utf-8'],
  [/\.sh$/, 'text/x-shellscript; charset=utf-8'],
];

/**
 * Reads and writes a run's remediation files.
 *
 * @example await new S3RemediationFiles({ s3, bucket, kmsKeyId }).put('reports/…/run-1/plan.md', markdown)
 */
export class S3RemediationFiles extends S3BucketObjects {
  /** @throws RemediationFileError when PutObject fails. */
  async put(key: string, body: string): Promise<void> {
    const contentType =
      CONTENT_TYPES.find(([pattern]) => pattern.test(key))?.[1] ?? 'text/plain; charset=utf-8';
    try {
      await this.putObject({ Key: key, Body: body, ContentType: contentType });
    } catch (error) {
      throw new RemediationFileError(this.bucket, key, `cannot write: ${errorText(error)}`, { cause: error });
    }
  }

  /** A plan.json, validated against the plan schema. @throws RemediationFileError */
  readPlan(key: string): Promise<RemediationPlan> {
    return this.readValidated(key, remediationPlanSchema, 'an sg-audit plan') as Promise<RemediationPlan>;
  }

  /** An applied-<time>.json, validated against its schema. @throws RemediationFileError */
  readApplied(key: string): Promise<AppliedRecord> {
    return this.readValidated(
      key,
      appliedRecordSchema,
      'an sg-audit applied record',
    ) as Promise<AppliedRecord>;
  }

  /** Any JSON file of the run's remediation (not-opted-in.json). @throws RemediationFileError */
  readJson(key: string): Promise<unknown> {
    return this.getJson(key);
  }

  /** The JSON file at `key` checked against `schema`; `what` names the file in the error. */
  private async readValidated(key: string, schema: z.ZodType, what: string): Promise<unknown> {
    const parsed = schema.safeParse(await this.getJson(key));
    if (!parsed.success) {
      throw new RemediationFileError(this.bucket, key, `not ${what}: ${parsed.error.issues[0]?.message}`);
    }
    return parsed.data;
  }

  private async getJson(key: string): Promise<unknown> {
    let text: string | undefined;
    try {
      text = await this.getText(key);
    } catch (error) {
      throw new RemediationFileError(this.bucket, key, `cannot read: ${errorText(error)}`, { cause: error });
    }
    try {
      return JSON.parse(text ?? '') as unknown;
    } catch (error) {
      throw new RemediationFileError(this.bucket, key, 'not JSON', { cause: error });
    }
  }
}
