/**
 * The distinct-peers section (issue 18's open part): the bundled sample account plus N distinct
 * public clients of its internet-facing ALB, each with one request and one reply record, audited
 * in its own process. The scale section keeps the sample's peers and grows the records; this one
 * grows the peers, which the fold and the recommendations hold one by one and `--memory-limit`
 * does not bound yet.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fastest, type Measurement, measureInChild } from '../child';

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

/** Clients per generated file (one delivery file of the ALB's flow log each). */
const CLIENTS_PER_FILE = 100_000;

/**
 * The i-th client: distinct for i below 2^24 (an odd multiplier permutes the low 24 bits), the
 * first octet among 11–99, so never a private, shared or loopback address.
 */
function clientAddress(i: number): string {
  const low = Math.imul(i, 0x9e3779b1) & 0xffffff;
  return `${11 + (i % 89)}.${(low >>> 16) & 255}.${(low >>> 8) & 255}.${low & 255}`;
}

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

/** The sample account with `clients` distinct ALB clients added, generated once per size. */
function ensurePeersAccount(root: string, clients: number): string {
  const dir = path.join(root, 'bench', 'out', `peers-account-${clients}`);
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return dir;
  process.stderr.write(`generating the sample with ${clients} distinct ALB clients into ${dir} …\n`);
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
  for (let file = 0; file * CLIENTS_PER_FILE < clients; file++) {
    const lines = [HEADER, '\n'];
    const last = Math.min(clients, (file + 1) * CLIENTS_PER_FILE);
    for (let i = file * CLIENTS_PER_FILE; i < last; i++) lines.push(clientRecords(i, file));
    const hour = String(file % 24).padStart(2, '0');
    const name = `${ALB.account}_vpcflowlogs_${ALB.region}_${ALB.flowLogId}_${ALB.day.replaceAll('/', '')}T${hour}55Z_bench${String(file).padStart(3, '0')}.log.gz`;
    writeFileSync(path.join(folder, name), gzipSync(lines.join('')));
  }
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function peersSection(root: string, sizes: readonly number[], repeat: number): string {
  const runs = (dir: string): Measurement => {
    const all: Measurement[] = [];
    for (let i = 0; i < repeat; i++) all.push(measureInChild(root, 'audit', dir));
    return fastest(all);
  };
  const base = runs(path.join(root, 'examples', 'sample-account'));
  const rows = [
    `| 0 (the sample) | ${base.records.toLocaleString('en-US')} | ${seconds(base.wallMs)} | ${seconds(base.cpuMs)} | ${base.maxRssMb.toFixed(0)} MiB | — | — |`,
  ];
  const measured: { clients: number; audit: Measurement }[] = [];
  for (const clients of sizes) {
    const audit = runs(ensurePeersAccount(root, clients));
    measured.push({ clients, audit });
    const above = audit.maxRssMb - base.maxRssMb;
    rows.push(
      `| ${clients.toLocaleString('en-US')} | ${audit.records.toLocaleString('en-US')} | ${seconds(audit.wallMs)} | ${seconds(audit.cpuMs)} | ${audit.maxRssMb.toFixed(0)} MiB | ${above.toFixed(0)} MiB | ${((above * 2 ** 20) / clients).toFixed(0)} B |`,
    );
    process.stderr.write(`peers ${clients}: audit ${audit.wallMs} ms (${audit.maxRssMb.toFixed(0)} MiB)\n`);
  }
  const lines: string[] = [];
  const over = measured.filter((m) => m.audit.maxRssMb > 1024);
  lines.push(
    over.length === 0
      ? '- Every size stayed under the 1 GiB setting.'
      : `- Over the 1 GiB setting from ${over[0]?.clients.toLocaleString('en-US')} clients: the fold and the recommendations hold each distinct peer, which \`--memory-limit\` does not bound yet (issue 18 open).`,
  );
  // The two largest sizes, on the CPU time above the sample's alone (fixed costs dominate below).
  const [first, last] = [measured[measured.length - 2], measured[measured.length - 1]];
  if (first && last) {
    const k =
      Math.log((last.audit.cpuMs - base.cpuMs) / (first.audit.cpuMs - base.cpuMs)) /
      Math.log(last.clients / first.clients);
    lines.push(
      `- Growth of the audit's CPU time above the sample's, from ${first.clients.toLocaleString('en-US')} to ${last.clients.toLocaleString('en-US')} clients: exponent ${k.toFixed(2)} (1.0 = linear).`,
    );
  }
  return `## Distinct peers: what --memory-limit does not bound yet (issue 18)

The bundled sample account plus N distinct public IPv4 clients of its internet-facing ALB
(${ALB.eniId}, tcp 443), one request and one reply record each, in files of
${CLIENTS_PER_FILE.toLocaleString('en-US')} clients of its flow log (default format). *Audit* is \`sg-audit audit --input …\`
with every output and the defaults (\`--memory-limit 1GiB --threads 1\`), each size in its own
process, the best of ${repeat} run(s). The fold keeps one connection per peer and service port,
and the SG and NACL recommendations see each peer (the ALB's 443 is kept as a public service on
both); *per client* is the peak RSS above the sample's alone, divided by the clients.

| distinct clients | flow records | audit wall | audit CPU | peak RSS | above the sample | per client |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${lines.join('\n')}
`;
}
