/**
 * Where reports live, plus the run artefacts (work) bucket and the server-access-log bucket both
 * log to. Reports and work objects are encrypted with the app's customer-managed key: a report is
 * a map of the network's exposure, and a key policy (not only the bucket policy) decides who can
 * read it, with every decrypt in CloudTrail. Access logs go to a separate SSE-S3 bucket because
 * S3 server access logging cannot deliver to an SSE-KMS (customer key) bucket.
 *
 * The work bucket is separate from the report bucket (not a prefix of it): its objects live days,
 * not a year, are unversioned scratch, and only the workflow's functions touch them — separate
 * buckets keep the lifecycle rules and the grants apart.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Work-bucket keys of a run (adapters/aws/s3-work-store.ts workKeys). */
export const RUN_OBJECTS = 'runs/*';

/**
 * Work-bucket keys of the deployed remediation's approval records (`approvals/<runId>.json`, with
 * the waiting task's token): apart from `runs/*`, so an approver can be let read these only.
 */
export const APPROVAL_OBJECTS = 'approvals/*';

/** What a function does with objects: read them, write them, or both. */
export type ObjectAccess = 'read' | 'write' | 'readWrite';

export interface ReportBucketProps {
  /** The customer-managed key of the report and work objects. */
  readonly encryptionKey: kms.IKey;
  /** Days a report is kept (its lifecycle rule covers this prefix only). @default 365 */
  readonly reportRetentionDays?: number;
  /** Key prefix of the reports, without a trailing `/`. @default 'reports' */
  readonly reportPrefix?: string;
  /**
   * Key of the suppressions file (outside the report prefix): never expired; its previous
   * versions, the history of accepted risks, are kept `reportRetentionDays`.
   *
   * @default - no rule for it
   */
  readonly suppressionsKey?: string;
  /**
   * Key of the egress allow-list (outside the report prefix): never expired; its previous
   * versions, the history of expected destinations, are kept `reportRetentionDays`.
   *
   * @default - no rule for it
   */
  readonly egressAllowlistKey?: string;
  /** Days run artefacts (inventory, aggregates, Athena results) are kept. @default 14 */
  readonly workRetentionDays?: number;
  /** Days server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
}

/**
 * The report bucket, the work bucket and their access-log bucket; its grant methods give a
 * function exactly the objects (and key use) it needs and bind the variables naming them.
 *
 * The grants are GetObject/PutObject statements on a key pattern, not the L2
 * `bucket.grantRead/grantWrite`: those add `s3:GetObject*`, `s3:GetBucket*`, `s3:List*`,
 * `s3:DeleteObject*` and the key's `kms:Encrypt`/`kms:ReEncrypt*`, more than the functions use.
 * Statements the grants share (the key's Decrypt, the report bucket's ListBucket) are added once
 * per function.
 */
export class ReportBucket extends Construct {
  /** Reports (`<prefix>/<account>/<region>/<runId>/…`), versioned, retained. */
  public readonly bucket: s3.Bucket;
  /** Run artefacts (`runs/<runId>/…`, `athena-results/…`), short-lived. */
  public readonly workBucket: s3.Bucket;
  /** Server access logs of both buckets. */
  public readonly accessLogBucket: s3.Bucket;
  /** The key of report and work objects. */
  public readonly encryptionKey: kms.IKey;
  /** Key prefix of the reports, without a trailing `/`. */
  public readonly reportPrefix: string;
  /** Key of the suppressions file, when configured. */
  public readonly suppressionsKey?: string;
  /** Key of the egress allow-list, when configured. */
  public readonly egressAllowlistKey?: string;
  /** `action resource` pairs of the key and listing statements already granted, per function. */
  private readonly granted = new Map<lambda.IFunction, Set<string>>();

