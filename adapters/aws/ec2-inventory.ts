/**
 * The live inventory source: VPCs, security groups (with `sgr-` rule ids), network interfaces,
 * flow logs, network ACLs and the managed prefix lists the rules reference, read from EC2 with the
 * SDK v3 paginators, filtered by VPC, and mapped through the same schemas as the offline export
 * directory (shared/inventory/aws-json.ts). It also returns those responses as the export
 * directory's documents, so `sg-audit export` writes exactly what the offline runner reads.
 *
 * Cost is O(pages): every listing is one paginated call per ≤ 200 filter values, never one call
 * per SG; prefix-list entries cost one call per referenced list. Names are enriched where cheap
 * (instance Name tags; RDS instances by subnet group and SGs); a denied enrichment call degrades
 * to the description-based classification with a warning, never fails the run.
 *
 * Throttling (RequestLimitExceeded) is the SDK client's job: runners create clients with
 * `retryMode: 'adaptive'`. What still fails surfaces as an InventoryDiscoveryError naming the
 * operation.
 */
import {
  type EC2Client,
  type NetworkAcl as Ec2NetworkAcl,
  type NetworkInterface as Ec2NetworkInterface,
  type SecurityGroup as Ec2SecurityGroup,
  type Vpc as Ec2Vpc,
  type Filter,
  type FlowLog,
  type Instance,
  type ManagedPrefixList,
  type PrefixListEntry,
  paginateDescribeFlowLogs,
  paginateDescribeInstances,
  paginateDescribeManagedPrefixLists,
  paginateDescribeNetworkAcls,
  paginateDescribeNetworkInterfaces,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
  paginateGetManagedPrefixListEntries,
  type SecurityGroupRule,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { type DBInstance, paginateDescribeDBInstances, type RDSClient } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { z } from 'zod';
import { mapBounded } from '../../shared/concurrency';
import {
  buildInventory,
  EXPORT_FILES,
  flowLogsFile,
  flowLogsFromJson,
  networkAclsFile,
  networkAclsFromJson,
  networkInterfacesFile,
  networkInterfacesFromJson,
  prefixListsFile,
  prefixListsFromJson,
  ruleEntriesOf,
  securityGroupsFile,
  securityGroupsFromJson,
  validateAwsJson,
  vpcsFile,
  vpcsFromJson,
} from '../../shared/inventory/aws-json';
import type { Inventory, NetworkInterface, SecurityGroup } from '../../shared/model/inventory';
import type { InventoryResult, InventoryScope, InventorySource } from '../../shared/model/ports';
import { type AddressResolver, isRdsInstanceEni, nameRdsEnis, type RdsInstanceFacts } from './ec2-rds-names';
import type { AdapterLogger } from './logger';

/** The logger shape adapters accept (Powertools Logger satisfies it). */
export type DiscoveryLogger = AdapterLogger;

export interface Ec2InventorySourceOptions {
  /** Created by the runner with `retryMode: 'adaptive'`. */
  readonly ec2: EC2Client;
  /** Enables naming RDS ENIs after their DB instance; without it they keep the description-based guess. */
  readonly rds?: RDSClient;
  /**
   * Names the audited account: the caller's (sts:GetCallerIdentity, which needs no permission).
   * Without it the account is taken from the VPCs' owner, which is another account when a VPC is
   * shared with this one (RAM) — the runners pass one; the owner stays the owner of resources.
   */
  readonly sts?: STSClient;
  readonly logger?: DiscoveryLogger;
  /** MaxResults per page, clamped to each operation's allowed range. @default 1000 */
  readonly pageSize?: number;
  /** Values per EC2 filter (the API accepts up to 200). @default 200 */
  readonly filterValuesLimit?: number;
  /** Pages one listing may take before it is abandoned (a bound against a looping NextToken). @default 10000 */
  readonly maxPages?: number;
  /** Attach `sgr-` ids to rule entries with DescribeSecurityGroupRules. @default true */
  readonly securityGroupRuleIds?: boolean;
  /** Concurrent GetManagedPrefixListEntries listings. @default 4 */
  readonly prefixListConcurrency?: number;
  /**
   * Resolves a DB endpoint host name to addresses; used only to tell apart DB instances that share
   * subnets and security groups. @default none (such ENIs stay unnamed)
   */
  readonly resolveAddresses?: AddressResolver;
}

/** The export directory's file names (adapters/local/export-dir.ts EXPORT_FILES). */
export type ExportFileName = (typeof EXPORT_FILES)[keyof typeof EXPORT_FILES];

/** AWS-CLI-shaped JSON documents, by export file name (`{ SecurityGroups: [...] }` …). */
export type ExportDocuments = Readonly<Record<ExportFileName, unknown>>;

export interface Ec2Discovery {
  readonly result: InventoryResult;
  readonly documents: ExportDocuments;
}

/** An EC2 (or RDS) call failed after the client's retries; names the operation ("ec2:DescribeVpcs"). */
export class InventoryDiscoveryError extends Error {
  override readonly name = 'InventoryDiscoveryError';
  readonly operation: string;
  /** The AWS error code, when the failure was an AWS error. */
  readonly code?: string;
  /** The call was still throttled when the client's retries ran out. */
  readonly throttled: boolean;

  constructor(operation: string, message: string, options: ErrorOptions & { code?: string } = {}) {
    super(`${operation}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = operation;
    if (options.code !== undefined) this.code = options.code;
    this.throttled = options.code !== undefined && THROTTLING_CODES.has(options.code);
  }
}

const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_FILTER_VALUES_LIMIT = 200;
const DEFAULT_MAX_PAGES = 10_000;
const DEFAULT_PREFIX_LIST_CONCURRENCY = 4;

/** MaxResults (MaxRecords for RDS) bounds per operation, from the API references. */
const PAGE_SIZE_BOUNDS = {
  'ec2:DescribeVpcs': [5, 1000],
  'ec2:DescribeSubnets': [5, 1000],
  'ec2:DescribeSecurityGroups': [5, 1000],
  'ec2:DescribeSecurityGroupRules': [5, 1000],
  'ec2:DescribeNetworkInterfaces': [5, 1000],
  'ec2:DescribeFlowLogs': [1, 1000],
  'ec2:DescribeNetworkAcls': [5, 100],
  'ec2:DescribeManagedPrefixLists': [1, 100],
  'ec2:GetManagedPrefixListEntries': [1, 100],
  'ec2:DescribeInstances': [5, 1000],
  'rds:DescribeDBInstances': [20, 100],
} as const satisfies Record<string, readonly [number, number]>;

type Operation = keyof typeof PAGE_SIZE_BOUNDS;

const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
]);

const PERMISSION_CODES: ReadonlySet<string> = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'AuthorizationError',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  if (typeof Code === 'string' && Code !== '') return Code;
  return typeof name === 'string' && name !== 'Error' ? name : undefined;
}

function isPermissionError(error: unknown): boolean {
  const code = error instanceof InventoryDiscoveryError ? error.code : errorCode(error);
  return code !== undefined && PERMISSION_CODES.has(code);
}

/** SDK responses as the AWS CLI prints them: Dates as ISO strings, no undefined members. */
function toCliJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toCliJson);
  if (value !== null && typeof value === 'object') {
    const json: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) json[key] = toCliJson(member);
    }
    return json;
  }
  return value;
}

function chunks<T>(values: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < values.length; start += size) result.push(values.slice(start, start + size));
  return result;
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

interface PaginationConfig<Client> {
  client: Client;
  pageSize: number;
  stopOnSameToken: boolean;
}

/** The state of one discovery: call counts and warnings are per run, so runs never share them. */
class DiscoveryRun {
  readonly apiCalls: Record<string, number> = {};
  readonly warnings: string[] = [];

  constructor(
    private readonly options: Required<
      Pick<Ec2InventorySourceOptions, 'pageSize' | 'filterValuesLimit' | 'maxPages'>
    > & { logger: DiscoveryLogger | undefined },
  ) {}

  warn(message: string, extra?: object): void {
    this.warnings.push(message);
    this.options.logger?.warn(message, extra);
  }

  /**
   * A read that only adds detail (sgr- ids, names): when the role may not make it, the `denied`
   * warning says what is missing and discovery goes on without it (undefined); any other error
   * fails discovery.
   */
  async unlessDenied<T>(read: () => Promise<T>, denied: string): Promise<T | undefined> {
    try {
      return await read();
    } catch (error) {
      if (!isPermissionError(error)) throw error;
      this.warn(denied, { error });
      return undefined;
    }
  }

  private pageSize(operation: Operation): number {
    const [min, max] = PAGE_SIZE_BOUNDS[operation];
    return Math.min(max, Math.max(min, Math.floor(this.options.pageSize)));
  }

  private count(operation: string): void {
    this.apiCalls[operation] = (this.apiCalls[operation] ?? 0) + 1;
  }

  /** One unpaginated call; a failure becomes InventoryDiscoveryError. */
  async once<Output>(operation: string, call: () => Promise<Output>): Promise<Output> {
    this.count(operation);
    try {
      return await call();
    } catch (error) {
      const code = errorCode(error);
      const message = error instanceof Error ? error.message : String(error);
      throw new InventoryDiscoveryError(operation, `${code ? `${code}: ` : ''}${message}`, {
        cause: error,
        ...(code ? { code } : {}),
      });
    }
  }

  /** Every page of one paginated listing; failures become InventoryDiscoveryError. */
  async pages<Client, Input, Page, Item>(
    operation: Operation,
    client: Client,
    paginate: (config: PaginationConfig<Client>, input: Input) => AsyncIterable<Page>,
    input: Input,
    itemsOf: (page: Page) => readonly Item[] | undefined,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let pages = 0;
    try {
      const config = { client, pageSize: this.pageSize(operation), stopOnSameToken: true };
      for await (const page of paginate(config, input)) {
        this.count(operation);
        pages += 1;
        items.push(...(itemsOf(page) ?? []));
        if (pages >= this.options.maxPages) {
          throw new InventoryDiscoveryError(operation, `more than ${this.options.maxPages} pages; giving up`);
        }
      }
    } catch (error) {
      if (error instanceof InventoryDiscoveryError) throw error;
      this.count(operation);
      const code = errorCode(error);
      const message = error instanceof Error ? error.message : String(error);
      throw new InventoryDiscoveryError(operation, `${code ? `${code}: ` : ''}${message}`, {
        cause: error,
        ...(code ? { code } : {}),
      });
    }
    return items;
  }

  /**
   * A listing filtered by `filterName` in chunks of the filter-value limit; no filter when
   * `values` is undefined (the whole region), nothing when it is empty.
   */
  async filtered<Client, Input extends { Filters?: Filter[] }, Page, Item>(
    operation: Operation,
    client: Client,
    paginate: (config: PaginationConfig<Client>, input: Input) => AsyncIterable<Page>,
    itemsOf: (page: Page) => readonly Item[] | undefined,
    filterName: string,
    values: readonly string[] | undefined,
    base: Omit<Input, 'Filters'> = {} as Omit<Input, 'Filters'>,
  ): Promise<Item[]> {
    if (values === undefined) return this.pages(operation, client, paginate, { ...base } as Input, itemsOf);
    const items: Item[] = [];
    for (const chunk of chunks(unique(values), this.options.filterValuesLimit)) {
      const input = { ...base, Filters: [{ Name: filterName, Values: chunk }] } as Input;
      items.push(...(await this.pages(operation, client, paginate, input, itemsOf)));
    }
    return items;
  }
}

/** The raw listings of one discovery, before mapping. */
interface RawInventory {
  readonly vpcs: Ec2Vpc[];
  readonly securityGroups: Ec2SecurityGroup[];
  readonly networkInterfaces: Ec2NetworkInterface[];
  readonly flowLogs: FlowLog[];
  readonly networkAcls: Ec2NetworkAcl[];
  readonly prefixLists: (ManagedPrefixList & { Entries: PrefixListEntry[] })[];
  readonly rules: SecurityGroupRule[] | undefined;
  /** The VPC ids every listing was filtered by; undefined for the whole region. */
  readonly vpcFilter: string[] | undefined;
}

/**
 * Discovers the inventory of one region from EC2 (and RDS for names).
 *
 * @example
 * const source = new Ec2InventorySource({ ec2: new EC2Client({ retryMode: 'adaptive' }) });
 * const { inventory, warnings, apiCalls } = await source.load({ vpcIds: ['vpc-0a1b'] });
 */
export class Ec2InventorySource implements InventorySource {
  private readonly ec2: EC2Client;
  private readonly rds: RDSClient | undefined;
  private readonly sts: STSClient | undefined;
  private readonly logger: DiscoveryLogger | undefined;
  private readonly pageSize: number;
  private readonly filterValuesLimit: number;
  private readonly maxPages: number;
  private readonly securityGroupRuleIds: boolean;
  private readonly prefixListConcurrency: number;
  private readonly resolveAddresses: AddressResolver | undefined;

  constructor(options: Ec2InventorySourceOptions) {
    this.ec2 = options.ec2;
    this.rds = options.rds;
    this.sts = options.sts;
    this.logger = options.logger;
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.filterValuesLimit = Math.max(
      1,
      Math.floor(options.filterValuesLimit ?? DEFAULT_FILTER_VALUES_LIMIT),
    );
    this.maxPages = Math.max(1, Math.floor(options.maxPages ?? DEFAULT_MAX_PAGES));
    this.securityGroupRuleIds = options.securityGroupRuleIds ?? true;
    this.prefixListConcurrency = options.prefixListConcurrency ?? DEFAULT_PREFIX_LIST_CONCURRENCY;
    this.resolveAddresses = options.resolveAddresses;
  }

  /** The inventory of the scope's VPCs (every VPC of the region when the scope is empty). */
  async load(scope: InventoryScope): Promise<InventoryResult> {
    return (await this.discover(scope)).result;
  }

  /**
   * The export directory's documents for the scope, keyed by file name (EXPORT_FILES), in the
   * shapes `aws ec2 describe-*` prints; write each as JSON to get an offline export directory.
   *
   * @example
   * for (const [file, doc] of Object.entries(await source.exportDocuments({ vpcIds: [] })))
   *   writeFileSync(path.join(dir, file), JSON.stringify(doc, null, 2));
   */
  async exportDocuments(scope: InventoryScope): Promise<ExportDocuments> {
    return (await this.discover(scope)).documents;
  }

  /** One discovery giving both the inventory and the export documents (`sg-audit export` needs both). */
  async discover(scope: InventoryScope): Promise<Ec2Discovery> {
    const run = new DiscoveryRun({
      pageSize: this.pageSize,
      filterValuesLimit: this.filterValuesLimit,
      maxPages: this.maxPages,
      logger: this.logger,
    });
    const [raw, callerAccount] = await Promise.all([this.listAll(run, scope), this.callerAccount(run)]);
    const documents = exportDocumentsOf(raw);
    const inventory = await this.inventoryOf(raw, documents, callerAccount);
    const names = await this.names(run, raw, inventory.networkInterfaces);
    this.logger?.info('inventory discovered', {
      vpcs: inventory.vpcs.length,
      securityGroups: inventory.securityGroups.length,
      networkInterfaces: inventory.networkInterfaces.length,
      flowLogs: inventory.flowLogs.length,
      apiCalls: run.apiCalls,
      warnings: run.warnings.length,
    });
    return {
      result: { inventory, warnings: run.warnings, apiCalls: run.apiCalls, names },
      documents,
    };
  }

  private async listAll(run: DiscoveryRun, scope: InventoryScope): Promise<RawInventory> {
    const vpcFilter = scope.vpcIds.length > 0 ? unique(scope.vpcIds) : undefined;
    const ec2 = this.ec2;
    const [vpcs, securityGroups, networkInterfaces, networkAcls, allFlowLogs, subnets] = await Promise.all([
      run.filtered('ec2:DescribeVpcs', ec2, paginateDescribeVpcs, (p) => p.Vpcs, 'vpc-id', vpcFilter),
      run.filtered(
        'ec2:DescribeSecurityGroups',
        ec2,
        paginateDescribeSecurityGroups,
        (p) => p.SecurityGroups,
        'vpc-id',
        vpcFilter,
      ),
      run.filtered(
        'ec2:DescribeNetworkInterfaces',
        ec2,
        paginateDescribeNetworkInterfaces,
        (p) => p.NetworkInterfaces,
        'vpc-id',
        vpcFilter,
      ),
      run.filtered(
        'ec2:DescribeNetworkAcls',
        ec2,
        paginateDescribeNetworkAcls,
        (p) => p.NetworkAcls,
        'vpc-id',
        vpcFilter,
      ),
      // A region holds few flow logs: one listing filtered here costs less than resource-id
      // filters chunked over every VPC, subnet and ENI id of the scope.
      run.pages('ec2:DescribeFlowLogs', ec2, paginateDescribeFlowLogs, {}, (p) => p.FlowLogs),
      vpcFilter
        ? run.filtered(
            'ec2:DescribeSubnets',
            ec2,
            paginateDescribeSubnets,
            (p) => p.Subnets,
            'vpc-id',
            vpcFilter,
          )
        : Promise.resolve<Subnet[]>([]),
    ]);

    if (vpcFilter) {
      const found = new Set(vpcs.map((v) => v.VpcId));
      const missing = vpcFilter.filter((id) => !found.has(id));
      if (missing.length > 0) run.warn(`VPC not found in this account and region: ${missing.join(', ')}`);
    }
    const flowLogs = flowLogsInScope(allFlowLogs, vpcFilter, vpcs, subnets, networkInterfaces);
    const [rules, prefixLists] = await Promise.all([
      this.securityGroupRules(run, securityGroups, vpcFilter !== undefined),
      this.prefixLists(run, securityGroups),
    ]);
    return { vpcs, securityGroups, networkInterfaces, flowLogs, networkAcls, prefixLists, rules, vpcFilter };
  }

  /** `sgr-` ids: the region's rules in one listing, or the scope's SGs in group-id chunks. */
  private async securityGroupRules(
    run: DiscoveryRun,
    groups: readonly Ec2SecurityGroup[],
    scoped: boolean,
  ): Promise<SecurityGroupRule[] | undefined> {
    if (!this.securityGroupRuleIds || groups.length === 0) return undefined;
    const groupIds = groups.flatMap((g) => (g.GroupId ? [g.GroupId] : []));
    return run.unlessDenied(
      () =>
        run.filtered(
          'ec2:DescribeSecurityGroupRules',
          this.ec2,
          paginateDescribeSecurityGroupRules,
          (p) => p.SecurityGroupRules,
          'group-id',
          scoped ? groupIds : undefined,
        ),
      'ec2:DescribeSecurityGroupRules denied: rule entries carry no sgr- ids',
    );
  }

  /** The managed prefix lists the rules reference, each with its entries (one listing per list). */
  private async prefixLists(
    run: DiscoveryRun,
    groups: readonly Ec2SecurityGroup[],
  ): Promise<(ManagedPrefixList & { Entries: PrefixListEntry[] })[]> {
    const referenced = unique(
      groups.flatMap((g) =>
        [...(g.IpPermissions ?? []), ...(g.IpPermissionsEgress ?? [])].flatMap((p) =>
          (p.PrefixListIds ?? []).flatMap((pl) => (pl.PrefixListId ? [pl.PrefixListId] : [])),
        ),
      ),
    ).sort();
    if (referenced.length === 0) return [];
    const lists = await run.filtered(
      'ec2:DescribeManagedPrefixLists',
      this.ec2,
      paginateDescribeManagedPrefixLists,
      (p) => p.PrefixLists,
      'prefix-list-id',
      referenced,
    );
    const visible = new Set(lists.map((l) => l.PrefixListId));
    const hidden = referenced.filter((id) => !visible.has(id));
    if (hidden.length > 0) {
      run.warn(
        `prefix lists referenced by rules but not visible to this account: ${hidden.join(', ')}; their rules cannot be matched to traffic`,
      );
    }
    return mapBounded(lists, this.prefixListConcurrency, async (list) => ({
      ...list,
      Entries: list.PrefixListId
        ? await run.pages(
            'ec2:GetManagedPrefixListEntries',
            this.ec2,
            paginateGetManagedPrefixListEntries,
            { PrefixListId: list.PrefixListId },
            (p) => p.Entries,
          )
        : [],
    }));
  }

  /** The account of the credentials (GetCallerIdentity), when given an STS client. */
  private async callerAccount(run: DiscoveryRun): Promise<string | undefined> {
    const sts = this.sts;
    if (sts === undefined) return undefined;
    const identity = await run.once('sts:GetCallerIdentity', () =>
      sts.send(new GetCallerIdentityCommand({})),
    );
    return identity?.Account || undefined;
  }

  private async inventoryOf(
    raw: RawInventory,
    documents: ExportDocuments,
    callerAccount: string | undefined,
  ): Promise<Inventory> {
    const parse = <T extends z.ZodType>(
      schema: T,
      file: ExportFileName,
      operation: Operation,
    ): z.infer<T> => {
      try {
        return validateAwsJson(schema, documents[file], operation);
      } catch (error) {
        throw new InventoryDiscoveryError(
          operation,
          `unexpected response: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    };
    const map = <T>(operation: Operation, build: () => T): T => {
      try {
        return build();
      } catch (error) {
        if (error instanceof InventoryDiscoveryError) throw error;
        throw new InventoryDiscoveryError(
          operation,
          `unexpected response: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    };
    const sgJson = parse(securityGroupsFile, EXPORT_FILES.securityGroups, 'ec2:DescribeSecurityGroups');
    const eniJson = parse(
      networkInterfacesFile,
      EXPORT_FILES.networkInterfaces,
      'ec2:DescribeNetworkInterfaces',
    );
    const flowJson = parse(flowLogsFile, EXPORT_FILES.flowLogs, 'ec2:DescribeFlowLogs');
    const vpcJson = parse(vpcsFile, EXPORT_FILES.vpcs, 'ec2:DescribeVpcs');
    const naclJson = parse(networkAclsFile, EXPORT_FILES.networkAcls, 'ec2:DescribeNetworkAcls');
    const plJson = parse(prefixListsFile, EXPORT_FILES.prefixLists, 'ec2:DescribeManagedPrefixLists');
    const securityGroups = map('ec2:DescribeSecurityGroups', () =>
      securityGroupsFromJson(sgJson, 'ec2:DescribeSecurityGroups'),
    );
    // The VPCs' owner only without the caller's account: a shared VPC's owner is another account.
    const accountId = callerAccount ?? raw.vpcs.find((v) => v.OwnerId)?.OwnerId;
    const region = await this.region();
    return buildInventory({
      ...(accountId ? { accountId } : {}),
      ...(region ? { region } : {}),
      vpcs: vpcsFromJson(vpcJson),
      securityGroups: raw.rules ? withRuleIds(securityGroups, raw.rules) : securityGroups,
      networkInterfaces: networkInterfacesFromJson(eniJson),
      flowLogs: map('ec2:DescribeFlowLogs', () => flowLogsFromJson(flowJson, 'ec2:DescribeFlowLogs')),
      networkAcls: networkAclsFromJson(naclJson),
      prefixLists: prefixListsFromJson(plJson),
    });
  }

  private async region(): Promise<string | undefined> {
    try {
      const region = await this.ec2.config.region();
      return typeof region === 'string' && region !== '' ? region : undefined;
    } catch {
      // No region configured: buildInventory infers it from availability zones.
      return undefined;
    }
  }

  /** Instance Name tags and RDS DB identifiers, by instance id and by ENI id. */
  private async names(
    run: DiscoveryRun,
    raw: RawInventory,
    enis: readonly NetworkInterface[],
  ): Promise<Map<string, string>> {
    const [instanceNames, rdsNames] = await Promise.all([
      this.instanceNames(run, enis, raw.vpcFilter),
      this.rdsNames(run, enis, raw.vpcs),
    ]);
    return new Map([...instanceNames, ...rdsNames]);
  }

  /**
   * Name tags of the instances the ENIs are attached to: the scope's instances listed by vpc-id
   * (pages, not ids), then by instance-id for the few attached across VPCs.
   */
  private async instanceNames(
    run: DiscoveryRun,
    enis: readonly NetworkInterface[],
    vpcFilter: readonly string[] | undefined,
  ): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    const attached = unique(enis.flatMap((e) => (e.attachment?.instanceId ? [e.attachment.instanceId] : [])));
    if (attached.length === 0) return names;
    const describe = (filterName: string, values: readonly string[] | undefined) =>
      run.filtered(
        'ec2:DescribeInstances',
        this.ec2,
        paginateDescribeInstances,
        (p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []),
        filterName,
        values,
      );
    const instances = await run.unlessDenied(async () => {
      const inScope: Instance[] = await describe('vpc-id', vpcFilter);
      const listed = new Set(inScope.map((i) => i.InstanceId));
      const elsewhere = attached.filter((id) => !listed.has(id));
      return elsewhere.length > 0 ? [...inScope, ...(await describe('instance-id', elsewhere))] : inScope;
    }, 'ec2:DescribeInstances denied: EC2 instances are named by their id, not their Name tag');
    if (instances === undefined) return names;
    for (const instance of instances) {
      const name = instance.Tags?.find((t) => t.Key === 'Name')?.Value;
      if (instance.InstanceId && name) names.set(instance.InstanceId, name);
    }
    return names;
  }

  /** RDS DB identifiers of the RDS ENIs, from the DB instances of the scope's VPCs. */
  private async rdsNames(
    run: DiscoveryRun,
    enis: readonly NetworkInterface[],
    vpcs: RawInventory['vpcs'],
  ): Promise<Map<string, string>> {
    const rdsEnis = enis.filter(isRdsInstanceEni);
    const rds = this.rds;
    if (!rds || rdsEnis.length === 0) return new Map();
    const instances: DBInstance[] | undefined = await run.unlessDenied(
      () => run.pages('rds:DescribeDBInstances', rds, paginateDescribeDBInstances, {}, (p) => p.DBInstances),
      `rds:DescribeDBInstances denied: ${rdsEnis.length} RDS ENI(s) are classified from their description only`,
    );
    if (instances === undefined) return new Map();
    const vpcIds = new Set(vpcs.flatMap((v) => (v.VpcId ? [v.VpcId] : [])));
    const facts = instances.flatMap((db): RdsInstanceFacts[] => {
      const vpcId = db.DBSubnetGroup?.VpcId;
      if (!db.DBInstanceIdentifier || (vpcId && !vpcIds.has(vpcId))) return [];
      return [
        {
          identifier: db.DBInstanceIdentifier,
          ...(db.DBClusterIdentifier ? { clusterIdentifier: db.DBClusterIdentifier } : {}),
          ...(vpcId ? { vpcId } : {}),
          subnetIds: (db.DBSubnetGroup?.Subnets ?? []).flatMap((s) =>
            s.SubnetIdentifier ? [s.SubnetIdentifier] : [],
          ),
          sgIds: (db.VpcSecurityGroups ?? []).flatMap((g) =>
            g.VpcSecurityGroupId && g.Status !== 'removing' ? [g.VpcSecurityGroupId] : [],
          ),
          ...(db.Endpoint?.Address ? { endpointAddress: db.Endpoint.Address } : {}),
        },
      ];
    });
    const { names, unmatched } = await nameRdsEnis(rdsEnis, facts, this.resolveAddresses);
    if (unmatched.length > 0) {
      this.logger?.info('RDS ENIs not matched to one DB instance', { eniIds: unmatched });
    }
    return names;
  }
}

/** Flow logs on the discovered VPCs, their subnets and ENIs (all VPC/subnet/ENI logs when unscoped). */
function flowLogsInScope(
  flowLogs: readonly FlowLog[],
  vpcFilter: readonly string[] | undefined,
  vpcs: readonly Ec2Vpc[],
  subnets: readonly Subnet[],
  enis: readonly Ec2NetworkInterface[],
): FlowLog[] {
  if (!vpcFilter) return flowLogs.filter((log) => /^(vpc|subnet|eni)-/.test(log.ResourceId ?? ''));
  const resources = new Set<string>([
    ...vpcs.flatMap((v) => (v.VpcId ? [v.VpcId] : [])),
    ...subnets.flatMap((s) => (s.SubnetId ? [s.SubnetId] : [])),
    ...enis.flatMap((e) => (e.NetworkInterfaceId ? [e.NetworkInterfaceId] : [])),
  ]);
  return flowLogs.filter((log) => log.ResourceId !== undefined && resources.has(log.ResourceId));
}

function exportDocumentsOf(raw: RawInventory): ExportDocuments {
  return {
    [EXPORT_FILES.securityGroups]: { SecurityGroups: toCliJson(raw.securityGroups) },
    [EXPORT_FILES.networkInterfaces]: { NetworkInterfaces: toCliJson(raw.networkInterfaces) },
    [EXPORT_FILES.flowLogs]: { FlowLogs: toCliJson(raw.flowLogs) },
    [EXPORT_FILES.vpcs]: { Vpcs: toCliJson(raw.vpcs) },
    [EXPORT_FILES.networkAcls]: { NetworkAcls: toCliJson(raw.networkAcls) },
    [EXPORT_FILES.prefixLists]: { PrefixLists: toCliJson(raw.prefixLists) },
  };
}

/**
 * Attaches each DescribeSecurityGroupRules id to the rule entry it describes: both sides are
 * keyed by the entry id ruleEntriesOf gives (sg/direction/protocol/ports/peer).
 */
function withRuleIds(groups: readonly SecurityGroup[], rules: readonly SecurityGroupRule[]): SecurityGroup[] {
  const idsByEntry = new Map<string, string[]>();
  for (const rule of rules) {
    if (!rule.GroupId || !rule.SecurityGroupRuleId) continue;
    const referenced = rule.ReferencedGroupInfo;
    let entryId: string | undefined;
    try {
      entryId = ruleEntriesOf(
        rule.GroupId,
        rule.IsEgress ? 'egress' : 'ingress',
        [
          {
            IpProtocol: rule.IpProtocol ?? '-1',
            FromPort: rule.FromPort,
            ToPort: rule.ToPort,
            IpRanges: rule.CidrIpv4 ? [{ CidrIp: rule.CidrIpv4 }] : [],
            Ipv6Ranges: rule.CidrIpv6 ? [{ CidrIpv6: rule.CidrIpv6 }] : [],
            PrefixListIds: rule.PrefixListId ? [{ PrefixListId: rule.PrefixListId }] : [],
            UserIdGroupPairs: referenced?.GroupId ? [{ GroupId: referenced.GroupId }] : [],
          },
        ],
        { file: 'ec2:DescribeSecurityGroupRules', field: 'SecurityGroupRules' },
      )[0]?.id;
    } catch {
      // A rule the mapper cannot read has no entry to carry its id.
      continue;
    }
    if (entryId === undefined) continue;
    const ids = idsByEntry.get(entryId) ?? [];
    ids.push(rule.SecurityGroupRuleId);
    idsByEntry.set(entryId, ids);
  }
  return groups.map((group) => ({
    ...group,
    rules: group.rules.map((entry) => {
      // Duplicate entries carry '#n' suffixes; they take the listing's ids in order.
      const ids = idsByEntry.get(entry.id.replace(/#\d+$/, ''));
      const id = ids?.shift();
      return id ? { ...entry, securityGroupRuleId: id } : entry;
    }),
  }));
}

/**
 * The IAM actions this source calls (the operations of PAGE_SIZE_BOUNDS): every EC2 listing, and
 * rds:DescribeDBInstances when given an RDS client. A plain list (no CDK here): lib/ grants the
 * discover function exactly these. Marked pure so esbuild leaves it out of the Lambda bundle.
 */
export const INVENTORY_ACTIONS = /* @__PURE__ */ Object.keys(PAGE_SIZE_BOUNDS) as readonly Operation[];
