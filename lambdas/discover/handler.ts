/**
 * Step 1 of the weekly workflow: discovers the inventory, stores it in the work bucket and plans
 * the flow queries (one Map item each). State carries keys and the small query list only.
 * An organization run's target (the event's `target`) is discovered in its account and region
 * through the member role (MEMBER_ROLE_NAME): a role that cannot be assumed fails the step with
 * MemberRoleError, which the organization run reports as the target's gap.
 *
 * Beside the inventory (CHANGE_HISTORY, on by default) it reads the security-group change history
 * of CloudTrail's 90-day event history — the target's, through the same member role — and stores
 * it under the run for analyze to attribute each rule to who opened it. LookupEvents is read while
 * the inventory is discovered, up to the function's remaining time less what storing needs: a
 * denied, failing or cut-short read never fails the step; the stored history then says it is
 * incomplete and why, and the report's rules are 'unknown' rather than older than the history.
 */
import { randomBytes } from 'node:crypto';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients';
import { CloudTrailLookupSource, eventHistoryPeriod } from '../../adapters/aws/cloudtrail-lookup';
import { Ec2InventorySource } from '../../adapters/aws/ec2-inventory';
import { TargetClientsCache } from '../../adapters/aws/member-role';
import { S3WorkStore, workKeys } from '../../adapters/aws/s3-work-store';
import { planFlowSources } from '../../shared/flow/source-plan';
import type { OrgTarget } from '../../shared/org/model';
import { createLoggers, InvalidEventError, kmsKeyOf, loadConfig, parseEvent } from '../config';
import { type DiscoverResult, discoverEventSchema, runIdOf, windowOf } from './contract';

/** Inline query lists above this many bytes go by S3 only (state holds ≤ 256 KiB in all). */
const INLINE_QUERIES_MAX_BYTES = 128 * 1024;
/** The function's time kept for storing the inventory and the change history after LookupEvents. */
const STORE_RESERVE_MS = 60_000;

const config = loadConfig('discover');
const { logger, adapterLogger } = createLoggers(config);
const ec2 = new EC2Client({ retryMode: 'adaptive' });
const s3 = new S3Client({ retryMode: 'adaptive' });
const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kmsKeyOf(config) });
const sts = new STSClient({ retryMode: 'adaptive' });
const cloudtrail = config.changeHistory ? new CloudTrailClient({ retryMode: 'adaptive' }) : undefined;
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
 * The clients of an organization run's target, with the member role's credentials — assumed
 * first, so a role that cannot be assumed fails the step with MemberRoleError itself rather than
 * inside the first discovery call.
 */
async function targetClientsOf(target: OrgTarget): Promise<AwsClients> {
  if (targets === undefined) {
    throw new InvalidEventError('a target run needs the member role (MEMBER_ROLE_NAME is not set)', [
      'target',
    ]);
  }
  const clients = targets.of(target);
  await clients.sts.config.credentials();
  return clients;
}

/**
 * The account's security-group changes over CloudTrail's event history, read up to `deadline`
 * (epoch ms); never throws — a failed or cut-short read is an incomplete history saying why.
 */
function readChangeHistory(trail: CloudTrailClient, now: Date, deadline: number | undefined) {
  return new CloudTrailLookupSource({
    cloudtrail: trail,
    progress: (message) => logger.info(message),
    ...(deadline !== undefined ? { deadline } : {}),
  }).read(eventHistoryPeriod(now));
}

export const handler = async (
  rawEvent: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<DiscoverResult> => {
  const event = parseEvent(discoverEventSchema, rawEvent);
  const now = new Date();
  const deadline = context
    ? now.getTime() + context.getRemainingTimeInMillis() - STORE_RESERVE_MS
    : undefined;
  const runId = runIdOf(event, now, () => randomBytes(3).toString('hex'));
  logger.appendKeys({
    runId,
    ...(event.target ? { target: `${event.target.accountId}/${event.target.region}` } : {}),
  });
  const window = windowOf(event, config.lookbackDays, now);
  const vpcIds = event.vpcIds ?? config.vpcIds;

  const member = event.target ? await targetClientsOf(event.target) : undefined;
  const source = member
    ? new Ec2InventorySource({ ec2: member.ec2, rds: member.rds, sts: member.sts, logger: adapterLogger })
    : inventorySource;
  // The target's own event history, through the member role (its ChangeHistory statement).
  const trail = config.changeHistory ? (member ? member.cloudtrail : cloudtrail) : undefined;
  const [discovered, changeHistory] = await Promise.all([
    source.load({ vpcIds }),
    trail ? readChangeHistory(trail, now, deadline) : undefined,
  ]);
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
  // Its warnings reach the report through attribution (analyze), as the live CLI's do.
  const changeHistoryKey = changeHistory ? await store.putChangeHistory(runId, changeHistory) : undefined;
  if (changeHistory && !changeHistory.complete)
    logger.warn('change history incomplete', { warnings: changeHistory.warnings });
  const inventoryKey = await store.putInventory({
    runId,
    window,
    scope: { vpcIds },
    inventory,
    warnings,
    apiCalls: discovered.apiCalls,
    names: [...(discovered.names ?? new Map<string, string>())],
    plan: { sources: plan.sources, unqueried: plan.unqueried },
    ...(changeHistoryKey ? { changeHistoryKey } : {}),
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
