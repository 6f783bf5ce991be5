/**
 * Realistic traffic for the sample account: connections between clients and services, each
 * recorded as flow-log records on every ENI (in the inventory) that sees it — request and reply
 * (5-tuple reversed) per aggregation interval, tcp-flags as the OR of the interval's flags,
 * client ports from the client type's ephemeral range.
 */
import { PROTOCOL_ICMP as ICMP, PROTOCOL_TCP as TCP, PROTOCOL_UDP as UDP } from '../../shared/net/protocol';
import {
  CONTAINER_IP,
  type EniSpec,
  eniSpec,
  flowLogOf,
  subnetSpec,
  WINDOW_END,
  WINDOW_START,
} from './account';
import type { SeededRandom } from './random';

export type FlowDirection = 'ingress' | 'egress';

/** One flow-log record before formatting. Flow fields are absent for NODATA/SKIPDATA records. */
export interface FlowRecord {
  readonly eni: EniSpec;
  readonly start: number;
  readonly end: number;
  readonly logStatus: 'OK' | 'NODATA' | 'SKIPDATA';
  readonly action?: 'ACCEPT' | 'REJECT';
  readonly srcaddr?: string;
  readonly dstaddr?: string;
  readonly srcport?: number;
  readonly dstport?: number;
  readonly protocol?: number;
  readonly packets?: number;
  readonly bytes?: number;
  readonly tcpFlags?: number;
  readonly pktSrcaddr?: string;
  readonly pktDstaddr?: string;
  /** The AWS service AWS names for pkt-srcaddr / pkt-dstaddr (from its published ranges). */
  readonly pktSrcAwsService?: string;
  readonly pktDstAwsService?: string;
  readonly flowDirection?: FlowDirection;
  readonly trafficPath?: number;
}

export interface RecordSink {
  add(record: FlowRecord): void;
}

const ESP = 50;

const TCP_FIN = 1;
const TCP_SYN = 2;
const TCP_SYN_ACK = 18;

/** How one ENI sees one connection: the request's addresses as recorded on that ENI. */
interface Leg {
  readonly eni: EniSpec;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly pktSrc: string;
  readonly pktDst: string;
  readonly requestDirection: FlowDirection;
}

interface Side {
  /** The packet's address. */
  readonly addr: string;
  readonly port: number;
  readonly eni?: EniSpec;
  /**
   * What the ENI's own flow log writes in srcaddr/dstaddr when `addr` is a secondary address of
   * it: its primary address (aws-facts.md); `addr` then shows only in pkt-srcaddr/pkt-dstaddr.
   */
  readonly interfaceAddr?: string;
}

interface ConnectionPlan {
  readonly protocol: number;
  readonly client: Side;
  readonly server: Side;
  readonly start: number;
  readonly duration: number;
  /** [packets, bytes] client -> server. */
  readonly request: readonly [number, number];
  /** [packets, bytes] server -> client; absent when the server never answers (REJECT). */
  readonly reply?: readonly [number, number];
  readonly action?: 'ACCEPT' | 'REJECT';
  /** NAT gateway the connection leaves through (records 4 legs there, as AWS documents). */
  readonly nat?: EniSpec;
  readonly natPort?: number;
  /** Transit gateway attachment ENIs on the path, client side first. */
  readonly transit?: readonly EniSpec[];
  /**
   * Refused where it starts: the client's own SG or its subnet's NACL drops the request, so only
   * the client's ENI records it (REJECT) and the client retries its SYN from the same port.
   */
  readonly refusedAtClient?: boolean;
}

