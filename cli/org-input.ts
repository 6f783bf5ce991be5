/**
 * Whether `sg-audit audit` runs over an organization: live with --accounts, --organization or
 * --regions, or offline over a folder of `<account>/<region>/` export directories. Only node:fs:
 * main.ts asks before it loads either command's module.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ACCOUNT_FOLDER = /^\d{12}$/;
const REGION_FOLDER = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The `<account>/<region>/` export directories under a folder (those with security-groups.json). */
export function organizationExports(
  folder: string,
): { accountId: string; region: string; directory: string }[] {
  if (!existsSync(folder) || existsSync(path.join(folder, 'security-groups.json'))) return [];
  const found: { accountId: string; region: string; directory: string }[] = [];
  for (const account of readdirSync(folder)
    .filter((name) => ACCOUNT_FOLDER.test(name))
    .sort()) {
    const accountDir = path.join(folder, account);
    if (!statSync(accountDir).isDirectory()) continue;
    for (const region of readdirSync(accountDir)
      .filter((name) => REGION_FOLDER.test(name))
      .sort()) {
      const directory = path.join(accountDir, region);
      if (existsSync(path.join(directory, 'security-groups.json'))) {
        found.push({ accountId: account, region, directory });
      }
    }
  }
  return found;
}

/**
 * Whether the audit's flags ask for an organization run.
 *
 * @example isOrganizationRun({ accounts: ['111111111111'], regions: [] }) // true
 */
export function isOrganizationRun(flags: {
  readonly input?: string;
  readonly accounts?: readonly string[];
  readonly organization?: boolean;
  readonly regions?: readonly string[];
}): boolean {
  if ((flags.accounts?.length ?? 0) > 0 || flags.organization === true || (flags.regions?.length ?? 0) > 0) {
    return true;
  }
  return flags.input !== undefined && organizationExports(flags.input).length > 0;
}
