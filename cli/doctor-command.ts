/**
 * `sg-audit doctor`: the account's readiness for an audit (cli/doctor.ts), printed as a table or
 * JSON. Loaded only when the command runs (the AWS SDK stays out of `sg-audit --help`).
 */
import type { AwsClients } from '../adapters/aws/clients';
import { LogGroupMetrics } from '../adapters/aws/log-group-metrics';
import { readServiceQuota } from '../adapters/aws/readiness';
import { DEFAULT_CONFIG } from '../shared/config';
import { type AwsFlags, athenaSettingsOf, awsClientsOf, progressOf } from './command-context';
import { type DoctorDependencies, runDoctor } from './doctor';
import { renderDoctor } from './doctor-table';
import { EXIT_NOT_READY, EXIT_OK } from './exit-codes';
import type { CliIo } from './main';

export interface DoctorFlags extends AwsFlags {
  vpc: string[];
  athenaDatabase?: string;
  athenaWorkgroup?: string;
  athenaOutput?: string;
  json?: boolean;
  quiet?: boolean;
  /** Roles whose permissions are simulated (repeatable). */
  roleArn: string[];
}

/** Runs `sg-audit doctor` with parsed flags; returns the exit code (EXIT_NOT_READY when the audit would be blind). */
export async function runDoctorCommand(flags: DoctorFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const clients = awsClientsOf(flags, io);
  try {
    const athena = athenaSettingsOf(flags);
    const metrics = new LogGroupMetrics({ cloudwatch: clients.cloudwatch });
    const rolePermissions = flags.roleArn.length > 0 ? await roleSimulator(clients) : undefined;
    const result = await runDoctor(
      {
        clients,
        logGroupIncomingEvents: (logGroups, window) => metrics.incomingLogEvents(logGroups, window),
        serviceQuota: (wanted) => readServiceQuota(clients.serviceQuotas, wanted),
        ...(rolePermissions ? { rolePermissions } : {}),
      },
      {
        vpcIds: flags.vpc,
        ...(athena ? { athena } : {}),
        now: io.now?.() ?? new Date(),
        incompleteTailSeconds: DEFAULT_CONFIG.incompleteTailSeconds,
        progress,
        roleArns: flags.roleArn,
        ...(io.flowPollIntervalMs !== undefined ? { pollIntervalMs: io.flowPollIntervalMs } : {}),
      },
    );
    io.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderDoctor(result));
    return result.ready ? EXIT_OK : EXIT_NOT_READY;
  } finally {
    clients.destroy();
  }
}

/**
 * IAM's policy simulator with the run's credentials and endpoint (the STS client's: the profile or
 * chain, a test's emulator); the IAM SDK is loaded only when `--role-arn` is given.
 */
async function roleSimulator(
  clients: AwsClients,
): Promise<NonNullable<DoctorDependencies['rolePermissions']>> {
  const [{ IAMClient }, { checkRolePermissions }] = await Promise.all([
    import('@aws-sdk/client-iam'),
    import('../adapters/aws/role-simulation'),
  ]);
  const sts = clients.sts.config;
  const iam = new IAMClient({
    region: await sts.region(),
    credentials: sts.credentials,
    ...(sts.isCustomEndpoint && sts.endpoint ? { endpoint: await sts.endpoint() } : {}),
  });
  return async (roleArns, wanted) => {
    try {
      return await checkRolePermissions(iam, roleArns, wanted);
    } finally {
      iam.destroy();
    }
  };
}
