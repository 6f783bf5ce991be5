/**
 * Step 1 of the weekly workflow: discovers the inventory, stores it in the work bucket and plans
 * the flow queries (one Map item each). State carries keys and the small query list only.
 * An organization run's target (the event's `target`) is discovered in its account and region
 * through the member role (MEMBER_ROLE_NAME): a role that cannot be assumed fails the step with
 * MemberRoleError, which the organization run reports as the target's gap.
 */
import { randomBytes } from 'node:crypto';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { createAwsClients } from '../../adapters/aws/clients';
import { Ec2InventorySource } from '../../adapters/aws/ec2-inventory';
import { TargetClientsCache } from '../../adapters/aws/member-role';
import { S3WorkStore, workKeys } from '../../adapters/aws/s3-work-store';
import { planFlowSources } from '../../shared/flow/source-plan';
import type { OrgTarget } from '../../shared/org/model';
import { createLoggers, InvalidEventError, loadConfig, parseEvent } from '../config';
import { type DiscoverResult, discoverEventSchema, runIdOf, windowOf } from './contract';

/** Inline query lists above this many bytes go by S3 only (state holds ≤ 256 KiB in all). */
const INLINE_QUERIES_MAX_BYTES = 128 * 1024;

const config = loadConfig('discover');
const { logger, adapterLogger } = createLoggers(config);
const ec2 = new EC2Client({ retryMode: 'adaptive' });
const store = new S3WorkStore({
  s3: new S3Client({ retryMode: 'adaptive' }),
  bucket: config.workBucket,
  ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
});
const sts = new STSClient({ retryMode: 'adaptive' });
const inventorySource = new Ec2InventorySource({
  ec2,
  rds: new RDSClient({ retryMode: 'adaptive' }),
  // The audited account is the role's (a shared VPC's owner is another account).
  sts,
  logger: adapterLogger,
});
const targets = config.memberRole
  ? new TargetClientsCache({
      factory: createAwsClients,
      sts,
      role: { ...config.memberRole, sessionName: 'sg-audit-discover' },
    })
  : undefined;

/**
 * The inventory source of an organization run's target: its clients, with the member role's
 * credentials — assumed first, so a role that cannot be assumed fails the step with
 * MemberRoleError itself rather than inside the first discovery call.
 */
async function targetInventorySource(target: OrgTarget): Promise<Ec2InventorySource> {
  if (targets === undefined) {
    throw new InvalidEventError('a target run needs the member role (MEMBER_ROLE_NAME is not set)', [
      'target',
    ]);
  }
  const clients = targets.of(target);
  await clients.sts.config.credentials();
  return new Ec2InventorySource({
    ec2: clients.ec2,
    rds: clients.rds,
    sts: clients.sts,
    logger: adapterLogger,
  });
}

export const handler = async (rawEvent: unknown): Promise<DiscoverResult> => {
  const event = parseEvent(discoverEventSchema, rawEvent);
  const now = new Date();
  const runId = runIdOf(event, now, () => randomBytes(3).toString('hex'));
  logger.appendKeys({
    runId,
    ...(event.target ? { target: `${event.target.accountId}/${event.target.region}` } : {}),
  });
  const window = windowOf(event, config.lookbackDays, now);
  const vpcIds = event.vpcIds ?? config.vpcIds;

  const source = event.target ? await targetInventorySource(event.target) : inventorySource;
  const discovered = await source.load({ vpcIds });
  const { inventory } = discovered;
  // What the query role may read: flow logs outside it are left unread, with the reason.
  const plan = planFlowSources(inventory.flowLogs, {
    s3: config.athena ? 'athena' : 'none',
    athenaSetting: 'ATHENA_DATABASE',
    scope: {
      ...(config.flowLogGroupPrefix ? { logGroupPrefix: config.flowLogGroupPrefix } : {}),
      ...(config.flowLogLocations ? { s3Locations: config.flowLogLocations } : {}),
      ...(inventory.accountId ? { accountId: inventory.accountId } : {}),
      ...(inventory.region ? { region: inventory.region } : {}),
    },
  });
  const warnings = [...discovered.warnings, ...plan.warnings];
  const inventoryKey = await store.putInventory({
    runId,
    window,
    scope: { vpcIds },
    inventory,
    warnings,
    apiCalls: discovered.apiCalls,
    names: [...(discovered.names ?? new Map<string, string>())],
    plan: { sources: plan.sources, unqueried: plan.unqueried },
  });
  const queriesKey = workKeys.queries(runId);
  await store.putJson(queriesKey, plan.items);
  const queriesInline = Buffer.byteLength(JSON.stringify(plan.items)) <= INLINE_QUERIES_MAX_BYTES;
  const result: DiscoverResult = {
    runId,
    inventoryKey,
    queriesKey,
    window,
    queries: queriesInline ? plan.items : [],
    queriesInline,
    queryCount: plan.items.length,
    eniCount: inventory.networkInterfaces.length,
    securityGroupCount: inventory.securityGroups.length,
    unqueriedFlowLogs: plan.unqueried.length,
    warningCount: warnings.length,
    ...(event.target ? { target: event.target } : {}),
  };
  logger.info('inventory discovered', { ...result, queries: undefined, warnings });
  return result;
};
