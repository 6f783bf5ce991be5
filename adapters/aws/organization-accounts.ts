/**
 * The accounts of an AWS Organization for a run over `all` of them: Organizations ListAccounts
 * (paginated), from the management account or a delegated administrator, at run time — so an
 * account that joins is audited the next week without a redeploy. Only ACTIVE accounts are
 * audited (suspended or closing ones have nothing to assume).
 */
import { type OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations';
import type { OrgAccount } from '../../shared/org/targets';

/** Organizations could not list the accounts (not the management account or a delegated administrator, no organization …). */
export class OrganizationAccountsError extends Error {
  override readonly name = 'OrganizationAccountsError';
}

/**
 * The organization's ACTIVE accounts, with their names, sorted by id.
 *
 * @throws OrganizationAccountsError with the Organizations error as cause.
 * @example const accounts = await listActiveAccounts(new OrganizationsClient({}));
 */
export async function listActiveAccounts(organizations: OrganizationsClient): Promise<OrgAccount[]> {
  const accounts: OrgAccount[] = [];
  try {
    for await (const page of paginateListAccounts({ client: organizations }, {})) {
      for (const account of page.Accounts ?? []) {
        // State replaces Status (retired in September 2026); either says ACTIVE.
        const state = account.State ?? account.Status;
        if (account.Id && state === 'ACTIVE') {
          accounts.push({ id: account.Id, ...(account.Name ? { name: account.Name } : {}) });
        }
      }
    }
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new OrganizationAccountsError(
      `cannot list the organization's accounts (run from the management account or a delegated administrator with organizations:ListAccounts): ${reason}`,
      { cause: error },
    );
  }
  return accounts.sort((a, b) => a.id.localeCompare(b.id));
}