function isPrivateAddress(addr: string): boolean {
  if (addr.includes(':')) return /^f[cd]/i.test(addr);
  const [a = 0, b = 0] = addr.split('.').map(Number);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

function legsOf(plan: ConnectionPlan): Leg[] {
  const { client, server } = plan;
  const legs: Leg[] = [];
  const plain = (eni: EniSpec, requestDirection: FlowDirection): Leg => ({
    eni,
    src: eni === client.eni ? (client.interfaceAddr ?? client.addr) : client.addr,
    srcPort: client.port,
    dst: eni === server.eni ? (server.interfaceAddr ?? server.addr) : server.addr,
    dstPort: server.port,
    pktSrc: client.addr,
    pktDst: server.addr,
    requestDirection,
  });
  if (client.eni) legs.push(plain(client.eni, 'egress'));
  // A request refused where it starts reaches no other ENI.
  if (plan.refusedAtClient) return legs;
  if (plan.nat) {
    const natIp = plan.nat.ip;
    // AWS's NAT gateway example: client->NAT and NAT->server legs, both on the NAT ENI.
    legs.push({
      eni: plan.nat,
      src: client.addr,
      srcPort: client.port,
      dst: natIp,
      dstPort: server.port,
      pktSrc: client.addr,
      pktDst: server.addr,
      requestDirection: 'ingress',
    });
    legs.push({
      eni: plan.nat,
      src: natIp,
      srcPort: plan.natPort ?? client.port,
      dst: server.addr,
      dstPort: server.port,
      pktSrc: natIp,
      pktDst: server.addr,
      requestDirection: 'egress',
    });
  }
  plan.transit?.forEach((eni, i) => {
    legs.push(plain(eni, i === 0 ? 'ingress' : 'egress'));
  });
  if (server.eni) legs.push(plain(server.eni, 'ingress'));
  return legs;
}

function aggregationSeconds(eni: EniSpec): number | undefined {
  const log = flowLogOf(eni);
  if (!log) return undefined;
  // Nitro instances aggregate in at most 60 s whatever the flow log's maximum.
  return log.maxAggregationInterval === 60 || eni.instance ? 60 : 600;
}

function trafficPath(eni: EniSpec, direction: FlowDirection, dst: string): number | undefined {
  if (direction === 'ingress') return undefined;
  if (isPrivateAddress(dst)) return 1;
  return eni.instance ? 8 : 2;
}

function flagsOf(
  protocol: number,
  interval: number,
  intervals: number,
  opening: number,
  retried = false,
): number {
  if (protocol !== TCP) return 0;
  // An unanswered SYN is sent again from the same port, into the next intervals too.
  if (retried) return opening;
  const last = interval === intervals - 1 ? TCP_FIN : 0;
  return interval === 0 ? opening | last : last;
}

/** Emits the records of one connection on every leg's ENI. */
function emitConnection(plan: ConnectionPlan, sink: RecordSink): void {
  const end = plan.start + plan.duration;
  const action = plan.action ?? 'ACCEPT';
  for (const leg of legsOf(plan)) {
    const agg = aggregationSeconds(leg.eni);
    if (agg === undefined) continue;
    const first = Math.floor(plan.start / agg);
    const last = Math.floor((end - 1e-6) / agg);
    const intervals = last - first + 1;
    for (let k = 0; k < intervals; k++) {
      const windowStart = (first + k) * agg;
      const from = Math.max(plan.start, windowStart);
      const to = Math.min(end, windowStart + agg);
      const share = plan.duration > 0 ? (to - from) / plan.duration : 1;
      const startSec = Math.floor(from);
      const endSec = Math.max(startSec, Math.ceil(to));
      const emit = (
        direction: 'request' | 'reply',
        totals: readonly [number, number],
        opening: number,
      ): void => {
        const packets = Math.max(1, Math.round(totals[0] * share));
        const bytes = Math.max(packets * 40, Math.round(totals[1] * share));
        const request = direction === 'request';
        const flowDirection: FlowDirection = request
          ? leg.requestDirection
          : leg.requestDirection === 'ingress'
            ? 'egress'
            : 'ingress';
        const dst = request ? leg.dst : leg.src;
        sink.add({
          eni: leg.eni,
          start: startSec,
          end: endSec,
          logStatus: 'OK',
          action,
          srcaddr: request ? leg.src : leg.dst,
          dstaddr: dst,
          srcport: request ? leg.srcPort : leg.dstPort,
          dstport: request ? leg.dstPort : leg.srcPort,
          protocol: plan.protocol,
          packets,
          bytes,
          tcpFlags: flagsOf(plan.protocol, k, intervals, opening, plan.refusedAtClient),
          pktSrcaddr: request ? leg.pktSrc : leg.pktDst,
          pktDstaddr: request ? leg.pktDst : leg.pktSrc,
          pktSrcAwsService: AWS_SERVICES.get(request ? leg.pktSrc : leg.pktDst),
          pktDstAwsService: AWS_SERVICES.get(request ? leg.pktDst : leg.pktSrc),
          flowDirection,
          trafficPath: trafficPath(leg.eni, flowDirection, dst),
        });
      };
      emit('request', plan.request, TCP_SYN);
      if (plan.reply) emit('reply', plan.reply, TCP_SYN_ACK);
    }
  }
}

// ----- who talks to whom -----

type Os = 'linux' | 'windows' | 'any';

interface InternetClient {
  readonly addr: string;
  readonly os: Os;
}

/** Korean ISP and mobile /16s the web clients come from. */
const KR_PREFIXES = [
  '211.36',
  '211.234',
  '121.134',
  '175.223',
  '222.106',
  '61.74',
  '1.235',
  '118.235',
  '106.101',
  '223.38',
  '14.52',
  '58.120',
  '112.170',
  '124.50',
  '39.7',
  '110.70',
];
const V6_PREFIXES = ['2001:2d8', '2001:e60', '2406:5900'];
const SCANNER_PREFIXES = [
  '45.135',
  '185.220',
  '89.248',
  '193.163',
  '162.142.125',
  '71.6',
  '167.94.138',
  '80.82',
];

const ADMIN_IPS: readonly InternetClient[] = [
  { addr: '203.0.113.10', os: 'windows' },
  { addr: '203.0.113.11', os: 'windows' },
  { addr: '203.0.113.12', os: 'linux' },
  { addr: '203.0.113.45', os: 'windows' },
  { addr: '198.51.100.7', os: 'linux' },
];
const OFFICE_USERS: readonly InternetClient[] = ['21', '22', '23', '24'].map((o) => ({
  addr: `203.0.113.${o}`,
  os: 'windows' as const,
}));
const RDP_USERS: readonly InternetClient[] = ['21', '22', '30'].map((o) => ({
  addr: `203.0.113.${o}`,
  os: 'windows' as const,
}));
const CUSTOMER_GATEWAYS = { hq: '121.134.55.10', dr: '211.45.120.7' };
const INGEST_CLIENTS: readonly InternetClient[] = [
  ...['11', '12', '13', '57', '200'].map((o) => ({ addr: `175.223.10.${o}`, os: 'linux' as const })),
  ...['3', '4', '91', '150'].map((o) => ({ addr: `211.246.68.${o}`, os: 'linux' as const })),
  ...['8', '9', '77'].map((o) => ({ addr: `39.7.24.${o}`, os: 'linux' as const })),
  { addr: '110.70.12.8', os: 'linux' },
  { addr: '223.39.201.77', os: 'linux' },
];
const INTERNET_APIS = [
  '211.115.106.10',
  '211.115.106.11',
  '211.115.106.12',
  '3.35.200.17',
  '142.250.196.110',
];
export const S3_ADDRESSES = ['52.219.56.18', '52.219.57.140', '52.219.58.33', '52.219.60.77', '52.219.61.9'];
/** DynamoDB in ap-northeast-2, reached through a gateway endpoint (no prefix list in the export). */
export const DYNAMODB_ADDRESSES = ['52.94.12.31', '52.94.12.208'];
/** The service AWS names in pkt-src-aws-service / pkt-dst-aws-service for an address, where it names one. */
const AWS_SERVICES: ReadonlyMap<string, string> = new Map([
  ...S3_ADDRESSES.map((addr) => [addr, 'S3'] as const),
  ...DYNAMODB_ADDRESSES.map((addr) => [addr, 'DYNAMODB'] as const),
]);
const PACKAGE_MIRRORS = ['52.95.194.12', '52.95.195.80'];
const WINDOWS_UPDATE = ['13.107.4.50', '20.190.151.9'];
const ON_PREM_DNS = '10.100.0.2';
export const BATCH_PORTS = { from: 20100, to: 20139 } as const;
const INGEST_PORTS = [8001, 8002, 8003, 8004];
const INGEST_REQUEST = [6, 80, 200, 1200] as const;
const INGEST_REPLY = [6, 40, 60, 200] as const;

interface ScanTarget {
  readonly eni: string;
  readonly weight: number;
  readonly v6?: boolean;
  readonly tcp: readonly number[];
  readonly udp: readonly number[];
  readonly icmp?: boolean;
}

/** Scans that the target's SGs REJECT (never a port its rules admit: those would be ACCEPTed). */
const SCAN_TARGETS: readonly ScanTarget[] = [
  {
    eni: 'bastion',
    weight: 3,
    tcp: [23, 80, 443, 445, 1433, 3306, 3389, 5900, 6379, 8080, 8443, 9200],
    udp: [161, 1900, 5060],
    icmp: true,
  },
  { eni: 'bastion', weight: 0.6, v6: true, tcp: [22, 80, 443], udp: [] },
  { eni: 'vpn', weight: 2, tcp: [22, 80, 443, 3389, 8080], udp: [161, 1900], icmp: true },
  { eni: 'alb-a', weight: 0.8, tcp: [21, 22, 3389, 8080, 8443], udp: [] },
  { eni: 'alb-c', weight: 0.8, tcp: [21, 22, 3389, 8080, 8443], udp: [] },
  { eni: 'alb-a', weight: 0.3, v6: true, tcp: [22, 8080], udp: [] },
  { eni: 'nlb-a', weight: 0.5, tcp: [22, 80, 443, 3389], udp: [] },
  { eni: 'nlb-c', weight: 0.5, tcp: [22, 80, 443, 3389], udp: [] },
  { eni: 'monitoring', weight: 1, tcp: [], udp: [53, 123, 161, 1900, 11211] },
  { eni: 'legacy-db', weight: 2.5, tcp: [22, 23, 445, 1433, 3389, 5432, 6379, 9200], udp: [161] },
  { eni: 'jenkins', weight: 1.5, tcp: [], udp: [53, 123, 161, 1900] },
];

function weightedPick<T extends { readonly weight: number }>(rng: SeededRandom, items: readonly T[]): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let roll = rng.next() * total;
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return rng.pick(items);
}

