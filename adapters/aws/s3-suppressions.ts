/**
 * The suppressions file (accepted risks) of the deployed workflow: one YAML or JSON object in the
 * report bucket, read at the start of each analyze run. An absent object is not an error (the run
 * goes on without suppressions and the report says so); a malformed one is — parseSuppressions'
 * InputError names the entry, and failing the run sends the failure alert instead of silently
 * un-suppressing, or over-suppressing, findings.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseSuppressions, type SuppressionSet } from '../../shared/suppressions/suppressions';

/** The suppressions object exists but could not be read (access, network): names bucket and key. */
export class SuppressionsReadError extends Error {
  override readonly name = 'SuppressionsReadError';
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, options?: ErrorOptions) {
    const cause = options?.cause;
    const reason = cause instanceof Error ? `: ${cause.name}: ${cause.message}` : '';
    super(`cannot read the suppressions file s3://${bucket}/${key}${reason}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/** What reading the suppressions object found. */
export type SuppressionsLookup =
  | { readonly found: true; readonly location: string; readonly suppressions: SuppressionSet }
  | { readonly found: false; readonly location: string };

export interface S3SuppressionsOptions {
  readonly s3: S3Client;
  readonly bucket: string;
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');
}

/**
 * Reads and validates the suppressions object.
 *
 * @example
 * const lookup = await new S3Suppressions({ s3, bucket: 'audit-reports' }).read('config/suppressions.yaml');
 * if (lookup.found) reviewReport(report, { suppressions: lookup.suppressions, compare: true, now });
 */
export class S3Suppressions {
  private readonly s3: S3Client;
  private readonly bucket: string;

  constructor(options: S3SuppressionsOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
  }

  /**
   * The parsed suppressions at `key`, or `found: false` when there is no such object. Errors name
   * the file as `s3://bucket/key`.
   *
   * @throws InputError (from parseSuppressions) when the file is malformed, naming the entry.
   * @throws SuppressionsReadError when the object exists but cannot be read.
   */
  async read(key: string): Promise<SuppressionsLookup> {
    const location = `s3://${this.bucket}/${key}`;
    let text: string | undefined;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = await response.Body?.transformToString('utf-8');
    } catch (error) {
      // Without s3:ListBucket S3 answers AccessDenied for a missing key: that stays an error.
      if (isMissing(error)) return { found: false, location };
      throw new SuppressionsReadError(this.bucket, key, { cause: error });
    }
    return { found: true, location, suppressions: parseSuppressions(text ?? '', location) };
  }
}
