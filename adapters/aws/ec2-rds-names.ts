/**
 * Naming the DB instance behind an RDS network interface. RDS ENIs only say
 * "RDSNetworkInterface"; the DB instance that owns one is found by what both sides expose: the
 * VPC, the DB subnet group's subnets and the VPC security groups (RDS copies the instance's SGs
 * onto its ENIs). When several instances share all three (Aurora cluster members, look-alike
 * deployments), the endpoint address decides if a resolver is given; an Aurora cluster whose
 * members all match names the ENI after the cluster.
 */
import type { NetworkInterface } from '../../shared/model/inventory';

/** What RDS DescribeDBInstances tells about one DB instance, reduced to the matching keys. */
export interface RdsInstanceFacts {
  readonly identifier: string;
  readonly clusterIdentifier?: string;
  readonly vpcId?: string;
  readonly subnetIds: readonly string[];
  readonly sgIds: readonly string[];
  /** The endpoint host name (resolves to the primary's private IP inside the VPC). */
  readonly endpointAddress?: string;
}

/** Resolves a host name to its addresses (e.g. node:dns `resolve4`). */
export type AddressResolver = (hostname: string) => Promise<readonly string[]>;

export interface RdsNaming {
  /** ENI id → DB instance identifier (or `cluster <id>` for an Aurora cluster's shared match). */
  readonly names: Map<string, string>;
  /** RDS ENIs no single instance or cluster could be matched to. */
  readonly unmatched: readonly string[];
}

const RDS_DESCRIPTION = /^RDSNetworkInterface/;
const RDS_PROXY_DESCRIPTION = /^Network interface for DBProxy/;

/**
 * Whether an ENI belongs to an RDS DB instance (not an RDS Proxy, whose description names it).
 *
 * @example isRdsInstanceEni({ description: 'RDSNetworkInterface', requesterId: 'amazon-rds' } as NetworkInterface) // true
 */
export function isRdsInstanceEni(eni: NetworkInterface): boolean {
  if (RDS_PROXY_DESCRIPTION.test(eni.description)) return false;
  return RDS_DESCRIPTION.test(eni.description) || eni.requesterId === 'amazon-rds';
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  if (left.size !== right.size) return false;
  for (const value of left) if (!right.has(value)) return false;
  return true;
}

function candidatesFor(eni: NetworkInterface, instances: readonly RdsInstanceFacts[]): RdsInstanceFacts[] {
  return instances.filter(
    (db) =>
      (db.vpcId === undefined || db.vpcId === eni.vpcId) &&
      db.subnetIds.includes(eni.subnetId) &&
      sameSet(db.sgIds, eni.sgIds),
  );
}

async function byEndpoint(
  eni: NetworkInterface,
  candidates: readonly RdsInstanceFacts[],
  resolve: AddressResolver,
  cache: Map<string, Promise<readonly string[]>>,
): Promise<RdsInstanceFacts | undefined> {
  const addresses = new Set(eni.privateIpv4);
  const hits: RdsInstanceFacts[] = [];
  for (const db of candidates) {
    if (!db.endpointAddress) continue;
    let lookup = cache.get(db.endpointAddress);
    if (!lookup) {
      // A failed lookup only means this candidate cannot be confirmed.
      lookup = resolve(db.endpointAddress).catch(() => []);
      cache.set(db.endpointAddress, lookup);
    }
    if ((await lookup).some((address) => addresses.has(address))) hits.push(db);
  }
  return hits.length === 1 ? hits[0] : undefined;
}

/**
 * Matches RDS ENIs to DB instances by VPC, DB subnet group and VPC security groups, and by the
 * endpoint address when that is still ambiguous and a resolver is given.
 *
 * @example
 * const { names } = await nameRdsEnis(enis, [{ identifier: 'orders', vpcId: 'vpc-1',
 *   subnetIds: ['subnet-a'], sgIds: ['sg-db'] }]);
 * names.get('eni-rds') // 'orders'
 */
export async function nameRdsEnis(
  enis: readonly NetworkInterface[],
  instances: readonly RdsInstanceFacts[],
  resolve?: AddressResolver,
): Promise<RdsNaming> {
  const names = new Map<string, string>();
  const unmatched: string[] = [];
  const cache = new Map<string, Promise<readonly string[]>>();
  for (const eni of enis) {
    if (!isRdsInstanceEni(eni)) continue;
    const candidates = candidatesFor(eni, instances);
    const only = candidates.length === 1 ? candidates[0] : undefined;
    if (only) {
      names.set(eni.id, only.identifier);
      continue;
    }
    if (candidates.length > 1) {
      const resolved = resolve ? await byEndpoint(eni, candidates, resolve, cache) : undefined;
      if (resolved) {
        names.set(eni.id, resolved.identifier);
        continue;
      }
      const clusters = new Set(candidates.map((db) => db.clusterIdentifier));
      const [cluster] = clusters;
      if (clusters.size === 1 && cluster !== undefined) {
        names.set(eni.id, `cluster ${cluster}`);
        continue;
      }
    }
    unmatched.push(eni.id);
  }
  return { names, unmatched };
}