export interface TrafficPools {
  readonly webV4: readonly InternetClient[];
  readonly webV6: readonly InternetClient[];
  readonly scannersV4: readonly string[];
  readonly scannersV6: readonly string[];
}

/** Client address pools (drawn from the seed). */
export function buildPools(rng: SeededRandom): TrafficPools {
  const unique = (count: number, make: () => string): string[] => {
    const seen = new Set<string>();
    for (let guard = 0; seen.size < count && guard < count * 20; guard++) seen.add(make());
    return [...seen];
  };
  const os = (): Os => (rng.chance(0.55) ? 'windows' : 'linux');
  const v6 = (prefix: string): string =>
    `${prefix}:${rng.hex(4).replace(/^0+(?=.)/, '')}:${rng.hex(4).replace(/^0+(?=.)/, '')}:${[1, 2, 3, 4]
      .map(() => rng.hex(4).replace(/^0+(?=.)/, ''))
      .join(':')}`;
  return {
    webV4: unique(320, () => `${rng.pick(KR_PREFIXES)}.${rng.int(0, 255)}.${rng.int(1, 254)}`).map(
      (addr) => ({
        addr,
        os: os(),
      }),
    ),
    webV6: unique(36, () => v6(rng.pick(V6_PREFIXES))).map((addr) => ({ addr, os: os() })),
    scannersV4: unique(200, () => {
      const prefix = rng.pick(SCANNER_PREFIXES);
      const octets = prefix.split('.').length;
      const rest = Array.from({ length: 4 - octets }, () => rng.int(1, 254));
      return [prefix, ...rest].join('.');
    }),
    scannersV6: unique(12, () => v6('2a06:4880')),
  };
}

/** Diurnal/weekly load shapes, in Korean time (UTC+9). */
type Shape = 'flat' | 'web' | 'business' | 'office';

function shapeWeight(shape: Shape, hourStart: number): number {
  if (shape === 'flat') return 1;
  const kst = new Date((hourStart + 9 * 3600) * 1000);
  const hour = kst.getUTCHours();
  const weekday = kst.getUTCDay() >= 1 && kst.getUTCDay() <= 5;
  const workHours = weekday && hour >= 9 && hour <= 18;
  if (shape === 'web') return hour >= 8 ? 1.35 : 0.45;
  if (shape === 'business') return workHours ? 2.2 : weekday ? 0.5 : 0.35;
  return workHours ? 3.4 : 0.04;
}

class TrafficContext {
  constructor(
    readonly rng: SeededRandom,
    readonly pools: TrafficPools,
  ) {}

  eni(key: string): EniSpec {
    return eniSpec(key);
  }

  pickEni(keys: readonly string[]): EniSpec {
    return eniSpec(this.rng.pick(keys));
  }

  /** A client port from the ephemeral range of the client's type. */
  ephemeral(os: Os): number {
    if (os === 'linux') return this.rng.int(32768, 60999);
    if (os === 'windows') return this.rng.int(49152, 65535);
    return this.rng.int(1024, 65535);
  }

