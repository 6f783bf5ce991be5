/**
 * The ONE Lambda function wrapper of the app: newest Node.js runtime, ARM64, active tracing, an
 * explicit log group with retention, and local esbuild bundling (minified, source maps, the
 * runtime's AWS SDK v3 left external) — never Docker, so `cdk synth` works offline.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The workflow's functions, each a handler at `lambdas/<name>/handler.ts`. */
export type AuditFunctionName = 'discover' | 'query' | 'analyze' | 'notify';

/** The newest Node.js runtime aws-cdk-lib offers. */
export const AUDIT_FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface AuditFunctionProps {
  /** Which handler (`lambdas/<name>/handler.ts`). */
  readonly name: AuditFunctionName;
  /** The repository root (holds package-lock.json and lambdas/). */
  readonly projectRoot: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** LOG_LEVEL of the function. @default 'INFO' */
  readonly logLevel?: string;
  /** Environment variables not tied to a grant (settings). @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default `sg-audit ${name} step` */
  readonly description?: string;
}

/** One function of the audit workflow. */
export class AuditFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  /** The function's own role: no managed policy, only what the stack grants. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AuditFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Not AWSLambdaBasicExecutionRole (logs:* on every log group): write to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `sg-audit ${props.name} function`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role: this.role,
      entry: path.join(props.projectRoot, 'lambdas', props.name, 'handler.ts'),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      description: props.description ?? `sg-audit ${props.name} step`,
      runtime: AUDIT_FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'sg-audit',
        LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        // The Node.js runtime ships the AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}
