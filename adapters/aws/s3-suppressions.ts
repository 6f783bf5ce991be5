/**
 * The deployed workflow's configuration files in the report bucket, read at the start of each
 * analyze run: the suppressions file (accepted risks) and the egress allow-list (expected external
 * destinations), each one YAML or JSON object. One reader ({@link S3ConfigObject}) holds what they
 * share: an absent object is not an error (the run goes on without it and the report says so); a
 * malformed one is — the parser's InputError names the entry, and failing the run sends the
 * failure alert instead of silently un-suppressing, or over-suppressing, findings (or calling
 * every destination unexpected); an object that exists but cannot be read is a named read error.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type EgressAllowList, parseEgressAllowList } from '../../shared/suppressions/egress-allowlist';
import { parseSuppressions, type SuppressionSet } from '../../shared/suppressions/suppressions';

/** A configuration object exists but could not be read (access, network): names what, bucket and key. */
export class ConfigObjectReadError extends Error {
  override readonly name: string = 'ConfigObjectReadError';
  readonly bucket: string;
  readonly key: string;

  /** @param what - the file, for the message: 'suppressions file', 'egress allow-list'. */
  constructor(what: string, bucket: string, key: string, options?: ErrorOptions) {
    const cause = options?.cause;
    const reason = cause instanceof Error ? `: ${cause.name}: ${cause.message}` : '';
    super(`cannot read the ${what} s3://${bucket}/${key}${reason}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/** The suppressions object exists but could not be read (access, network): names bucket and key. */
export class SuppressionsReadError extends ConfigObjectReadError {
  override readonly name = 'SuppressionsReadError';

  constructor(bucket: string, key: string, options?: ErrorOptions) {
    super('suppressions file', bucket, key, options);
  }
}

/** The egress allow-list object exists but could not be read (access, network): names bucket and key. */
export class EgressAllowListReadError extends ConfigObjectReadError {
  override readonly name = 'EgressAllowListReadError';

  constructor(bucket: string, key: string, options?: ErrorOptions) {
    super('egress allow-list', bucket, key, options);
  }
}

/** What reading a configuration object found. */
export type ConfigObjectLookup<T> =
  | { readonly found: true; readonly location: string; readonly value: T }
  | { readonly found: false; readonly location: string };

export interface S3ConfigObjectOptions<T> {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Parses and validates the text; `file` is the object's `s3://bucket/key`. Throws when malformed. */
  readonly parse: (text: string, file: string) => T;
  /** The error thrown when the object exists but cannot be read. */
  readonly readError: (bucket: string, key: string, options: ErrorOptions) => Error;
}

/** Connection of the typed readers below. */
export interface S3ConfigFileOptions {
  readonly s3: S3Client;
  readonly bucket: string;
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');
}

/**
 * Reads and parses one configuration object of a bucket.
 *
 * @example
 * const file = new S3ConfigObject({ s3, bucket, parse: parseSuppressions, readError: (b, k, o) => new SuppressionsReadError(b, k, o) });
 * const lookup = await file.read('config/suppressions.yaml'); // { found: true, location, value }
 */
export class S3ConfigObject<T> {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly parse: S3ConfigObjectOptions<T>['parse'];
  private readonly readError: S3ConfigObjectOptions<T>['readError'];

  constructor(options: S3ConfigObjectOptions<T>) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.parse = options.parse;
    this.readError = options.readError;
  }

  /**
   * The parsed object at `key`, or `found: false` when there is no such object. Errors name the
   * file as `s3://bucket/key`.
   *
   * @throws what `parse` throws (an InputError naming the entry) when the file is malformed.
   * @throws what `readError` makes when the object exists but cannot be read.
   */
  async read(key: string): Promise<ConfigObjectLookup<T>> {
    const location = `s3://${this.bucket}/${key}`;
    let text: string | undefined;
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      text = await response.Body?.transformToString('utf-8');
    } catch (error) {
      // Without s3:ListBucket S3 answers AccessDenied for a missing key: that stays an error.
      if (isMissing(error)) return { found: false, location };
      throw this.readError(this.bucket, key, { cause: error });
    }
    return { found: true, location, value: this.parse(text ?? '', location) };
  }
}

/** What reading a typed configuration file found: its parsed value under the file's own name (`F`). */
export type ConfigFileLookup<F extends string, T> =
  | ({ readonly found: true; readonly location: string } & { readonly [K in F]: T })
  | { readonly found: false; readonly location: string };

/** A typed configuration file: an S3ConfigObject whose lookup names the value as the file's content. */
abstract class S3ConfigFile<F extends string, T> {
  private readonly file: S3ConfigObject<T>;
  private readonly field: F;

  constructor(options: S3ConfigObjectOptions<T>, field: F) {
    this.file = new S3ConfigObject(options);
    this.field = field;
  }

  /**
   * The parsed file at `key`, or `found: false` when there is no such object.
   *
   * @throws InputError (from the file's parser) when the file is malformed, naming the entry.
   * @throws the file's read error when the object exists but cannot be read.
   */
  async read(key: string): Promise<ConfigFileLookup<F, T>> {
    const lookup = await this.file.read(key);
    if (!lookup.found) return { found: false, location: lookup.location };
    return { found: true, location: lookup.location, [this.field]: lookup.value } as ConfigFileLookup<F, T>;
  }
}

/** What reading the suppressions object found. */
export type SuppressionsLookup = ConfigFileLookup<'suppressions', SuppressionSet>;

export type S3SuppressionsOptions = S3ConfigFileOptions;

/**
 * Reads and validates the suppressions object: `read` throws SuppressionsReadError when the object
 * exists but cannot be read, and parseSuppressions' InputError when it is malformed.
 *
 * @example
 * const lookup = await new S3Suppressions({ s3, bucket: 'audit-reports' }).read('config/suppressions.yaml');
 * if (lookup.found) reviewReport(report, { suppressions: lookup.suppressions, compare: true, now });
 */
export class S3Suppressions extends S3ConfigFile<'suppressions', SuppressionSet> {
  constructor(options: S3SuppressionsOptions) {
    super(
      {
        ...options,
        parse: parseSuppressions,
        readError: (bucket, key, errorOptions) => new SuppressionsReadError(bucket, key, errorOptions),
      },
      'suppressions',
    );
  }
}

/** What reading the egress allow-list object found. */
export type EgressAllowListLookup = ConfigFileLookup<'allowList', EgressAllowList>;

/**
 * Reads and validates the egress allow-list object: `read` throws EgressAllowListReadError when
 * the object exists but cannot be read, and parseEgressAllowList's InputError when it is malformed.
 *
 * @example
 * const lookup = await new S3EgressAllowList({ s3, bucket: 'audit-reports' }).read('config/egress-allowlist.yaml');
 * if (lookup.found) await runAudit({ ...options, egressAllowList: lookup.allowList });
 */
export class S3EgressAllowList extends S3ConfigFile<'allowList', EgressAllowList> {
  constructor(options: S3ConfigFileOptions) {
    super(
      {
        ...options,
        parse: parseEgressAllowList,
        readError: (bucket, key, errorOptions) => new EgressAllowListReadError(bucket, key, errorOptions),
      },
      'allowList',
    );
  }
}