  portOf(eni: EniSpec): number {
    return this.ephemeral(eni.clientPorts);
  }

  /** [packets, bytes] with a per-packet size in [minSize, maxSize]. */
  volume(minPackets: number, maxPackets: number, minSize: number, maxSize: number): [number, number] {
    const packets = this.rng.int(minPackets, maxPackets);
    return [packets, Math.round(packets * this.rng.between(minSize, maxSize))];
  }

  /** A client side on an ENI of the inventory. */
  from(eni: EniSpec, port?: number): Side {
    return { eni, addr: eni.ip, port: port ?? this.portOf(eni) };
  }

  to(eni: EniSpec, port: number, v6 = false): Side {
    const addr = v6 ? eni.ipv6?.[0] : eni.ip;
    if (addr === undefined)
      throw new Error(`sample traffic: ${eni.key} has no ${v6 ? 'IPv6' : 'IPv4'} address`);
    return { eni, addr, port };
  }
}

interface Profile {
  readonly name: string;
  /** Mean connections per hour at scale 1, before the shape's weight. */
  readonly perHour: number;
  readonly shape: Shape;
  make(c: TrafficContext, start: number): ConnectionPlan[];
}

// ----- builders of the common profile: one request/reply connection per draw -----

/** One ENI (a key) or a list of them to draw from uniformly (repeat a key to weight it). */
type EniChoice = string | readonly string[];
/** A port, or a draw of one. */
type PortChoice = number | ((c: TrafficContext) => number);
/** [packets, bytes] of one direction: a range [min packets, max packets, min size, max size] or a draw. */
type VolumeChoice = readonly [number, number, number, number] | ((c: TrafficContext) => [number, number]);

type ClientChoice = (c: TrafficContext) => Side;
type ServerChoice = (c: TrafficContext, client: Side) => Side;

function chooseEni(c: TrafficContext, choice: EniChoice): EniSpec {
  return typeof choice === 'string' ? c.eni(choice) : c.pickEni(choice);
}

/** A client on an ENI of the inventory, from its ephemeral range. */
const fromEni =
  (choice: EniChoice): ClientChoice =>
  (c) =>
    c.from(chooseEni(c, choice));

/** An internet client from a list or a seeded pool (skewed: a few heavy clients), on an ephemeral port. */
const fromInternet =
  (
    pool: readonly InternetClient[] | 'webV4' | 'webV6',
    pick: 'uniform' | 'skewed' = 'uniform',
  ): ClientChoice =>
  (c) => {
    const clients = typeof pool === 'string' ? c.pools[pool] : pool;
    const client = pick === 'skewed' ? c.rng.pickSkewed(clients) : c.rng.pick(clients);
    return { addr: client.addr, port: c.ephemeral(client.os) };
  };

/** One of the two customer gateways (the HQ one with probability `hqShare`), from a fixed port. */
const fromCustomerGateway =
  (hqShare: number, port: number): ClientChoice =>
  (c) => ({ addr: c.rng.chance(hqShare) ? CUSTOMER_GATEWAYS.hq : CUSTOMER_GATEWAYS.dr, port });

/** A server on an ENI of the inventory (its IPv6 address if `v6`). */
const toEni =
  (choice: EniChoice, port: PortChoice, v6 = false): ServerChoice =>
  (c) => {
    const eni = chooseEni(c, choice);
    return c.to(eni, typeof port === 'number' ? port : port(c), v6);
  };

/** The server of a pair that sits in the client's AZ (clients stay in their AZ, as AWS recommends). */
const toSameAz =
  (byAz: { readonly a: string; readonly c: string }, port: number): ServerChoice =>
  (c, client) => {
    if (client.eni === undefined) throw new Error('sample traffic: a same-AZ server needs a client ENI');
    return c.to(c.eni(byAz[subnetSpec(client.eni.subnet).az]), port);
  };

/** A server outside the inventory: one address, or a list to draw from. */
const toAddress =
  (addrs: string | readonly string[], port: number): ServerChoice =>
  (c) => ({ addr: typeof addrs === 'string' ? addrs : c.rng.pick(addrs), port });

/** One packet of `minBytes`-`maxBytes` (a DNS query or answer). */
const onePacket =
  (minBytes: number, maxBytes: number) =>
  (c: TrafficContext): [number, number] => [1, c.rng.int(minBytes, maxBytes)];

interface ExchangeSpec {
  readonly name: string;
  readonly perHour: number;
  readonly shape: Shape;
  /** TCP unless said. */
  readonly protocol?: number;
  readonly client: ClientChoice;
  readonly server: ServerChoice;
  /** [min, max) seconds. */
  readonly duration: readonly [number, number];
  readonly request: VolumeChoice;
  readonly reply: VolumeChoice;
  /** The NAT gateway ENI the connection leaves through (it picks its own source port). */
  readonly nat?: string;
  /** Transit gateway attachment ENIs on the path, client side first. */
  readonly transit?: readonly string[];
}

/** A connection's ends and timing, as a profile draws them (TCP unless said). */
type ConnectionEnds = Pick<ConnectionPlan, 'client' | 'server' | 'start' | 'duration'> & {
  readonly protocol?: number;
};

/** A connection whose volumes are drawn after its ends and timing: request first, then reply. */
function connection(
  c: TrafficContext,
  ends: ConnectionEnds,
  request: VolumeChoice,
  reply: VolumeChoice,
): ConnectionPlan {
  const volume = (choice: VolumeChoice): [number, number] =>
    typeof choice === 'function' ? choice(c) : c.volume(...choice);
  return { ...ends, protocol: ends.protocol ?? TCP, request: volume(request), reply: volume(reply) };
}

/**
 * A profile of one request/reply connection per draw. The seeded draws keep one order — client,
 * server, duration, request, reply, NAT port — so the same seed gives the same traffic.
 */