  constructor(scope: Construct, id: string, props: ReportBucketProps) {
    super(scope, id);
    const reportDays = props.reportRetentionDays ?? 365;
    const workDays = props.workRetentionDays ?? 14;
    this.encryptionKey = props.encryptionKey;
    this.reportPrefix = props.reportPrefix ?? 'reports';
    if (props.suppressionsKey) this.suppressionsKey = props.suppressionsKey;
    if (props.egressAllowlistKey) this.egressAllowlistKey = props.egressAllowlistKey;

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.accessLogRetentionDays ?? 365),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...this.privateBucketProps(props.encryptionKey, 'report-bucket/'),
      // Per prefix: a bucket-wide expiry would delete the configuration files a year after upload.
      lifecycleRules: [
        {
          id: 'expire-reports',
          prefix: `${this.reportPrefix}/`,
          expiration: Duration.days(reportDays),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        ...(props.suppressionsKey
          ? [
              {
                id: 'keep-suppressions-history',
                prefix: props.suppressionsKey,
                noncurrentVersionExpiration: Duration.days(reportDays),
              },
            ]
          : []),
        ...(props.egressAllowlistKey
          ? [
              {
                id: 'keep-egress-allowlist-history',
                prefix: props.egressAllowlistKey,
                noncurrentVersionExpiration: Duration.days(reportDays),
              },
            ]
          : []),
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.workBucket = new s3.Bucket(this, 'WorkBucket', {
      ...this.privateBucketProps(props.encryptionKey, 'work-bucket/'),
      lifecycleRules: [
        {
          id: 'expire-run-artefacts',
          expiration: Duration.days(workDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * What both buckets are: private (public access blocked, TLS only, owner-enforced), encrypted
   * with the app's key (one data key per bucket, not per object: KMS request costs stay flat),
   * versioned, and logged to the access-log bucket under their own prefix.
   */
  private privateBucketProps(encryptionKey: kms.IKey, logPrefix: string): s3.BucketProps {
    return {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey,
      bucketKeyEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: logPrefix,
    };
  }

  /**
   * The run artefacts of the work bucket (`runs/*`), and the variables naming the bucket and the
   * key (WORK_BUCKET, KMS_KEY_ID).
   */
  grantRunArtefacts(fn: lambda.Function, access: ObjectAccess): void {
    this.grantObjects(fn, this.workBucket, RUN_OBJECTS, access);
    fn.addEnvironment('WORK_BUCKET', this.workBucket.bucketName);
    fn.addEnvironment('KMS_KEY_ID', this.encryptionKey.keyArn);
  }

  /**
   * The report objects, and the variables naming the bucket (REPORT_BUCKET) and, for writers, the
   * key (KMS_KEY_ID). Reads cover the week-over-week inputs too:
   * `<prefix>/<account>/<region>/latest.json` and the previous run's report.json it points at
   * (adapters/aws/s3-report-sink.ts).
   */
  grantReports(fn: lambda.Function, access: ObjectAccess): void {
    this.grantObjects(fn, this.bucket, `${this.reportPrefix}/*`, access);
    this.allowListing(fn);
    fn.addEnvironment('REPORT_BUCKET', this.bucket.bucketName);
    if (access !== 'read') fn.addEnvironment('KMS_KEY_ID', this.encryptionKey.keyArn);
  }

  /**
   * Named files of any run under the report prefix (`<prefix>/…/<name>`, any run's folder; e.g. the remediation's
   * plan.json and applied-*.json), not the reports themselves; and the variables naming the bucket
   * (REPORT_BUCKET) and, for writers, the key (KMS_KEY_ID). Returns the object ARNs granted.
   */
  grantRunFiles(fn: lambda.Function, names: readonly string[], access: ObjectAccess): string[] {
    const arns = names.map((name) => this.bucket.arnForObjects(`${this.reportPrefix}/*/${name}`));
    const reads = access !== 'write';
    const writes = access !== 'read';
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [...(reads ? ['s3:GetObject'] : []), ...(writes ? ['s3:PutObject'] : [])],
        resources: arns,
      }),
    );
    const keyActions = [...(writes ? ['kms:GenerateDataKey'] : []), ...(reads ? ['kms:Decrypt'] : [])];
    this.allowOnce(fn, keyActions, this.encryptionKey.keyArn);
    fn.addEnvironment('REPORT_BUCKET', this.bucket.bucketName);
    if (writes) fn.addEnvironment('KMS_KEY_ID', this.encryptionKey.keyArn);
    return arns;
  }

  /**
   * The approval records of the work bucket (`approvals/*`), and the variables naming the bucket
   * and the key (WORK_BUCKET, KMS_KEY_ID).
   */
  grantApprovals(fn: lambda.Function, access: ObjectAccess): void {
    this.grantObjects(fn, this.workBucket, APPROVAL_OBJECTS, access);
    fn.addEnvironment('WORK_BUCKET', this.workBucket.bucketName);
    fn.addEnvironment('KMS_KEY_ID', this.encryptionKey.keyArn);
  }

  /**
   * The suppressions file: GetObject on exactly its key (outside the report prefix, so a function
   * that writes reports cannot rewrite the accepted risks), and the variables naming it
   * (REPORT_BUCKET, SUPPRESSIONS_KEY).
   */
  grantSuppressionsRead(fn: lambda.Function): void {
    const key = this.suppressionsKey;
    if (!key) throw new Error('ReportBucket: grantSuppressionsRead needs the suppressionsKey prop');
    this.grantConfigObjectRead(fn, key, 'SuppressionsRead', 'SUPPRESSIONS_KEY');
  }

  /**
   * The egress allow-list: GetObject on exactly its key (outside the report prefix, so a function
   * that writes reports cannot rewrite the expected destinations), and the variables naming it
   * (REPORT_BUCKET, EGRESS_ALLOWLIST_KEY).
   */
  grantEgressAllowListRead(fn: lambda.Function): void {
    const key = this.egressAllowlistKey;
    if (!key) throw new Error('ReportBucket: grantEgressAllowListRead needs the egressAllowlistKey prop');
    this.grantConfigObjectRead(fn, key, 'EgressAllowListRead', 'EGRESS_ALLOWLIST_KEY');
  }

  /** One configuration object of the report bucket, read-only, and the variables naming it. */
  private grantConfigObjectRead(fn: lambda.Function, key: string, sid: string, variable: string): void {
    this.grantObjects(fn, this.bucket, key, 'read', { sid });
    this.allowListing(fn);
    fn.addEnvironment('REPORT_BUCKET', this.bucket.bucketName);
    fn.addEnvironment(variable, key);
  }

  /** Object actions on a key pattern of one of the buckets, with the key use they need. */
  private grantObjects(
    fn: lambda.Function,
    bucket: s3.IBucket,
    pattern: string,
    access: ObjectAccess,
    options: { sid?: string } = {},
  ): void {
    const reads = access !== 'write';
    const writes = access !== 'read';
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        ...(options.sid ? { sid: options.sid } : {}),
        actions: [...(reads ? ['s3:GetObject'] : []), ...(writes ? ['s3:PutObject'] : [])],
        resources: [bucket.arnForObjects(pattern)],
      }),
    );
    // SSE-KMS with a bucket key: a write needs a data key, a read needs decrypt.
    const keyActions = [...(writes ? ['kms:GenerateDataKey'] : []), ...(reads ? ['kms:Decrypt'] : [])];
    this.allowOnce(fn, keyActions, this.encryptionKey.keyArn);
  }

  /**
   * A missing object is NoSuchKey (not AccessDenied) only with ListBucket: the readers take an
   * absent latest.json (first run) or suppressions file as "none". Key names only, this bucket only.
   */
  private allowListing(fn: lambda.Function): void {
    this.allowOnce(fn, ['s3:ListBucket'], this.bucket.bucketArn);
  }

  /**
   * Actions on one resource, leaving out those already granted the function on it: grants that
   * share a need (the key's Decrypt, the bucket's ListBucket) add one statement.
   */
  private allowOnce(fn: lambda.Function, actions: readonly string[], resource: string): void {
    const seen = this.granted.get(fn) ?? new Set<string>();
    this.granted.set(fn, seen);
    const missing = actions.filter((action) => !seen.has(`${action} ${resource}`));
    if (missing.length === 0) return;
    for (const action of missing) seen.add(`${action} ${resource}`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: missing, resources: [resource] }));
  }
}
