/**
 * What Athena needs to read S3-delivered flow logs: the Glue database the flow-log tables live in
 * and a workgroup whose query results are KMS-encrypted, whose configuration is enforced (clients
 * cannot redirect results or turn encryption off) and whose per-query scan is capped.
 *
 * The tables themselves are per flow log and the flow logs are only known at run time, so the
 * query function creates them (`CREATE EXTERNAL TABLE IF NOT EXISTS`, partition projection on the
 * delivery day — shared/flow/athena-ddl.ts) in this database, named `vpc_flow_logs_<fl id>`
 * (flowLogTableName). {@link FlowLogAthenaTable.grantQuery} scopes Glue to exactly those names.
 */
import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The table names the query function creates (flowLogTableName in shared/flow/athena-ddl.ts). */
export const FLOW_LOG_TABLE_PATTERN = 'vpc_flow_logs_*';

/** The work bucket's prefix for Athena results when no output location is configured. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

export interface FlowLogAthenaTableProps {
  /** Glue database name. */
  readonly database: string;
  /** Athena workgroup name. */
  readonly workGroup: string;
  /** `s3://bucket/prefix/` folders of the flow-log objects the queries read. */
  readonly flowLogLocations: readonly string[];
  /** The bucket results go to when `outputLocation` is absent (under `athena-results/`). */
  readonly workBucket: s3.IBucket;
  /** `s3://bucket/prefix/` for results. @default the work bucket's `athena-results/` */
  readonly outputLocation?: string;
  /** The key results are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /**
   * Customer-managed keys of the flow-log buckets (SSE-KMS): the query role may decrypt with
   * them, through S3 only. @default none (SSE-S3 flow-log buckets need no key grant)
   */
  readonly flowLogKeyArns?: readonly string[];
  /** Per-query scan cap (bytes): a runaway query fails instead of billing. @default 1 TiB */
  readonly bytesScannedCutoffPerQuery?: number;
}

/** `s3://bucket/prefix/` → bucket and key prefix. */
function splitS3Location(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
  if (!match?.[1]) throw new Error(`'${location}' is not an s3://bucket/prefix/ location`);
  return { bucket: match[1], prefix: match[2] ?? '' };
}

/** The Glue database and Athena workgroup of the flow-log tables. */
export class FlowLogAthenaTable extends Construct {
  public readonly database: glue.CfnDatabase;
  public readonly workGroup: athena.CfnWorkGroup;
  public readonly databaseName: string;
  public readonly workGroupName: string;
  /** Where results are written (`s3://…/`). */
  public readonly outputLocation: string;
  /** The Glue tables the query step may create and read (`table/<db>/vpc_flow_logs_*`). */
  public readonly tablesArn: string;
  /** The flow-log objects Athena reads, one ARN per configured folder. */
  public readonly flowLogObjectArns: readonly string[];
  /** The result objects Athena writes and the query step reads. */
  public readonly resultObjectsArn: string;
  private readonly resultsBucketArn: string;
  private readonly props: FlowLogAthenaTableProps;

  constructor(scope: Construct, id: string, props: FlowLogAthenaTableProps) {
    super(scope, id);
    this.props = props;
    this.databaseName = props.database;
    this.workGroupName = props.workGroup;
    this.outputLocation =
      props.outputLocation ?? `s3://${props.workBucket.bucketName}/${ATHENA_RESULTS_PREFIX}`;

    const stack = Stack.of(this);
    this.tablesArn = this.glueArn(`table/${props.database}/${FLOW_LOG_TABLE_PATTERN}`);
    this.flowLogObjectArns = props.flowLogLocations
      .map(splitS3Location)
      .map((l) => `arn:${stack.partition}:s3:::${l.bucket}/${l.prefix}*`);
    const results = props.outputLocation
      ? splitS3Location(props.outputLocation)
      : { bucket: undefined, prefix: ATHENA_RESULTS_PREFIX };
    this.resultsBucketArn = results.bucket
      ? `arn:${stack.partition}:s3:::${results.bucket}`
      : props.workBucket.bucketArn;
    this.resultObjectsArn = `${this.resultsBucketArn}/${results.prefix}*`;

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Stack.of(this).account,
      databaseInput: {
        name: props.database,
        description:
          'sg-audit: VPC flow-log tables (partition projection), created per flow log by the query step',
      },
    });
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workGroup,
      description: 'sg-audit flow-log queries',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 1024 ** 4,
        resultConfiguration: {
          outputLocation: this.outputLocation,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn },
        },
      },
    });
  }

  private glueArn(resource: string): string {
    const stack = Stack.of(this);
    return `arn:${stack.partition}:glue:${stack.region}:${stack.account}:${resource}`;
  }

  /**
   * Tells the function that plans the flow-log queries (discover) that S3 flow logs are read
   * through Athena (ATHENA_DATABASE) and which folders {@link grantQuery} lets it read
   * (FLOW_LOG_LOCATIONS): a flow log delivering elsewhere is left unread, not queried into an
   * AccessDenied.
   */
  bindPlanner(fn: lambda.Function): void {
    fn.addEnvironment('ATHENA_DATABASE', this.databaseName);
    fn.addEnvironment('FLOW_LOG_LOCATIONS', this.props.flowLogLocations.join(','));
  }

  /**
   * Lets a function run flow-log queries in the workgroup, create and read the flow-log tables of
   * the database, read the flow-log objects and write/read results — and binds ATHENA_DATABASE
   * and ATHENA_WORKGROUP (results go where the enforced workgroup says, so no ATHENA_OUTPUT).
   */
  grantQuery(fn: lambda.Function): void {
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaQueries',
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
          'athena:GetWorkGroup',
        ],
        resources: [
          `arn:${stack.partition}:athena:${stack.region}:${stack.account}:workgroup/${this.workGroupName}`,
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'GlueFlowLogTables',
        actions: [
          'glue:GetDatabase',
          'glue:CreateDatabase',
          'glue:GetTable',
          'glue:CreateTable',
          'glue:GetPartition',
          'glue:GetPartitions',
        ],
        resources: [this.glueArn('catalog'), this.glueArn(`database/${this.databaseName}`), this.tablesArn],
      }),
    );
    const flowLogs = this.props.flowLogLocations.map(splitS3Location);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogBucketsList',
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [...new Set(flowLogs.map((l) => `arn:${stack.partition}:s3:::${l.bucket}`))],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogObjectsRead',
        actions: ['s3:GetObject'],
        resources: [...this.flowLogObjectArns],
      }),
    );
    const flowLogKeys = this.props.flowLogKeyArns ?? [];
    if (flowLogKeys.length > 0) {
      // Athena reads the objects with the caller's credentials; S3 decrypts them with its key.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'FlowLogObjectsKey',
          actions: ['kms:Decrypt'],
          resources: [...flowLogKeys],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
        }),
      );
    }
    // Athena writes results (and the adapter reads them) with the caller's credentials, in
    // multipart uploads when they are large: the bucket and object actions of Athena's guide for a
    // query result location.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaResultsBucket',
        actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        resources: [this.resultsBucketArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaResultsObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [this.resultObjectsArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaResultsKey',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.props.encryptionKey.keyArn],
      }),
    );
    fn.addEnvironment('ATHENA_DATABASE', this.databaseName);
    fn.addEnvironment('ATHENA_WORKGROUP', this.workGroupName);
  }
}