function exchange(spec: ExchangeSpec): Profile {
  return {
    name: spec.name,
    perHour: spec.perHour,
    shape: spec.shape,
    make: (c, start) => {
      const client = spec.client(c);
      const server = spec.server(c, client);
      const duration = c.rng.between(...spec.duration);
      const plan = connection(
        c,
        { protocol: spec.protocol, client, server, start, duration },
        spec.request,
        spec.reply,
      );
      const nat = spec.nat === undefined ? {} : { nat: c.eni(spec.nat), natPort: c.ephemeral('any') };
      const transit = spec.transit === undefined ? {} : { transit: spec.transit.map((key) => c.eni(key)) };
      return [{ ...plan, ...nat, ...transit }];
    },
  };
}

const APP_SERVERS = ['app-1', 'app-2', 'app-3'];
const ALBS = ['alb-a', 'alb-c'];
const ECS_TASKS = ['ecs-task-1', 'ecs-task-2'];
const LAMBDAS = ['lambda-a', 'lambda-c'];
const EKS_CONTROL_PLANE = ['eks-cp-a', 'eks-cp-c'];
const WORKERS = ['worker-1', 'worker-2'];

/** Who reaches the internet through the NAT gateway: app servers half the time, then tasks, functions … */
function natClient(c: TrafficContext): Side {
  const roll = c.rng.next();
  const eni =
    roll < 0.5
      ? c.pickEni(APP_SERVERS)
      : roll < 0.7
        ? c.pickEni(ECS_TASKS)
        : roll < 0.88
          ? c.pickEni(LAMBDAS)
          : roll < 0.94
            ? c.eni('legacy-cron')
            : c.eni('eks-branch');
  return c.from(eni);
}

