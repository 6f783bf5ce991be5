/** What the audit and export commands share: progress lines, AWS clients, times. */
import type { AthenaSettings } from '../adapters/aws/athena/flow-source';
import { type AwsClients, createAwsClients } from '../adapters/aws/clients';
import type { CliIo } from './main';

export interface AwsFlags {
  region?: string;
  profile?: string;
}

/** Progress lines on stderr with the seconds since the command started; none with --quiet. */
export function progressOf(flags: { quiet?: boolean }, io: CliIo): (message: string) => void {
  const started = Date.now();
  return (message: string) => {
    if (!flags.quiet) io.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
}

/** The AWS clients of a live run or export: the test's factory, else the SDK's credential chain. */
export function awsClientsOf(flags: AwsFlags, io: CliIo): AwsClients {
  return (io.awsClients ?? createAwsClients)({
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
  });
}

/** A time in seconds as ISO 8601, '?' when unknown. */
export function iso(seconds: number | undefined): string {
  return seconds === undefined ? '?' : new Date(seconds * 1000).toISOString();
}

/** The `--athena-*` flags of a live command, when an Athena database is given. */
export function athenaSettingsOf(flags: {
  athenaDatabase?: string;
  athenaWorkgroup?: string;
  athenaOutput?: string;
}): AthenaSettings | undefined {
  return flags.athenaDatabase
    ? {
        database: flags.athenaDatabase,
        ...(flags.athenaWorkgroup ? { workGroup: flags.athenaWorkgroup } : {}),
        ...(flags.athenaOutput ? { outputLocation: flags.athenaOutput } : {}),
      }
    : undefined;
}
