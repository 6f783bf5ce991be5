/**
 * The SDK clients of a live run, created once from the standard AWS credential chain. The SDK
 * itself honours AWS_REGION, AWS_PROFILE and AWS_ENDPOINT_URL (and the per-service
 * AWS_ENDPOINT_URL_<SERVICE>); `--region` and `--profile` override the first two.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsConnectionOptions {
  /** @default the SDK's (AWS_REGION, the profile's region) */
  readonly region?: string;
  /** A named profile of ~/.aws/config; @default the SDK's chain (AWS_PROFILE, env, SSO, IMDS …) */
  readonly profile?: string;
  /** Attempts per call, adaptive retry mode (throttling backs off client-side). @default 8 */
  readonly maxAttempts?: number;
  /**
   * Credentials to use instead of the profile's or the chain's: an organization target's member
   * role (adapters/aws/member-role.ts). @default the profile's, else the SDK's chain
   */
  readonly credentials?: AwsCredentialIdentityProvider;
}

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly logs: CloudWatchLogsClient;
  readonly athena: AthenaClient;
  readonly s3: S3Client;
  readonly rds: RDSClient;
  readonly sts: STSClient;
  /** CloudWatch metrics: the flow-log groups' IncomingLogEvents (delivery counters, doctor). */
  readonly cloudwatch: CloudWatchClient;
  /** Service Quotas (sg-audit doctor). */
  readonly serviceQuotas: ServiceQuotasClient;
  /** CloudTrail LookupEvents (who changed a rule); runs without it attribute nothing. */
  readonly cloudtrail?: CloudTrailClient;
  /** An organization run's account listing (`--organization`). */
  readonly organizations: OrganizationsClient;
  /** Closes every client's connections. */
  destroy(): void;
}

/** Creates the clients of a run; tests inject their own (endpoints, mocks). */
export type AwsClientFactory = (options: AwsConnectionOptions) => AwsClients;

export const DEFAULT_MAX_ATTEMPTS = 8;

/** What every client of a run is configured with (the fields the SDK clients share). */
export type AwsClientConfig = Pick<
  NonNullable<ConstructorParameters<typeof STSClient>[0]>,
  'region' | 'endpoint' | 'credentials' | 'retryMode' | 'maxAttempts'
>;

/**
 * A run's clients from one client configuration, some given ready-made (a test's S3 client in
 * path style, an instrumented Logs client); `destroy` closes them all.
 *
 * @example const clients = awsClientsFrom({ region: 'ap-northeast-2', endpoint }, { s3: pathStyleS3 });
 */
export function awsClientsFrom(
  config: AwsClientConfig,
  given: Partial<Omit<AwsClients, 'destroy'>> = {},
): AwsClients {
  const clients = {
    ec2: given.ec2 ?? new EC2Client(config),
    logs: given.logs ?? new CloudWatchLogsClient(config),
    athena: given.athena ?? new AthenaClient(config),
    s3: given.s3 ?? new S3Client(config),
    rds: given.rds ?? new RDSClient(config),
    sts: given.sts ?? new STSClient(config),
    cloudwatch: given.cloudwatch ?? new CloudWatchClient(config),
    serviceQuotas: given.serviceQuotas ?? new ServiceQuotasClient(config),
    cloudtrail: given.cloudtrail ?? new CloudTrailClient(config),
    organizations: given.organizations ?? new OrganizationsClient(config),
  };
  return {
    ...clients,
    destroy: () => {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

/**
 * The live run's clients, adaptive retries, credentials from `--profile` or the default chain.
 *
 * @example const clients = createAwsClients({ region: 'ap-northeast-2', profile: 'audit' });
 */
export const createAwsClients: AwsClientFactory = (options) =>
  awsClientsFrom({
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials
      ? { credentials: options.credentials }
      : options.profile
        ? { credentials: fromIni({ profile: options.profile }) }
        : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  });
