/**
 * `sg-audit doctor`: before the first deploy, or when a run looks wrong, checks with the user's
 * credentials what the audit will depend on, and says whether it would be blind:
 *  - every flow log of the scope (per VPC): destination, format, traffic type, and flags for those
 *    that prove nothing (REJECT-only), that nothing reads back (Firehose), that lack the fields the
 *    audit needs, and the Transit Gateway flow logs (no ENI evidence);
 *  - delivery in the last 24 h: an S3 flow log's own objects of today and yesterday (dated by the
 *    delivery stamp in their names); a log group's CloudWatch `IncomingLogEvents` over the 24 h
 *    (adapters/aws/log-group-metrics.ts, the reader the Insights source holds its scans against);
 *  - a one-hour trial of the very queries the audit runs (the flow-source plan of the live audit,
 *    through InsightsFlowSource / AthenaFlowSource `aggregate()`), with their row counts;
 *  - the quotas that bound the audit's concurrency, as AWS documents their defaults (stated so:
 *    they are not read from Service Quotas);
 *  - whether CloudTrail's event history is readable (one LookupEvents call): denied, the audit
 *    still runs but cannot say who opened a rule — a warning, not blindness.
 * The audit would be blind — `ready` false, the CLI exits {@link EXIT_NOT_READY} — when a flow log
 * is silent for 24 h, a trial query fails, a flow log's format lacks the fields the audit needs, a
 * VPC has no flow log the audit can read, or the given roles lack a permission without which it
 * would see no inventory or no flow evidence.
 */
import { AthenaFlowSource, type AthenaSettings } from '../adapters/aws/athena/flow-source';
import type { AwsClients } from '../adapters/aws/clients';
import { INVENTORY_ACTIONS } from '../adapters/aws/ec2-inventory';
import { InsightsFlowSource } from '../adapters/aws/insights-flow-source';
import { LOG_GROUP_METRICS_ACTIONS } from '../adapters/aws/log-group-metrics';
import {
  eventHistoryAccess,
  type QuotaRead,
  type QuotaWanted,
  s3Delivery,
  type TransitGatewayFlowLog,
  transitGatewayFlowLogs,
} from '../adapters/aws/readiness';
import type { PermissionCheck, WantedPermission } from '../adapters/aws/role-simulation';
import { mapBounded } from '../shared/concurrency';
import { flowLogTableSpec, s3LocationOf } from '../shared/flow/athena-ddl';
import { DEFAULT_FIELDS, formatVersion, requiredFieldsMissing } from '../shared/flow/format';
import {
  type FlowSourceItem,
  type FlowSourcePlan,
  logGroupOf,
  planFlowSources,
} from '../shared/flow/source-plan';
import type { FlowAggregateSource, TimeWindow } from '../shared/model/flow';
import type { FlowLogConfig, Inventory } from '../shared/model/inventory';
import { discoverAccount } from './live';

/** `sg-audit doctor`'s exit code when the audit would be blind (documented in the README). */
export { EXIT_NOT_READY } from './exit-codes';

/** The result's JSON shape version (`--json`). */
export const DOCTOR_SCHEMA_VERSION = 1;

const DAY_SECONDS = 86_400;
/** The trial queries' window. */
const TRIAL_SECONDS = 3_600;
/** S3 flow logs whose day folders are listed at once. */
const S3_LISTINGS_AT_ONCE = 4;
/** A flow log younger than this may not have delivered yet (S3 publishes every 5-10 minutes). */
const TOO_NEW_SECONDS = 30 * 60;

/**
 * IncomingLogEvents of each log group summed over the window (CloudWatch `AWS/Logs`, GetMetricData);
 * a group without datapoints counts 0.
 */
export type LogGroupIncomingEvents = (
  logGroups: readonly string[],
  window: TimeWindow,
) => Promise<ReadonlyMap<string, number>>;

