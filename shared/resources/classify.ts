/**
 * Resource classification: which AWS resource stands behind an ENI. Decided from the ENI alone
 * (InterfaceType, then Description, tags and RequesterId, then the instance attachment), so it
 * works offline on a `describe-network-interfaces` export without calling other service APIs.
 */
import type { Inventory, NetworkInterface, ResourceRef, ResourceType } from '../model/inventory';

export interface ClassifyHints {
  /** Instance id → its Name tag (from describe-instances, when the runner has it). */
  readonly instanceNames?: ReadonlyMap<string, string>;
}

/** The basis of an ENI nothing identifies: a person must look. */
export const MANUAL_CHECK_BASIS = 'manual check needed';

/** Resource types whose ENIs are expected to face the world on 80/443. */
const LOAD_BALANCER_LIKE: ReadonlySet<ResourceType> = new Set(['elb', 'api-gateway', 'vpc-endpoint']);

/**
 * Whether ENIs of this resource type legitimately accept 80/443 from the world (load balancers,
 * API Gateway VPC links, VPC endpoints).
 *
 * @example isLoadBalancerLike('elb') // true
 */
export function isLoadBalancerLike(type: ResourceType): boolean {
  return LOAD_BALANCER_LIKE.has(type);
}

/** AWS writes InterfaceType both as 'nat_gateway' (CLI output) and 'natGateway' (API docs). */
function interfaceTypeKey(interfaceType: string): string {
  return interfaceType.toLowerCase().replace(/[^a-z]/g, '');
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const LAMBDA_DESCRIPTION = new RegExp(`^AWS Lambda VPC ENI-(.+?)(?:-${UUID})?$`, 'i');
const ELB_V2_DESCRIPTION = /^ELB (app|net|gwy)\/([^/\s]+)\/([0-9a-z]+)/;
const ELB_CLASSIC_DESCRIPTION = /^ELB ([A-Za-z0-9-]+)$/;
const NAT_DESCRIPTION = /Interface for NAT Gateway (nat-[0-9a-z]+)/;
const VPCE_DESCRIPTION = /VPC Endpoint Interface (vpce-[0-9a-z]+)/;
const ECS_DESCRIPTION = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d+:attachment\/([0-9a-z-]+)/;
const EFS_DESCRIPTION = /EFS mount target for (fs-[0-9a-z]+)(?: \((fsmt-[0-9a-z]+)\))?/;
const ELASTICACHE_DESCRIPTION = /^ElastiCache\s+(\S+)/;
const EKS_DESCRIPTION = /^Amazon EKS (\S+)/;
const EKS_CNI_DESCRIPTION = /^aws-k8s-/i;
const TGW_DESCRIPTION = /Transit Gateway Attachment (tgw-attach-[0-9a-z]+)/;
const RDS_PROXY_DESCRIPTION = /^Network interface for DBProxy (\S+)/;
const EKS_CLUSTER_TAGS = [
  'eks:cluster-name',
  'cluster.k8s.amazonaws.com/name',
  'vpcresources.k8s.aws/cluster-name',
];

/** Services whose ENIs are recognisable but have no resource type of their own. */
const OTHER_SERVICE_DESCRIPTIONS: readonly (readonly [RegExp, string])[] = [
  [/^RedshiftNetworkInterface/, 'Redshift'],
  [/^DMSNetworkInterface/, 'DMS replication instance'],
  [/^AWS ElasticMapReduce/, 'EMR'],
  [/^AWS created network interface for directory (d-[0-9a-z]+)/, 'Directory Service'],
  [/^CloudHSM Managed Interface|^CloudHsm ENI/, 'CloudHSM'],
  [/^Amazon Kinesis Firehose/, 'Kinesis Data Firehose'],
  [/^AWS CodeStar Connections/, 'CodeStar Connections'],
  [/^ES /, 'OpenSearch Service'],
];

/** InterfaceTypes of services outside the resource types. */
const OTHER_SERVICE_TYPES: ReadonlyMap<string, string> = new Map([
  ['quicksight', 'QuickSight'],
  ['globalacceleratormanaged', 'Global Accelerator'],
  ['iotrulesmanaged', 'IoT rules'],
  ['awscodestarconnectionsmanaged', 'CodeStar Connections'],
]);

function ref(type: ResourceType, id: string, name: string, basis: string): ResourceRef {
  return { type, id, name, basis };
}

function lambdaRef(eni: NetworkInterface, basis: string): ResourceRef {
  const fn = LAMBDA_DESCRIPTION.exec(eni.description)?.[1];
  return fn ? ref('lambda', fn, fn, basis) : ref('lambda', eni.id, eni.id, `${basis}; function not named`);
}

function elbRef(eni: NetworkInterface, basis: string): ResourceRef {
  const v2 = ELB_V2_DESCRIPTION.exec(eni.description);
  if (v2?.[2]) return ref('elb', `${v2[1]}/${v2[2]}/${v2[3]}`, v2[2], basis);
  const classic = ELB_CLASSIC_DESCRIPTION.exec(eni.description)?.[1];
  if (classic) return ref('elb', classic, classic, basis);
  return ref('elb', eni.id, eni.id, `${basis}; load balancer not named`);
}

function idRef(type: ResourceType, eni: NetworkInterface, pattern: RegExp, basis: string): ResourceRef {
  const id = pattern.exec(eni.description)?.[1];
  return id ? ref(type, id, id, basis) : ref(type, eni.id, eni.id, basis);
}

function efsRef(eni: NetworkInterface, basis: string): ResourceRef {
  const match = EFS_DESCRIPTION.exec(eni.description);
  if (!match?.[1]) return ref('efs', eni.id, eni.id, basis);
  return ref('efs', match[1], match[2] ?? match[1], basis);
}

function ecsRef(eni: NetworkInterface, basis: string): ResourceRef {
  const match = ECS_DESCRIPTION.exec(eni.description);
  const attachment = match?.[1] ?? eni.id;
  // ECS propagates these tags onto task ENIs when tag propagation is on.
  const name =
    eni.tags['aws:ecs:serviceName'] ?? eni.tags['aws:ecs:clusterName'] ?? `attachment/${attachment}`;
  return ref('ecs', match ? match[0] : eni.id, name, basis);
}

function eksClusterTag(eni: NetworkInterface): { key: string; cluster: string } | undefined {
  for (const key of EKS_CLUSTER_TAGS) {
    const cluster = eni.tags[key];
    if (cluster) return { key, cluster };
  }
  return undefined;
}

/** InterfaceTypes that name the owner on their own. */
function byInterfaceType(eni: NetworkInterface): ResourceRef | undefined {
  const key = interfaceTypeKey(eni.interfaceType);
  const basis = `InterfaceType '${eni.interfaceType}'`;
  switch (key) {
    case 'lambda':
      return lambdaRef(eni, basis);
    case 'natgateway':
      return idRef('nat-gateway', eni, NAT_DESCRIPTION, basis);
    case 'vpcendpoint':
    case 'gatewayloadbalancerendpoint':
      return idRef('vpc-endpoint', eni, VPCE_DESCRIPTION, basis);
    case 'loadbalancer':
    case 'networkloadbalancer':
    case 'gatewayloadbalancer':
      return elbRef(eni, basis);
    case 'efs':
      return efsRef(eni, basis);
    case 'transitgateway':
      return idRef('transit-gateway', eni, TGW_DESCRIPTION, basis);
    case 'apigatewaymanaged':
      return ref('api-gateway', eni.id, eni.tags.Name ?? eni.id, basis);
    default: {
      const service = OTHER_SERVICE_TYPES.get(key);
      return service ? ref('other', eni.id, service, `${basis} (${service})`) : undefined;
    }
  }
}

/** Description patterns, EKS tags and RequesterId, for ENIs whose InterfaceType is generic. */
function byDescription(eni: NetworkInterface): ResourceRef | undefined {
  const d = eni.description;
  const basis = `Description '${d}'`;
  if (d.startsWith('AWS Lambda VPC ENI')) return lambdaRef(eni, basis);
  if (d.startsWith('RDSNetworkInterface')) {
    return ref('rds', eni.id, eni.tags.Name ?? eni.id, `${basis}; the DB instance is not named on the ENI`);
  }
  const proxy = RDS_PROXY_DESCRIPTION.exec(d)?.[1];
  if (proxy) return ref('rds', proxy, proxy, basis);
  if (ELB_V2_DESCRIPTION.test(d) || ELB_CLASSIC_DESCRIPTION.test(d)) return elbRef(eni, basis);
  if (NAT_DESCRIPTION.test(d)) return idRef('nat-gateway', eni, NAT_DESCRIPTION, basis);
  if (VPCE_DESCRIPTION.test(d)) return idRef('vpc-endpoint', eni, VPCE_DESCRIPTION, basis);
  if (ECS_DESCRIPTION.test(d)) return ecsRef(eni, basis);
  if (EFS_DESCRIPTION.test(d)) return efsRef(eni, basis);
  if (ELASTICACHE_DESCRIPTION.test(d)) return idRef('elasticache', eni, ELASTICACHE_DESCRIPTION, basis);
  const eksCluster = EKS_DESCRIPTION.exec(d)?.[1];
  if (eksCluster) return ref('eks', eksCluster, eksCluster, basis);
  if (TGW_DESCRIPTION.test(d)) return idRef('transit-gateway', eni, TGW_DESCRIPTION, basis);
  if (d.startsWith('ENI managed by APIGateway')) return ref('api-gateway', eni.id, eni.id, basis);
  const tag = eksClusterTag(eni);
  if (tag) return ref('eks', tag.cluster, tag.cluster, `tag ${tag.key}`);
  if (EKS_CNI_DESCRIPTION.test(d))
    return ref('eks', eni.id, eni.id, `${basis} (EKS VPC CNI); cluster not tagged`);
  for (const [pattern, service] of OTHER_SERVICE_DESCRIPTIONS) {
    const match = pattern.exec(d);
    if (match) return ref('other', match[1] ?? eni.id, service, `${basis} (${service})`);
  }
  return byRequester(eni);
}

function byRequester(eni: NetworkInterface): ResourceRef | undefined {
  const basis = `RequesterId '${eni.requesterId}'`;
  switch (eni.requesterId) {
    case 'amazon-elb':
      return elbRef(eni, basis);
    case 'amazon-rds':
      return ref('rds', eni.id, eni.id, basis);
    case 'amazon-elasticache':
      return ref('elasticache', eni.id, eni.id, basis);
    default:
      return undefined;
  }
}

function byAttachment(eni: NetworkInterface, hints: ClassifyHints | undefined): ResourceRef | undefined {
  const instanceId = eni.attachment?.instanceId;
  if (!instanceId) return undefined;
  // The instance's own Name tag names the resource better than a tag on one of its ENIs.
  const name = hints?.instanceNames?.get(instanceId) ?? eni.tags.Name ?? instanceId;
  return ref('ec2', instanceId, name, 'Attachment.InstanceId');
}

function unidentified(eni: NetworkInterface): ResourceRef {
  const key = interfaceTypeKey(eni.interfaceType);
  const name = eni.description || eni.tags.Name || eni.id;
  if (key === 'branch' || key === 'trunk') {
    return ref(
      'other',
      eni.id,
      name,
      `InterfaceType '${eni.interfaceType}' (ECS or EKS trunking): ${MANUAL_CHECK_BASIS}`,
    );
  }
  return ref('other', eni.id, name, MANUAL_CHECK_BASIS);
}

/**
 * The resource behind an ENI, with the field that decided it: InterfaceType first, then the
 * Description (Lambda, RDS, ELB, NAT, endpoint, ECS, EFS, ElastiCache, EKS, TGW, API Gateway
 * patterns), EKS tags and RequesterId, then the attached instance; else 'other' with basis
 * 'manual check needed'. Managed ENIs attached to AWS-owned instances (EKS control plane) are
 * caught by their description before the attachment is consulted.
 *
 * @example
 * classifyEni({ ...eni, interfaceType: 'interface', description: 'ELB app/web/50dc6c495c0c9188' })
 * // { type: 'elb', id: 'app/web/50dc6c495c0c9188', name: 'web', basis: "Description 'ELB app/web/…'" }
 */
export function classifyEni(eni: NetworkInterface, hints?: ClassifyHints): ResourceRef {
  return byInterfaceType(eni) ?? byDescription(eni) ?? byAttachment(eni, hints) ?? unidentified(eni);
}

/**
 * Classifies every ENI of the inventory, keyed by ENI id.
 *
 * @example classifyAll(inventory).get('eni-0a1b')?.type // 'lambda'
 */
export function classifyAll(inventory: Inventory, hints?: ClassifyHints): Map<string, ResourceRef> {
  const resources = new Map<string, ResourceRef>();
  for (const eni of inventory.networkInterfaces) resources.set(eni.id, classifyEni(eni, hints));
  return resources;
}
