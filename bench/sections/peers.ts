/**
 * The distinct-peers section (what issue 18's bound leaves out): the bundled sample account plus
 * N distinct public peers of its internet-facing ALB — clients it serves (a request and a reply
 * each), or scanners its SGs refuse (one to three REJECT records each) — audited in its own
 * process. The scale section keeps the sample's peers and grows the records; this one grows the
 * peers, which the fold, the recommendations and the rejected view hold one by one and
 * `--memory-limit` does not bound.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fastest, generatedOnce, type Measurement, measureInChild, seconds } from '../child';

/** The sample's ALB ENI serving tcp 443 to the internet, its address and the flow log that records it. */
const ALB = {
  eniId: 'eni-05e533b585d4529e5',
  address: '10.0.0.21',
  account: '123456789012',
  region: 'ap-northeast-2',
  flowLogId: 'fl-0a7922275ab618460',
  bucket: 'acme-central-flowlogs-123456789012',
  day: '2026/11/13',
  /** 2026-11-13 00:04:56 UTC, inside the sample's window. */
  start: 1_794_528_296,
} as const;

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/** Peers per generated file (one delivery file of the ALB's flow log each). */
const PEERS_PER_FILE = 100_000;

/**
 * The i-th client: distinct for i below 2^24 (an odd multiplier permutes the low 24 bits), the
 * first octet among 11–99, so never a private, shared or loopback address.
 */
function clientAddress(i: number): string {
  const low = Math.imul(i, 0x9e3779b1) & 0xffffff;
  return `${11 + (i % 89)}.${(low >>> 16) & 255}.${(low >>> 8) & 255}.${low & 255}`;
}

/** Ports scanners knock on: sensitive ones and a run of alternate web ports (no service listens). */
const SCAN_PORTS: readonly number[] = [
  22, 23, 25, 445, 1433, 3306, 3389, 5900, 6379, 9200, 8080, 8000, 8001, 8081, 8443, 8888,
];

/** What the generated peers do: ALB clients served on 443, or scanners the SGs refuse. */
export type PeerKind = 'clients' | 'scanners';

/** The request and the reply record of the i-th client, 30 s apart per file. */
function clientRecords(i: number, fileIndex: number): string {
  const addr = clientAddress(i);
  const port = 32_768 + (i % 28_000);
  const start = ALB.start + fileIndex * 3600;
  const end = start + 30;
  return (
    `2 ${ALB.account} ${ALB.eniId} ${addr} ${ALB.address} ${port} 443 6 10 1000 ${start} ${end} ACCEPT OK\n` +
    `2 ${ALB.account} ${ALB.eniId} ${ALB.address} ${addr} 443 ${port} 6 10 5000 ${start} ${end} ACCEPT OK\n`
  );
}

/** The refused SYNs of the i-th scanner: one to three ports, each from its own client port. */
function scannerRecords(i: number, fileIndex: number): string {
  const addr = clientAddress(i);
  const start = ALB.start + fileIndex * 3600;
  let lines = '';
  for (let j = 0; j <= i % 3; j++) {
    const port = SCAN_PORTS[(i * 7 + j * 5) % SCAN_PORTS.length] as number;
    const sport = 40_000 + ((i * 31 + j) % 20_000);
    lines += `2 ${ALB.account} ${ALB.eniId} ${addr} ${ALB.address} ${sport} ${port} 6 1 44 ${start} ${start + 30} REJECT OK\n`;
  }
  return lines;
}

/** The sample account with `count` distinct ALB clients or scanners added, generated once per size. */
function ensurePeersAccount(root: string, kind: PeerKind, count: number): string {
  const records = kind === 'clients' ? clientRecords : scannerRecords;
  const dir = path.join(
    root,
    'bench',
    'out',
    kind === 'clients' ? `peers-account-${count}` : `scanners-account-${count}`,
  );
  return generatedOnce(dir, `the sample with ${count} distinct ALB ${kind}`, () => {
    rmSync(dir, { recursive: true, force: true });
    cpSync(path.join(root, 'examples', 'sample-account'), dir, { recursive: true });
    const interfaces = readFileSync(path.join(dir, 'network-interfaces.json'), 'utf8');
    if (!interfaces.includes(ALB.eniId)) throw new Error(`the sample no longer has the ALB ENI ${ALB.eniId}`);
    const folder = path.join(
      dir,
      'flowlogs',
      ALB.bucket,
      'AWSLogs',
      ALB.account,
      'vpcflowlogs',
      ALB.region,
      ...ALB.day.split('/'),
    );
    mkdirSync(folder, { recursive: true });
    for (let file = 0; file * PEERS_PER_FILE < count; file++) {
      const lines = [HEADER, '\n'];
      const last = Math.min(count, (file + 1) * PEERS_PER_FILE);
      for (let i = file * PEERS_PER_FILE; i < last; i++) lines.push(records(i, file));
      const hour = String(file % 24).padStart(2, '0');
      const name = `${ALB.account}_vpcflowlogs_${ALB.region}_${ALB.flowLogId}_${ALB.day.replaceAll('/', '')}T${hour}55Z_bench${String(file).padStart(3, '0')}.log.gz`;
      writeFileSync(path.join(folder, name), gzipSync(lines.join('')));
    }
  });
}