export interface DoctorDependencies {
  readonly clients: AwsClients;
  /** Reads the log groups' delivery counters. @default none: CloudWatch Logs delivery is not checked */
  readonly logGroupIncomingEvents?: LogGroupIncomingEvents;
  /** Reads a quota from Service Quotas. @default none: the documented defaults are stated */
  readonly serviceQuota?: (wanted: QuotaWanted) => Promise<QuotaRead | undefined>;
  /**
   * Simulates the given roles' permissions (adapters/aws/role-simulation.ts). @default none: with
   * `roleArns`, the permissions are 'not-verified'
   */
  readonly rolePermissions?: (
    roleArns: readonly string[],
    wanted: readonly WantedPermission[],
  ) => Promise<PermissionCheck[]>;
}

export interface DoctorOptions {
  /** VPCs checked; empty = every VPC of the region. */
  readonly vpcIds: readonly string[];
  /** Where S3 flow logs are queried, as the live audit's `--athena-*` flags; downloaded without. */
  readonly athena?: AthenaSettings;
  readonly now: Date;
  /** The newest records are still being delivered: the trial window ends this far behind now. */
  readonly incompleteTailSeconds: number;
  readonly progress: (message: string) => void;
  /** Insights/Athena poll interval (tests shorten it). @default the sources' */
  readonly pollIntervalMs?: number;
  /** Roles whose permissions are checked (`--role-arn`): the deployed functions' or a member role. */
  readonly roleArns?: readonly string[];
}

export type DeliveryStatus = 'delivered' | 'silent' | 'too-new' | 'not-checked' | 'not-applicable' | 'failed';

export interface FlowLogCheck {
  readonly flowLogId: string;
  readonly resourceId: string;
  readonly scope: string;
  /** The VPC the flow log records (its own, or its subnet's or ENI's), when known. */
  readonly vpcId?: string;
  readonly trafficType: string;
  readonly destinationType: string;
  /** Log group name, `s3://…` or the Firehose ARN. */
  readonly destination: string;
  readonly format: { readonly custom: boolean; readonly version: number; readonly fields: number };
  /** How the audit reads it: 'insights', 'athena', 'download', or 'none'. */
  readonly readBy: string;
  readonly delivery: {
    readonly status: DeliveryStatus;
    readonly objects?: number;
    readonly bytes?: number;
    /** ISO 8601, S3: the newest object's delivery stamp. */
    readonly newestDelivery?: string;
    readonly incomingLogEvents?: number;
    readonly detail?: string;
  };
  /** What makes it weak evidence or none ('reject-only', 'firehose', 'missing-fields', 'delivery-failing'). */
  readonly flags: readonly string[];
}

export interface TrialCheck {
  readonly sourceId: string;
  readonly engine: 'insights' | 'athena';
  readonly flowLogIds: readonly string[];
  /** Log groups (Insights) or the table (Athena). */
  readonly reads: readonly string[];
  readonly status: 'ok' | 'failed';
  /** Aggregate rows returned for the trial hour. */
  readonly rows?: number;
  readonly records?: number;
  readonly bytesScanned?: number;
  readonly error?: string;
}

export interface QuotaCheck {
  readonly name: string;
  /** Undefined when the default varies and is not known here. */
  readonly value?: number;
  readonly source: string;
  readonly note: string;
}

/** Whether the audit can say who opened each rule: CloudTrail's event history, read with LookupEvents. */
export interface ChangeHistoryCheck {
  /**
   * 'readable': LookupEvents answered; 'denied': the caller lacks cloudtrail:LookupEvents;
   * 'not-verified': another error (named in `detail`), or no CloudTrail client.
   */
  readonly status: 'readable' | 'denied' | 'not-verified';
  readonly detail: string;
}

/** The given roles' permissions for what the audit needs here (`--role-arn`). */
export interface RolePermissionsCheck {
  readonly roles: readonly string[];
  /** 'checked': IAM's simulator answered; 'not-verified': it could not run (`detail` says why). */
  readonly status: 'checked' | 'not-verified';
  readonly detail?: string;
  readonly checks: readonly PermissionCheck[];
}