const PROFILES: readonly Profile[] = [
  exchange({
    name: 'web clients -> ALB 443',
    perHour: 9,
    shape: 'web',
    client: fromInternet('webV4', 'skewed'),
    server: toEni(ALBS, 443),
    duration: [0.3, 45],
    request: [8, 40, 90, 160],
    reply: [10, 150, 600, 1400],
  }),
  exchange({
    name: 'web clients -> ALB 80 (redirect)',
    perHour: 1.5,
    shape: 'web',
    client: fromInternet('webV4'),
    server: toEni(ALBS, 80),
    duration: [0.05, 0.5],
    request: [3, 6, 80, 120],
    reply: [3, 5, 100, 200],
  }),
  exchange({
    name: 'IPv6 web clients -> ALB 443',
    perHour: 2,
    shape: 'web',
    client: fromInternet('webV6', 'skewed'),
    server: toEni(ALBS, 443, true),
    duration: [0.3, 40],
    request: [8, 40, 100, 180],
    reply: [10, 150, 600, 1400],
  }),
  exchange({
    name: 'ALB -> app 8080',
    perHour: 3,
    shape: 'web',
    client: fromEni(ALBS),
    server: toEni(APP_SERVERS, 8080),
    duration: [0.5, 50],
    request: [6, 60, 100, 400],
    reply: [6, 120, 500, 1400],
  }),
  exchange({
    name: 'ALB -> ECS 9000',
    perHour: 1.2,
    shape: 'web',
    client: fromEni(ALBS),
    server: toEni(ECS_TASKS, 9000),
    duration: [0.5, 40],
    request: [6, 40, 100, 400],
    reply: [6, 80, 500, 1400],
  }),
  exchange({
    name: 'API Gateway VPC link -> ALB 443',
    perHour: 0.8,
    shape: 'business',
    client: fromEni('apigw'),
    server: toEni(ALBS, 443),
    duration: [0.2, 20],
    request: [6, 30, 100, 500],
    reply: [6, 60, 500, 1400],
  }),
  exchange({
    name: 'app pools -> RDS 5432',
    perHour: 0.25,
    shape: 'flat',
    client: fromEni(APP_SERVERS),
    server: toEni('rds-primary', 5432),
    duration: [300, 1500],
    request: [300, 3000, 80, 300],
    reply: [300, 4000, 200, 1200],
  }),
  exchange({
    name: 'Lambda -> RDS 5432',
    perHour: 0.8,
    shape: 'business',
    client: fromEni(LAMBDAS),
    server: toEni('rds-primary', 5432),
    duration: [0.2, 3],
    request: [8, 30, 80, 300],
    reply: [8, 40, 200, 1200],
  }),
  exchange({
    name: 'app -> Redis 6379',
    perHour: 1.4,
    shape: 'web',
    client: fromEni(APP_SERVERS),
    server: toEni(['redis-1', 'redis-2'], 6379),
    duration: [0.5, 90],
    request: [10, 200, 60, 200],
    reply: [10, 200, 60, 600],
  }),
  exchange({
    name: 'app -> EFS 2049 (same AZ)',
    perHour: 0.12,
    shape: 'flat',
    // EFS mounts use noresvport (AWS's recommendation): an ephemeral client port.
    client: fromEni(APP_SERVERS),
    server: toSameAz({ a: 'efs-a', c: 'efs-c' }, 2049),
    duration: [300, 900],
    request: [200, 2000, 100, 1400],
    reply: [200, 2000, 100, 1400],
  }),
  exchange({
    name: 'app/Lambda -> interface endpoint 443',
    perHour: 1,
    shape: 'business',
    client: fromEni([...APP_SERVERS, ...LAMBDAS]),
    server: toSameAz({ a: 'vpce-a', c: 'vpce-c' }, 443),
    duration: [0.1, 5],
    request: [8, 20, 100, 400],
    reply: [8, 20, 200, 1200],
  }),
  exchange({
    name: 'private clients -> internet 443 via NAT',
    perHour: 1.6,
    shape: 'business',
    client: natClient,
    server: toAddress(INTERNET_APIS, 443),
    duration: [0.2, 15],
    request: [8, 40, 100, 500],
    reply: [8, 60, 300, 1400],
    nat: 'nat-a',
  }),
  exchange({
    name: 'Lambda/ingest -> S3 443 (gateway endpoint)',
    perHour: 1,
    shape: 'business',
    client: fromEni([...LAMBDAS, 'ingest-1', 'ingest-2']),
    server: toAddress(S3_ADDRESSES, 443),
    duration: [0.2, 8],
    request: [10, 200, 400, 1400],
    reply: [8, 60, 80, 400],
  }),
  {
    name: 'ingest clients -> NLB -> ingest workers',
    perHour: 1.4,
    shape: 'flat',
    make: (c, start) => {
      const client = c.rng.pick(INGEST_CLIENTS);
      const port = c.rng.pick(INGEST_PORTS);
      const nlb = c.pickEni(['nlb-a', 'nlb-c']);
      const duration = c.rng.between(1, 40);
      return [
        connection(
          c,
          {
            client: { addr: client.addr, port: c.ephemeral(client.os) },
            server: c.to(nlb, port),
            start,
            duration,
          },
          INGEST_REQUEST,
          INGEST_REPLY,
        ),
        connection(
          c,
          {
            client: c.from(nlb),
            server: c.to(c.pickEni(['ingest-1', 'ingest-2']), port),
            start: start + 0.01,
            duration,
          },
          INGEST_REQUEST,
          INGEST_REPLY,
        ),
      ];
    },
  },
  {
    name: 'admins -> bastion SSH (-> app SSH)',
    perHour: 0.09,
    shape: 'office',
    make: (c, start) => {
      const admin = c.rng.pick(ADMIN_IPS);
      const duration = c.rng.between(300, 2400);
      const plans = [
        connection(
          c,
          {
            client: { addr: admin.addr, port: c.ephemeral(admin.os) },
            server: c.to(c.eni('bastion'), 22),
            start,
            duration,
          },
          [200, 3000, 60, 140],
          [200, 4000, 60, 400],
        ),
      ];
      if (c.rng.chance(0.7)) {
        const offset = c.rng.between(30, 120);
        const hop: ConnectionEnds = {
          client: c.from(c.eni('bastion')),
          server: c.to(c.pickEni(APP_SERVERS), 22),
          start: start + offset,
          duration: Math.max(10, duration - offset - c.rng.between(5, 60)),
        };
        plans.push(connection(c, hop, [100, 2000, 60, 140], [100, 3000, 60, 400]));
      }
      return plans;
    },
  },
  {
    name: 'bastion -> app ICMP echo',
    perHour: 0.15,
    shape: 'office',
    make: (c, start) => {
      const count = c.rng.int(3, 8);
      return [
        {
          protocol: ICMP,
          client: { eni: c.eni('bastion'), addr: c.eni('bastion').ip, port: 0 },
          server: c.to(c.pickEni(APP_SERVERS), 0),
          start,
          duration: count,
          request: [count, count * 84],
          reply: [count, count * 84],
        },
      ];
    },
  },
  exchange({
    name: 'bastion/VPN -> package mirrors 443',
    perHour: 0.2,
    shape: 'flat',
    client: fromEni(['bastion', 'bastion', 'vpn']),
    server: toAddress(PACKAGE_MIRRORS, 443),
    duration: [1, 30],
    request: [20, 200, 60, 120],
    reply: [40, 2000, 900, 1400],
  }),
  {
    name: 'customer gateways <-> VPN ESP',
    perHour: 0.3,
    shape: 'business',
    make: (c, start) => {
      const duration = c.rng.between(120, 420);
      return [
        {
          protocol: ESP,
          client: fromCustomerGateway(0.75, 0)(c),
          server: c.to(c.eni('vpn'), 0),
          start,
          duration,
          request: c.volume(Math.round(duration * 5), Math.round(duration * 40), 150, 1300),
          reply: c.volume(Math.round(duration * 5), Math.round(duration * 40), 150, 1300),
        },
      ];
    },
  },
  exchange({
    name: 'customer gateways -> VPN IKE udp 500',
    perHour: 0.35,
    shape: 'flat',
    protocol: UDP,
    client: fromCustomerGateway(0.6, 500),
    server: toEni('vpn', 500),
    duration: [0.3, 2],
    request: [2, 6, 200, 600],
    reply: [2, 6, 200, 600],
  }),
  exchange({
    name: 'EKS node -> control plane 443',
    perHour: 0.25,
    shape: 'flat',
    client: fromEni('eks-node-1'),
    server: toEni(EKS_CONTROL_PLANE, 443),
    duration: [60, 480],
    request: [50, 400, 100, 400],
    reply: [50, 600, 200, 1400],
  }),
  exchange({
    name: 'EKS control plane -> kubelet 10250',
    perHour: 0.5,
    shape: 'flat',
    client: fromEni(EKS_CONTROL_PLANE),
    server: toEni('eks-node-1', 10250),
    duration: [0.5, 20],
    request: [6, 30, 100, 300],
    reply: [6, 60, 200, 1400],
  }),
  exchange({
    name: 'DNS queries -> forwarder udp 53 (transit gateway)',
    perHour: 1.3,
    shape: 'business',
    protocol: UDP,
    client: fromEni([...APP_SERVERS, 'eks-node-1']),
    server: toEni('dns', 53),
    duration: [0.002, 0.04],
    request: onePacket(60, 90),
    reply: onePacket(90, 320),
    transit: ['tgw-prod', 'tgw-shared'],
  }),
  exchange({
    name: 'forwarder -> on-prem DNS udp 53',
    perHour: 0.7,
    shape: 'business',
    protocol: UDP,
    client: fromEni('dns'),
    server: toAddress(ON_PREM_DNS, 53),
    duration: [0.005, 0.08],
    request: onePacket(60, 90),
    reply: onePacket(90, 320),
    transit: ['tgw-shared'],
  }),
  exchange({
    name: 'monitoring -> app node exporter 9100 (transit gateway)',
    perHour: 0.8,
    shape: 'flat',
    client: fromEni('monitoring'),
    server: toEni(APP_SERVERS, 9100),
    duration: [0.05, 0.4],
    request: [5, 8, 80, 200],
    reply: [6, 20, 600, 1400],
    transit: ['tgw-shared', 'tgw-prod'],
  }),
  exchange({
    name: 'batch schedulers -> workers 20100-20139',
    perHour: 1.6,
    shape: 'business',
    client: fromEni(['scheduler-1', 'scheduler-2', 'scheduler-3']),
    server: toEni(WORKERS, (c) => c.rng.int(BATCH_PORTS.from, BATCH_PORTS.to)),
    duration: [0.5, 50],
    request: [6, 60, 100, 600],
    reply: [6, 60, 100, 1200],
  }),
  exchange({
    name: 'workers -> analytics MySQL 3306 (Parquet log)',
    perHour: 0.9,
    shape: 'business',
    client: fromEni(WORKERS),
    server: toEni('analytics-db', 3306),
    duration: [5, 240],
    request: [20, 400, 80, 300],
    reply: [20, 800, 200, 1400],
  }),
  exchange({
    name: 'office -> monitoring 443/3000',
    perHour: 0.35,
    shape: 'office',
    client: fromInternet(OFFICE_USERS),
    server: toEni('monitoring', (c) => (c.rng.chance(0.65) ? 443 : 3000)),
    duration: [1, 50],
    request: [10, 80, 100, 500],
    reply: [10, 200, 500, 1400],
  }),
  exchange({
    name: 'office -> ops Windows RDP 3389',
    perHour: 0.1,
    shape: 'office',
    client: fromInternet(RDP_USERS),
    server: toEni('ops-win', 3389),
    duration: [300, 1800],
    request: [500, 5000, 60, 200],
    reply: [500, 8000, 200, 1400],
  }),
  exchange({
    name: 'ops Windows -> Windows Update 443',
    perHour: 0.2,
    shape: 'flat',
    client: fromEni('ops-win'),
    server: toAddress(WINDOWS_UPDATE, 443),
    duration: [1, 40],
    request: [10, 100, 60, 200],
    reply: [20, 800, 900, 1400],
  }),
  {
    name: 'internet scans (REJECT)',
    perHour: 4,
    shape: 'flat',
    make: (c, start) => {
      const target = weightedPick(c.rng, SCAN_TARGETS);
      const eni = c.eni(target.eni);
      const choices = [
        ...target.tcp.map((port) => ({ protocol: TCP, port })),
        ...target.udp.map((port) => ({ protocol: UDP, port })),
        ...(target.icmp ? [{ protocol: ICMP, port: 0 }] : []),
      ];
      const probe = c.rng.pick(choices);
      const scanner = target.v6 ? c.rng.pick(c.pools.scannersV6) : c.rng.pick(c.pools.scannersV4);
      const packets = c.rng.int(1, 2);
      return [
        {
          protocol: probe.protocol,
          client: {
            addr: scanner,
            port: probe.protocol === ICMP ? 0 : c.rng.chance(0.3) ? 54321 : c.ephemeral('any'),
          },
          server: c.to(eni, probe.port, target.v6 === true),
          start,
          duration: packets === 1 ? 0 : c.rng.between(1, 3),
          request: [packets, packets * (target.v6 ? 80 : 60)],
          action: 'REJECT',
        },
      ];
    },
  },
];

