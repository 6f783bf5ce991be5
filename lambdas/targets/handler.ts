/**
 * The first step of an organization run: the (account, region) targets — the configured accounts,
 * or (ORG_ACCOUNTS=all) the organization's active accounts listed through Organizations at run
 * time, less ORG_EXCLUDE_ACCOUNTS, × ORG_REGIONS — written to the work bucket as targets.json,
 * each item the input of that target's audit run. One window end for all of them.
 */

import { randomBytes } from 'node:crypto';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { listActiveAccounts } from '../../adapters/aws/organization-accounts';
import { S3WorkStore, workKeys } from '../../adapters/aws/s3-work-store';
import { planTargets, targetRunId } from '../../shared/org/targets';
import { createLoggers, kmsKeyOf, loadConfig, parseEvent } from '../config';
import { runIdOf, windowOf } from '../discover/contract';
import { type TargetRunInput, type TargetsResult, targetsEventSchema } from './contract';

const config = loadConfig('targets');
const { logger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kmsKeyOf(config) });
// Organizations is a global service with its endpoint in us-east-1 (aws partition).
const organizations = new OrganizationsClient({ retryMode: 'adaptive' });

export const handler = async (rawEvent: unknown): Promise<TargetsResult> => {
  const event = parseEvent(targetsEventSchema, rawEvent);
  const now = new Date();
  const runId = runIdOf(event, now, () => randomBytes(3).toString('hex'));
  logger.appendKeys({ runId });
  const { end } = windowOf(event, config.lookbackDays, now);
  const { organization } = config;
  const listed = organization.accounts === 'all';
  const accounts = listed
    ? await listActiveAccounts(organizations)
    : organization.accounts.map((id) => ({ id }));
  const targets = planTargets({
    accounts,
    regions: organization.regions,
    excludeAccounts: organization.excludeAccounts,
  });
  const items: TargetRunInput[] = targets.map((target) => ({
    runId: targetRunId(runId, target),
    end,
    target,
  }));
  const targetsKey = `${workKeys.run(runId)}targets.json`;
  await store.putJson(targetsKey, items);
  const result: TargetsResult = {
    runId,
    targetsKey,
    targetCount: items.length,
    targetResultsPrefix: `${workKeys.run(runId)}target-results`,
    accountsFrom: listed ? 'organization' : 'configured',
    accounts: new Set(targets.map((t) => t.accountId)).size,
    regions: organization.regions.length,
  };
  logger.info('organization targets planned', { ...result });
  return result;
};
