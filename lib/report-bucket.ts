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
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
  /** Days run artefacts (inventory, aggregates, Athena results) are kept. @default 14 */
  readonly workRetentionDays?: number;
  /** Days server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
}

/** The report bucket, the work bucket and their access-log bucket. */
export class ReportBucket extends Construct {
  /** Reports (`<prefix>/<account>/<region>/<runId>/…`), versioned, retained. */
  public readonly bucket: s3.Bucket;
  /** Run artefacts (`runs/<runId>/…`, `athena-results/…`), short-lived. */
  public readonly workBucket: s3.Bucket;
  /** Server access logs of both buckets. */
  public readonly accessLogBucket: s3.Bucket;
  /** The key of report and work objects. */
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ReportBucketProps) {
    super(scope, id);
    const reportDays = props.reportRetentionDays ?? 365;
    const workDays = props.workRetentionDays ?? 14;
    this.encryptionKey = props.encryptionKey;

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
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      // One data key per bucket, not per object: KMS request costs stay flat.
      bucketKeyEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'report-bucket/',
      // Per prefix: a bucket-wide expiry would delete the suppressions file a year after upload.
      lifecycleRules: [
        {
          id: 'expire-reports',
          prefix: `${props.reportPrefix ?? 'reports'}/`,
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
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.workBucket = new s3.Bucket(this, 'WorkBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'work-bucket/',
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
}
