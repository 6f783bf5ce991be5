/**
 * `sg-audit export`: writes the offline export directory from the account (cli/export.ts).
 * Loaded only when the command runs (the AWS SDK stays out of `sg-audit --help`).
 */
import { DEFAULT_CONFIG } from '../shared/config';
import { type AwsFlags, awsClientsOf, iso, progressOf } from './command-context';
import { EXIT_OK } from './exit-codes';
import { exportAccount } from './export';
import { liveWindow } from './live';
import type { CliIo } from './main';

export interface ExportFlags extends AwsFlags {
  out: string;
  vpc: string[];
  days: number;
  end?: string;
  quiet?: boolean;
}

/** Runs `sg-audit export` with parsed flags; returns the exit code. */
export async function runExportCommand(flags: ExportFlags, io: CliIo): Promise<number> {
  const progress = progressOf(flags, io);
  const window = liveWindow({
    ...(flags.end !== undefined ? { end: flags.end } : {}),
    days: flags.days,
    now: io.now?.() ?? new Date(),
    incompleteTailSeconds: DEFAULT_CONFIG.incompleteTailSeconds,
  });
  const clients = awsClientsOf(flags, io);
  try {
    progress(`window ${iso(window.start)} .. ${iso(window.end)} (${flags.days} days)`);
    const summary = await exportAccount(clients, {
      out: flags.out,
      vpcIds: flags.vpc,
      window,
      progress,
      warn: (message) => io.stderr.write(`warning: ${message}\n`),
      now: io.now?.() ?? new Date(),
    });
    io.stdout.write(
      `Exported to ${flags.out}: ${summary.documents.length} inventory documents, ${summary.s3Objects} S3 flow-log objects (${summary.s3Bytes} bytes), ` +
        `${summary.cloudWatchEvents} CloudWatch Logs events in ${summary.cloudWatchFiles} files` +
        (summary.cloudTrailEvents !== undefined ? `, ${summary.cloudTrailEvents} CloudTrail events` : '') +
        '; ' +
        `window ${iso(window.start)} .. ${iso(window.end)}\n` +
        `Audit it with: sg-audit audit --input ${flags.out} --end ${iso(window.end)} --days ${flags.days}\n`,
    );
    return EXIT_OK;
  } finally {
    clients.destroy();
  }
}