/** One table of the section: the sample alone, then each size of one kind of peers. */
function peerTable(
  root: string,
  kind: PeerKind,
  sizes: readonly number[],
  base: Measurement,
  runs: (dir: string) => Measurement,
): { table: string; verdicts: string[] } {
  const rows = [
    `| 0 (the sample) | ${base.records.toLocaleString('en-US')} | ${seconds(base.wallMs)} | ${seconds(base.cpuMs)} | ${base.maxRssMb.toFixed(0)} MiB | — | — |`,
  ];
  const measured: { count: number; audit: Measurement }[] = [];
  for (const count of sizes) {
    const audit = runs(ensurePeersAccount(root, kind, count));
    measured.push({ count, audit });
    const above = audit.maxRssMb - base.maxRssMb;
    rows.push(
      `| ${count.toLocaleString('en-US')} | ${audit.records.toLocaleString('en-US')} | ${seconds(audit.wallMs)} | ${seconds(audit.cpuMs)} | ${audit.maxRssMb.toFixed(0)} MiB | ${above.toFixed(0)} MiB | ${((above * 2 ** 20) / count).toFixed(0)} B |`,
    );
    process.stderr.write(`${kind} ${count}: audit ${audit.wallMs} ms (${audit.maxRssMb.toFixed(0)} MiB)\n`);
  }
  const verdicts: string[] = [];
  const over = measured.find((m) => m.audit.maxRssMb > 1024);
  verdicts.push(
    over === undefined
      ? `- ${kind}: every size stayed under the 1 GiB setting.`
      : `- ${kind}: over the 1 GiB setting from ${over.count.toLocaleString('en-US')}: the fold and the analyses hold each distinct peer, which \`--memory-limit\` does not bound (the run says so on stderr when it ends).`,
  );
  // The two largest sizes, on the CPU time above the sample's alone (fixed costs dominate below).
  const [first, last] = [measured[measured.length - 2], measured[measured.length - 1]];
  if (first && last) {
    const k =
      Math.log((last.audit.cpuMs - base.cpuMs) / (first.audit.cpuMs - base.cpuMs)) /
      Math.log(last.count / first.count);
    verdicts.push(
      `- ${kind}: growth of the audit's CPU time above the sample's, from ${first.count.toLocaleString('en-US')} to ${last.count.toLocaleString('en-US')}: exponent ${k.toFixed(2)} (1.0 = linear).`,
    );
  }
  const header = `| distinct ${kind} | flow records | audit wall | audit CPU | peak RSS | above the sample | per peer |
| --- | --- | --- | --- | --- | --- | --- |`;
  return { table: `${header}\n${rows.join('\n')}`, verdicts };
}

export function peersSection(
  root: string,
  sizes: { readonly clients: readonly number[]; readonly scanners: readonly number[] },
  repeat: number,
): string {
  const runs = (dir: string): Measurement => {
    const all: Measurement[] = [];
    for (let i = 0; i < repeat; i++) all.push(measureInChild(root, 'audit', dir));
    return fastest(all);
  };
  const base = runs(path.join(root, 'examples', 'sample-account'));
  const clients = peerTable(root, 'clients', sizes.clients, base, runs);
  const scanners = peerTable(root, 'scanners', sizes.scanners, base, runs);
  return `## Distinct peers: what --memory-limit does not bound (issue 18)

The bundled sample account plus N distinct public IPv4 peers of its internet-facing ALB
(${ALB.eniId}), in files of ${PEERS_PER_FILE.toLocaleString('en-US')} peers of its flow log
(default format): *clients* each send one request to tcp 443 and get one reply (accepted, a
public service); *scanners* each knock on one to three of ${SCAN_PORTS.length} ports the SGs refuse
(one REJECT record each, no reply). *Audit* is \`sg-audit audit --input …\` with every output and
the defaults (\`--memory-limit 1GiB --threads 1\`), each size in its own process, the best of
${repeat} run(s). The fold keeps one connection per peer and service port, and usage, the SG and
NACL recommendations and the rejected view see each peer; *per peer* is the peak RSS above the
sample's alone, divided by the peers.

${clients.table}

${scanners.table}

${[...clients.verdicts, ...scanners.verdicts].join('\n')}
`;
}