// ----- scenarios of the traffic views (rejected connections, egress destinations) -----

/** Redis nodes the app servers use; the Lambda functions now try them too, and their SG refuses it. */
const REDIS_NODES = ['redis-1', 'redis-2'];
/** An address outside every allow-listed network that the checkout tasks started uploading to. */
export const UNEXPECTED_DESTINATION = '45.139.122.9';
/** GitHub's SSH endpoint: git over SSH, the seed guidance's example of an expected admin port. */
export const GIT_SSH_DESTINATION = '140.82.121.3';

/** A request refused where it starts: SYN retries from one port, no reply, only the client's ENI records it. */
function refusedAttempt(c: TrafficContext, client: Side, server: Side, start: number): ConnectionPlan {
  const retries = c.rng.int(2, 5);
  return {
    protocol: TCP,
    client,
    server,
    start,
    // Linux retries after 1, 3, 7, 15, 31 s: the last SYN may fall in the next interval.
    duration: 2 ** (retries + 1) - 1,
    request: [retries + 1, (retries + 1) * 60],
    action: 'REJECT',
    refusedAtClient: true,
  };
}

/**
 * What the sample's traffic views must find, drawn from a random stream of their own so the rest
 * of the traffic stays byte-identical: a blocked internal connection (Lambda → Redis, refused by
 * the functions' own egress rules although Redis serves 6379 to the app servers), a NACL-blocked
 * one (the orders DB's exports to S3, admitted by its SG, refused by the data subnets' NACL), an
 * unexpected egress destination and an allow-listed admin port (git over SSH).
 */