export interface DoctorResult {
  readonly schemaVersion: number;
  readonly checkedAt: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly ready: boolean;
  readonly vpcs: readonly { readonly vpcId: string; readonly flowLogIds: readonly string[] }[];
  readonly flowLogs: readonly FlowLogCheck[];
  readonly transitGatewayFlowLogs: readonly TransitGatewayFlowLog[];
  readonly trialWindow: { readonly start: string; readonly end: string };
  readonly trials: readonly TrialCheck[];
  readonly quotas: readonly QuotaCheck[];
  readonly changeHistory: ChangeHistoryCheck;
  /** Present with `--role-arn`. */
  readonly permissions?: RolePermissionsCheck;
  /** What would make the audit blind (non-empty: not ready). */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const message = (error: unknown): string =>
  error instanceof Error
    ? `${error.name !== 'Error' ? `${error.name}: ` : ''}${error.message}`
    : String(error);

/**
 * Runs every check of the account's readiness.
 *
 * @example const result = await runDoctor({ clients }, { vpcIds: [], now: new Date(), incompleteTailSeconds: 900, progress, warn });
 */
export async function runDoctor(deps: DoctorDependencies, options: DoctorOptions): Promise<DoctorResult> {
  const { clients } = deps;
  const now = Math.floor(options.now.getTime() / 1000);
  const problems: string[] = [];
  const warnings: string[] = [];
  const { inventory, accountId, region } = await discoverAccount(
    clients,
    options.vpcIds,
    options.progress,
    (warning) => warnings.push(warning),
  );
  const plan = planFlowSources(inventory.flowLogs, { s3: options.athena ? 'athena' : 'download' });
  warnings.push(...plan.warnings);
  const readBy = readersOf(plan);

  options.progress(`checking the delivery of ${inventory.flowLogs.length} flow logs over the last 24 h`);
  const deliveries = await deliveriesOf(deps, inventory.flowLogs, { now, accountId, region });
  const flowLogs = inventory.flowLogs.map((flowLog) =>
    flowLogCheck(flowLog, inventory, readBy.get(flowLog.id) ?? 'none', deliveries.get(flowLog.id)),
  );
  for (const check of flowLogs) judgeFlowLog(check, problems, warnings);

  const vpcs = inventory.vpcs.map((vpc) => ({
    vpcId: vpc.id,
    flowLogIds: flowLogs.filter((f) => f.vpcId === vpc.id).map((f) => f.flowLogId),
  }));
  for (const vpc of vpcs) {
    const usable = flowLogs.filter(
      (f) => f.vpcId === vpc.vpcId && f.readBy !== 'none' && f.trafficType !== 'REJECT',
    );
    if (usable.length === 0) {
      problems.push(
        `VPC ${vpc.vpcId} has no flow log the audit can read (ACCEPT or ALL, to CloudWatch Logs or S3): every rule of its security groups would be 'unknown'`,
      );
    }
  }

  let transitGateway: TransitGatewayFlowLog[] = [];
  try {
    transitGateway = await transitGatewayFlowLogs(clients.ec2);
  } catch (error) {
    warnings.push(`Transit Gateway flow logs not listed: ${message(error)}`);
  }
  for (const tgw of transitGateway) {
    warnings.push(
      `flow log ${tgw.id} records Transit Gateway ${tgw.resourceId}: no ENI evidence, the audit skips it`,
    );
  }

  options.progress('checking that CloudTrail event history is readable (LookupEvents)');
  const changeHistory = await changeHistoryCheck(clients);
  if (changeHistory.status !== 'readable') warnings.push(changeHistory.detail);

  let permissions: RolePermissionsCheck | undefined;
  if (options.roleArns && options.roleArns.length > 0) {
    options.progress(`checking the permissions of ${options.roleArns.join(', ')} (IAM policy simulator)`);
    const wanted = wantedPermissions(inventory.flowLogs, plan, {
      accountId,
      region,
      ...(options.athena ? { athena: options.athena } : {}),
    });
    permissions = await permissionsCheck(deps, options.roleArns, wanted);
    judgePermissions(permissions, problems, warnings);
  }

  const trialEnd = now - options.incompleteTailSeconds;
  const trialWindow = { start: trialEnd - TRIAL_SECONDS, end: trialEnd };
  options.progress(`trial queries over ${iso(trialWindow.start)} .. ${iso(trialWindow.end)}`);
  const trials = await trialsOf(deps, plan, {
    ...options,
    window: trialWindow,
    flowLogs: inventory.flowLogs,
    ...(accountId ? { accountId } : {}),
    ...(region ? { region } : {}),
  });
  for (const trial of trials) {
    if (trial.status === 'failed') {
      problems.push(
        `trial query ${trial.sourceId} (${trial.engine}: ${trial.reads.join(', ')}) failed: ${trial.error}`,
      );
    }
  }

  return {
    schemaVersion: DOCTOR_SCHEMA_VERSION,
    checkedAt: iso(now),
    ...(accountId ? { accountId } : {}),
    ...(region ? { region } : {}),
    ready: problems.length === 0,
    vpcs,
    flowLogs,
    transitGatewayFlowLogs: transitGateway,
    trialWindow: { start: iso(trialWindow.start), end: iso(trialWindow.end) },
    trials,
    quotas: deps.serviceQuota ? await quotasOf(deps.serviceQuota, region) : documentedQuotas(region),
    changeHistory,
    ...(permissions ? { permissions } : {}),
    problems,
    warnings,
  };
}

/** The partition of a region's ARNs. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * What the audit needs of this account and region, as the deployed functions' grants give it
 * (lib/audited-account.ts, lib/flow-log-athena-table.ts): the inventory's reads, Logs Insights on
 * the flow-log groups found, their delivery counters, the S3 flow logs' objects, Athena on the
 * workgroup when given, and CloudTrail's event history.
 */
export function wantedPermissions(
  flowLogs: readonly FlowLogConfig[],
  plan: FlowSourcePlan,
  context: { accountId?: string | undefined; region?: string | undefined; athena?: AthenaSettings },
): WantedPermission[] {
  const region = context.region ?? '*';
  const account = context.accountId ?? '*';
  const partition = partitionOf(region);
  const wanted: WantedPermission[] = INVENTORY_ACTIONS.map((action) =>
    action.startsWith('ec2:')
      ? { action, need: 'the network inventory (security groups, ENIs, flow logs, NACLs)', blind: true }
      : { action, need: 'naming the ENIs of DB instances (they stay described by their ENI)', blind: false },
  );
  const groups = [
    ...new Set(
      plan.sources
        .filter((source) => source.kind === 'insights')
        .flatMap((source) => flowLogs.filter((f) => source.flowLogIds.includes(f.id)).map(logGroupOf))
        .filter((g): g is string => g !== undefined),
    ),
  ].sort();
  if (groups.length > 0) {
    const groupArns = groups.map((g) => `arn:${partition}:logs:${region}:${account}:log-group:${g}`);
    const insights = 'Logs Insights queries of the flow logs (no flow evidence without them)';
    wanted.push(
      { action: 'logs:StartQuery', resources: groupArns, need: insights, blind: true },
      { action: 'logs:GetQueryResults', need: insights, blind: true },
      { action: 'logs:StopQuery', need: 'stopping a query past its budget (it keeps billing)', blind: false },
      ...LOG_GROUP_METRICS_ACTIONS.map((action) => ({
        action,
        need: "the log groups' IncomingLogEvents, which the scans are held against (delivery stays unproven)",
        blind: false,
      })),
    );
  }
  const s3Logs = flowLogs.filter((f) => f.destinationType === 's3' && f.destination !== undefined);
  if (s3Logs.length > 0 && context.accountId !== undefined && context.region !== undefined) {
    const folders = s3Logs.flatMap((f) => {
      try {
        return [
          s3LocationOf(f, context.accountId as string, context.region as string).replace(/^s3:\/\//, ''),
        ];
      } catch {
        return [];
      }
    });
    const buckets = [...new Set(folders.map((folder) => folder.split('/')[0] ?? ''))].filter((b) => b !== '');
    const reading = 'reading the S3 flow logs (no flow evidence from them without it)';
    wanted.push(
      {
        action: 's3:ListBucket',
        resources: buckets.map((b) => `arn:${partition}:s3:::${b}`),
        need: reading,
        blind: true,
      },
      {
        action: 's3:GetObject',
        resources: [...new Set(folders)].map((folder) => `arn:${partition}:s3:::${folder}*`),
        need: reading,
        blind: true,
      },
    );
  }
  if (context.athena) {
    const workgroup = [
      `arn:${partition}:athena:${region}:${account}:workgroup/${context.athena.workGroup ?? 'primary'}`,
    ];
    for (const action of [
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
    ]) {
      wanted.push({ action, resources: workgroup, need: 'Athena queries of the S3 flow logs', blind: true });
    }
  }
  wanted.push({
    action: 'cloudtrail:LookupEvents',
    need: 'who opened each rule (every change would be unknown)',
    blind: false,
  });
  return wanted;
}

async function permissionsCheck(
  deps: DoctorDependencies,
  roleArns: readonly string[],
  wanted: readonly WantedPermission[],
): Promise<RolePermissionsCheck> {
  const roles = [...roleArns];
  if (deps.rolePermissions === undefined) {
    return { roles, status: 'not-verified', detail: 'no IAM client to simulate with', checks: [] };
  }
  try {
    return { roles, status: 'checked', checks: await deps.rolePermissions(roles, wanted) };
  } catch (error) {
    return {
      roles,
      status: 'not-verified',
      detail: `IAM's policy simulator could not run (${message(error).split('\n')[0]}): the roles' permissions are not verified (the caller needs iam:SimulatePrincipalPolicy)`,
      checks: [],
    };
  }
}

/** A refused permission the audit cannot see without is a problem; the others are warnings. */
function judgePermissions(check: RolePermissionsCheck, problems: string[], warnings: string[]): void {
  if (check.status === 'not-verified') {
    warnings.push(check.detail ?? "the roles' permissions are not verified");
    return;
  }
  for (const c of check.checks) {
    if (c.decision === 'allowed') continue;
    const on = c.deniedResource ? ` on ${c.deniedResource}` : '';
    const text = `no given role may ${c.action}${on} (${c.decision}): ${c.need}`;
    (c.blind ? problems : warnings).push(text);
  }
}

/**
 * One LookupEvents call: readable, denied (naming the permission and what is lost), or not
 * verified (the error named). Attribution is lost, not the audit's sight: never a problem.
 */
async function changeHistoryCheck(clients: AwsClients): Promise<ChangeHistoryCheck> {
  if (clients.cloudtrail === undefined) {
    return {
      status: 'not-verified',
      detail: "could not verify that CloudTrail's event history is readable: no CloudTrail client",
    };
  }
  const access = await eventHistoryAccess(clients.cloudtrail);
  switch (access.status) {
    case 'readable':
      return { status: 'readable', detail: 'LookupEvents answered: the audit can say who opened each rule' };
    case 'denied':
      return {
        status: 'denied',
        detail: `cloudtrail:LookupEvents is denied (${access.error}): the audit would not say who opened each rule (every rule's change 'unknown'); grant cloudtrail:LookupEvents (read-only) to attribute them`,
      };
    default:
      return {
        status: 'not-verified',
        detail: `could not verify that CloudTrail's event history is readable (LookupEvents: ${access.error}): who opened each rule may be unknown in the audit`,
      };
  }
}

/** Flow log id → how the plan reads it ('insights', 'athena', 'download'). */
function readersOf(plan: FlowSourcePlan): Map<string, string> {
  const readers = new Map<string, string>();
  for (const flowLog of plan.downloads) readers.set(flowLog.id, 'download');
  for (const source of plan.sources) {
    for (const id of source.flowLogIds) readers.set(id, source.kind);
  }
  return readers;
}

type Delivery = FlowLogCheck['delivery'];

async function deliveriesOf(
  deps: DoctorDependencies,
  flowLogs: readonly FlowLogConfig[],
  context: { now: number; accountId?: string | undefined; region?: string | undefined },
): Promise<Map<string, Delivery>> {
  const { now, accountId, region } = context;
  const deliveries = new Map<string, Delivery>();
  const window = { start: now - DAY_SECONDS, end: now };
  const groups = [
    ...new Set(
      flowLogs.flatMap((f) => (f.destinationType === 'cloud-watch-logs' ? [logGroupOf(f) ?? ''] : [])),
    ),
  ].filter((g) => g !== '');
  let incoming: ReadonlyMap<string, number> | undefined;
  let incomingError: string | undefined;
  if (deps.logGroupIncomingEvents && groups.length > 0) {
    try {
      incoming = await deps.logGroupIncomingEvents(groups, window);
    } catch (error) {
      incomingError = message(error);
    }
  }
  const s3Logs = flowLogs.filter((f) => f.destinationType === 's3');
  await mapBounded(s3Logs, S3_LISTINGS_AT_ONCE, async (flowLog) => {
    if (accountId === undefined || region === undefined) {
      deliveries.set(flowLog.id, { status: 'not-checked', detail: 'the account id or region is unknown' });
      return;
    }
    try {
      const found = await s3Delivery(deps.clients.s3, flowLog, accountId, region, now);
      const recent =
        found.newestDelivery === undefined ? found.objects > 0 : found.newestDelivery >= window.start;
      deliveries.set(flowLog.id, {
        status: recent ? 'delivered' : silence(flowLog, now),
        objects: found.objects,
        bytes: found.bytes,
        ...(found.newestDelivery !== undefined ? { newestDelivery: iso(found.newestDelivery) } : {}),
      });
    } catch (error) {
      deliveries.set(flowLog.id, { status: 'failed', detail: `S3 listing failed: ${message(error)}` });
    }
  });
  for (const flowLog of flowLogs) {
    if (flowLog.destinationType === 's3') continue;
    if (flowLog.destinationType === 'cloud-watch-logs') {
      const group = logGroupOf(flowLog);
      if (incomingError !== undefined) {
        deliveries.set(flowLog.id, {
          status: 'failed',
          detail: `IncomingLogEvents not read: ${incomingError}`,
        });
      } else if (incoming === undefined || group === undefined) {
        deliveries.set(flowLog.id, {
          status: 'not-checked',
          detail: 'IncomingLogEvents (CloudWatch metrics) is not read by this build',
        });
      } else {
        const events = incoming.get(group) ?? 0;
        deliveries.set(flowLog.id, {
          status: events > 0 ? 'delivered' : silence(flowLog, now),
          incomingLogEvents: events,
        });
      }
    } else {
      deliveries.set(flowLog.id, {
        status: 'not-applicable',
        detail: 'no flow source reads this destination',
      });
    }
  }
  return deliveries;
}

/** Nothing delivered: silent, unless the flow log is too new to have delivered yet. */
function silence(flowLog: FlowLogConfig, now: number): DeliveryStatus {
  const created = flowLog.creationTime ? Date.parse(flowLog.creationTime) / 1000 : Number.NaN;
  return Number.isFinite(created) && now - created < TOO_NEW_SECONDS ? 'too-new' : 'silent';
}

function flowLogCheck(
  flowLog: FlowLogConfig,
  inventory: Inventory,
  readBy: string,
  delivery: Delivery | undefined,
): FlowLogCheck {
  const group = flowLog.destinationType === 'cloud-watch-logs' ? logGroupOf(flowLog) : undefined;
  const flags: string[] = [];
  if (flowLog.trafficType === 'REJECT') flags.push('reject-only');
  if (flowLog.destinationType === 'kinesis-data-firehose') flags.push('firehose');
  if (requiredFieldsMissing(flowLog.fields).length > 0) flags.push('missing-fields');
  if (flowLog.deliverStatus !== undefined && flowLog.deliverStatus !== 'SUCCESS')
    flags.push('delivery-failing');
  return {
    flowLogId: flowLog.id,
    resourceId: flowLog.resourceId,
    scope: flowLog.scope,
    ...vpcOf(flowLog, inventory),
    trafficType: flowLog.trafficType,
    destinationType: flowLog.destinationType,
    destination: group ?? s3Url(flowLog.destination) ?? flowLog.destination ?? '',
    format: {
      custom: flowLog.fields.join(' ') !== DEFAULT_FIELDS.join(' '),
      version: formatVersion(flowLog.fields),
      fields: flowLog.fields.length,
    },
    readBy,
    delivery: delivery ?? { status: 'not-checked' },
    flags,
  };
}

/** `arn:aws:s3:::bucket/prefix` → `s3://bucket/prefix`. */
function s3Url(arn: string | undefined): string | undefined {
  const match = /^arn:aws[a-z-]*:s3:::(.+)$/.exec(arn ?? '');
  return match?.[1] ? `s3://${match[1]}` : undefined;
}

/** The VPC a flow log records: its own, or that of its subnet's or ENI's network interfaces. */
function vpcOf(flowLog: FlowLogConfig, inventory: Inventory): { vpcId?: string } {
  if (flowLog.scope === 'vpc') return { vpcId: flowLog.resourceId };
  const eni = inventory.networkInterfaces.find((e) =>
    flowLog.scope === 'subnet' ? e.subnetId === flowLog.resourceId : e.id === flowLog.resourceId,
  );
  return eni ? { vpcId: eni.vpcId } : {};
}

function judgeFlowLog(check: FlowLogCheck, problems: string[], warnings: string[]): void {
  const id = `flow log ${check.flowLogId} (${check.resourceId})`;
  if (check.flags.includes('reject-only')) {
    warnings.push(
      `${id} records REJECT traffic only: it proves no rule is used, its ENIs' rules stay 'unknown'`,
    );
  }
  if (check.flags.includes('firehose')) {
    warnings.push(`${id} delivers to Kinesis Data Firehose, which the audit cannot read back`);
  }
  if (check.flags.includes('missing-fields')) {
    problems.push(`${id}: its format lacks fields the audit needs, so its records cannot be folded`);
  }
  if (check.flags.includes('delivery-failing')) {
    warnings.push(`${id}: AWS reports its delivery as failing (DeliverLogsStatus)`);
  }
  const { delivery } = check;
  if (delivery.status === 'silent') {
    problems.push(
      `${id} delivered nothing in the last 24 h (${check.destination}): its ENIs would have no evidence`,
    );
  } else if (delivery.status === 'too-new') {
    warnings.push(`${id} was created less than 30 minutes ago and has not delivered yet`);
  } else if (delivery.status === 'failed') {
    warnings.push(`${id}: delivery not checked: ${delivery.detail ?? 'failed'}`);
  }
}

interface TrialContext extends DoctorOptions {
  readonly window: TimeWindow;
  readonly flowLogs: readonly FlowLogConfig[];
  readonly accountId?: string;
  readonly region?: string;
}

/** The flow source the audit would run for a plan item. */
function trialSource(
  deps: DoctorDependencies,
  item: FlowSourceItem,
  context: TrialContext,
): FlowAggregateSource {
  const poll = context.pollIntervalMs !== undefined ? { pollIntervalMs: context.pollIntervalMs } : {};
  if (item.kind === 'insights') {
    return new InsightsFlowSource({
      logs: deps.clients.logs,
      logGroups: item.logGroups.map((name) => ({ name, fields: item.fields })),
      ...poll,
    });
  }
  const flowLog = context.flowLogs.find((f) => f.id === item.flowLogId);
  const { athena, accountId, region } = context;
  if (!flowLog || !athena || accountId === undefined || region === undefined) {
    throw new Error('the account id or region that places its objects is unknown');
  }
  return new AthenaFlowSource({
    athena: deps.clients.athena,
    s3: deps.clients.s3,
    database: athena.database,
    ...(athena.workGroup ? { workGroup: athena.workGroup } : {}),
    ...(athena.outputLocation ? { outputLocation: athena.outputLocation } : {}),
    tables: [flowLogTableSpec(flowLog, accountId, region)],
    ensureTables: true,
    ...poll,
  });
}

/** Runs each planned source over the trial window, one at a time (the query quotas are shared). */
async function trialsOf(
  deps: DoctorDependencies,
  plan: FlowSourcePlan,
  context: TrialContext,
): Promise<TrialCheck[]> {
  const trials: TrialCheck[] = [];
  for (const item of plan.items) {
    const flowLogIds = [...(plan.sources.find((s) => s.sourceId === item.sourceId)?.flowLogIds ?? [])];
    const planned = item.kind === 'insights' ? [...item.logGroups] : [item.table];
    const trial = { sourceId: item.sourceId, engine: item.kind, flowLogIds, reads: planned };
    context.progress(`trial ${item.sourceId}: ${planned.join(', ')}`);
    try {
      const source = trialSource(deps, item, context);
      const result = await source.aggregate({ window: context.window, eniIds: [] });
      trials.push({
        ...trial,
        status: 'ok',
        rows: result.aggregates.length,
        records: result.stats.records,
        bytesScanned: result.stats.bytesScanned,
      });
    } catch (error) {
      trials.push({ ...trial, status: 'failed', error: message(error) });
    }
  }
  return trials;
}

/** Service Quotas' names of the quotas {@link documentedQuotas} lists, in its order. */
const QUOTAS_WANTED: readonly QuotaWanted[] = [
  { serviceCode: 'logs', name: /insights.*concurren|concurren.*insights/i },
  { serviceCode: 'athena', name: /active dml/i },
];

/**
 * The quotas read from Service Quotas (the account's applied value, else AWS's default); a quota
 * the call is denied (or Service Quotas does not list) keeps its documented default, saying why.
 */
async function quotasOf(
  read: NonNullable<DoctorDependencies['serviceQuota']>,
  region: string | undefined,
): Promise<QuotaCheck[]> {
  const documented = documentedQuotas(region);
  return Promise.all(
    documented.map(async (quota, i) => {
      const wanted = QUOTAS_WANTED[i] as QuotaWanted;
      try {
        const found = await read(wanted);
        if (found === undefined) {
          return {
            ...quota,
            source: `${quota.source}; Service Quotas lists no such ${wanted.serviceCode} quota`,
          };
        }
        return {
          ...quota,
          value: found.value,
          source: found.applied ? 'Service Quotas (applied to this account)' : 'Service Quotas (AWS default)',
        };
      } catch (error) {
        return { ...quota, source: `${quota.source}; Service Quotas not read: ${message(error)}` };
      }
    }),
  );
}

/**
 * The quotas that bound the audit's concurrent queries, as AWS documents their defaults (not read
 * from Service Quotas: an account may have raised them).
 */
export function documentedQuotas(region: string | undefined): QuotaCheck[] {
  const source = 'documented default (not read from Service Quotas)';
  const athenaDml = region === 'ap-northeast-2' ? 100 : undefined;
  return [
    {
      name: 'Logs Insights concurrent queries',
      value: 100,
      source,
      note: 'per account and region, shared with every other user (was 30); the deployed workflow runs maxConcurrency query functions at once',
    },
    {
      name: 'Athena active DML queries',
      ...(athenaDml !== undefined ? { value: athenaDml } : {}),
      source:
        athenaDml !== undefined
          ? source
          : 'varies by region: see Service Quotas › Amazon Athena › Active DML queries',
      note: 'running and queued queries count; over it, StartQueryExecution fails with TooManyRequestsException',
    },
  ];
}
