/**
 * What the adapters over one of the stack's buckets share: the client and bucket they work in,
 * every write encrypted at rest — SSE-KMS under the stack's key (with an S3 Bucket Key) when there
 * is one, SSE-S3 (AES256) otherwise — and errors that name the object as `s3://bucket/key`.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Connection of an adapter over one bucket. */
export interface S3BucketOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** SSE-KMS key of written objects; SSE-S3 (AES256) without it. */
  readonly kmsKeyId?: string;
}

/** An object could not be read, parsed or written; names it. Adapters subclass it with their own name. */
export class S3ObjectError extends Error {
  override readonly name: string = 'S3ObjectError';
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, problem: string, options?: ErrorOptions) {
    super(`s3://${bucket}/${key}: ${problem}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * An error as `Name: message`, for the message of the error that wraps it.
 *
 * @example errorText(new Error('boom')) // 'Error: boom'
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The server-side encryption fields of a PutObject: SSE-KMS under `kmsKeyId` with an S3 Bucket
 * Key, SSE-S3 without it.
 *
 * @example encryptionOf(undefined) // { ServerSideEncryption: 'AES256' }
 */
export function encryptionOf(kmsKeyId: string | undefined): Partial<PutObjectCommandInput> {
  return kmsKeyId
    ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyId, BucketKeyEnabled: true }
    : { ServerSideEncryption: 'AES256' };
}

/** The base of an adapter that reads and writes objects of one bucket. */
export abstract class S3BucketObjects {
  protected readonly s3: S3Client;
  readonly bucket: string;
  protected readonly kmsKeyId?: string;

  constructor(options: S3BucketOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.kmsKeyId = options.kmsKeyId;
  }

  /** Writes one object, encrypted; the SDK's error passes through for the adapter to name. */
  protected async putObject(input: Omit<PutObjectCommandInput, 'Bucket'>): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, ...input, ...encryptionOf(this.kmsKeyId) }),
    );
  }

  /** One object's body as UTF-8 text (undefined when S3 sent none); the SDK's error passes through. */
  protected async getText(key: string): Promise<string | undefined> {
    const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return response.Body?.transformToString('utf-8');
  }
}