const SCENARIO_PROFILES: readonly Profile[] = [
  {
    name: 'Lambda -> Redis 6379 (refused by prod-lambda-sg egress)',
    perHour: 0.5,
    shape: 'business',
    make: (c, start) => [
      refusedAttempt(c, c.from(c.pickEni(LAMBDAS)), c.to(c.pickEni(REDIS_NODES), 6379), start),
    ],
  },
  {
    name: 'orders DB -> S3 443 exports (refused by the data subnets NACL)',
    perHour: 0.2,
    shape: 'flat',
    make: (c, start) => [
      refusedAttempt(c, c.from(c.eni('rds-primary')), { addr: c.rng.pick(S3_ADDRESSES), port: 443 }, start),
    ],
  },
  exchange({
    name: 'checkout tasks -> unexpected 45.139.122.9 443 via NAT',
    perHour: 0.25,
    shape: 'business',
    client: fromEni(ECS_TASKS),
    server: toAddress(UNEXPECTED_DESTINATION, 443),
    duration: [1, 30],
    request: [20, 400, 600, 1400],
    reply: [10, 60, 60, 200],
    nat: 'nat-a',
  }),
  exchange({
    name: 'legacy cron -> GitHub SSH 22 via NAT (allow-listed)',
    perHour: 0.1,
    shape: 'flat',
    client: fromEni('legacy-cron'),
    server: toAddress(GIT_SSH_DESTINATION, 22),
    duration: [2, 20],
    request: [20, 80, 60, 200],
    reply: [40, 400, 400, 1400],
    nat: 'nat-a',
  }),
];

/**
 * The packet-level scenario, from a random stream of its own (the rest stays byte-identical): a
 * container on the monitoring instance's secondary address keeps its alert state in DynamoDB.
 * The instance's records write its primary address in srcaddr/dstaddr and the container's in
 * pkt-srcaddr / pkt-dstaddr, and the shared app subnet's format names DynamoDB in pkt-*-aws-service.
 */
const PACKET_SCENARIO_PROFILES: readonly Profile[] = [
  exchange({
    name: 'monitoring container (secondary IP) -> DynamoDB 443 (gateway endpoint)',
    perHour: 0.3,
    shape: 'flat',
    client: (c) => ({
      ...c.from(c.eni('monitoring')),
      addr: CONTAINER_IP,
      interfaceAddr: c.eni('monitoring').ip,
    }),
    server: toAddress(DYNAMODB_ADDRESSES, 443),
    duration: [0.2, 6],
    request: [6, 30, 200, 900],
    reply: [6, 30, 120, 600],
  }),
];

/** The scenario sets, each drawn from a random stream of its own (`<seed>/<stream>`), in this order. */
export const SCENARIO_SETS = [
  { stream: 'scenarios', profiles: SCENARIO_PROFILES },
  { stream: 'packet-scenarios', profiles: PACKET_SCENARIO_PROFILES },
] as const;

/**
 * The connections of one scenario set in one hour, from the set's own random stream.
 *
 * @example generateScenarioHour(SCENARIO_SETS[0], 0, 1, new SeededRandom('sg-audit-sample-2026/scenarios'), pools, writer)
 */
export function generateScenarioHour(
  set: (typeof SCENARIO_SETS)[number],
  hour: number,
  scale: number,
  rng: SeededRandom,
  pools: TrafficPools,
  sink: RecordSink,
): void {
  emitProfiles(set.profiles, hour, scale, new TrafficContext(rng, pools), sink);
}

/** ENIs that sit idle and log NODATA, and where SKIPDATA happens (hour offsets in the window). */
const NODATA_ENIS: readonly { eni: string; everyHours: number }[] = [
  { eni: 'rds-standby', everyHours: 1 },
  { eni: 'eks-trunk', everyHours: 1 },
  { eni: 'analytics-db', everyHours: 3 },
  { eni: 'ops-win', everyHours: 1 },
  { eni: 'tgw-shared', everyHours: 8 },
];
const SKIPDATA: readonly { eni: string; hour: number }[] = [
  { eni: 'app-1', hour: 42 },
  { eni: 'app-1', hour: 43 },
  { eni: 'worker-1', hour: 100 },
  { eni: 'analytics-db', hour: 60 },
];

/** Multiplies every profile's rate: tuned so that scale 1 gives about 36,000 records. */
const VOLUME_CALIBRATION = 1.31;

/** The connections the profiles draw for one hour of the window, fed to the sink. */
function emitProfiles(
  profiles: readonly Profile[],
  hour: number,
  scale: number,
  context: TrafficContext,
  sink: RecordSink,
): void {
  const { rng } = context;
  const hourStart = WINDOW_START + hour * 3600;
  const latestEnd = WINDOW_END - 30;
  for (const profile of profiles) {
    const count = rng.count(
      profile.perHour * VOLUME_CALIBRATION * shapeWeight(profile.shape, hourStart) * scale,
    );
    for (let i = 0; i < count; i++) {
      const start = hourStart + rng.between(0, 3600);
      for (const plan of profile.make(context, start)) {
        const duration = Math.min(plan.duration, latestEnd - plan.start);
        if (duration < 0) continue;
        emitConnection({ ...plan, duration }, sink);
      }
    }
  }
}

/** Connections and status records of one hour of the window, fed to the sink. */
export function generateHour(
  hour: number,
  scale: number,
  rng: SeededRandom,
  pools: TrafficPools,
  sink: RecordSink,
): void {
  const hourStart = WINDOW_START + hour * 3600;
  emitProfiles(PROFILES, hour, scale, new TrafficContext(rng, pools), sink);
  for (const idle of NODATA_ENIS) {
    if (hour % idle.everyHours !== 0) continue;
    const eni = eniSpec(idle.eni);
    const agg = aggregationSeconds(eni) ?? 600;
    const windowStart = hourStart + Math.floor(rng.between(0, 3600 - agg) / agg) * agg;
    sink.add({ eni, start: windowStart + rng.int(0, 5), end: windowStart + agg, logStatus: 'NODATA' });
  }
  for (const skip of SKIPDATA) {
    if (skip.hour !== hour) continue;
    const eni = eniSpec(skip.eni);
    const agg = aggregationSeconds(eni) ?? 600;
    const windowStart = hourStart + 1200;
    sink.add({ eni, start: windowStart, end: windowStart + agg, logStatus: 'SKIPDATA' });
  }
}
