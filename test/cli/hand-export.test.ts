/**
 * The offline audit on an export directory written by hand (AWS CLI JSON + S3 flow-log objects
 * the tests did not generate): the CSVs must follow the contract exactly, columns and values.
 * Expected values come from test/fixtures/hand-export/README.md, worked out by hand. The export
 * holds ten minutes of flow logs, so the audited window is those minutes (--days 0.01): over the
 * default week six days would be unproven, and no rule could be called unused (last test).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../cli/main';

const HAND_EXPORT = path.join(__dirname, '../fixtures/hand-export');
const sink = { write: () => true };

let out: string;
const csv = (name: string) => readFileSync(path.join(out, name), 'utf8').trimEnd().split('\r\n');

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-hand-'));
  const code = await main(
    ['audit', '--input', HAND_EXPORT, '--out', out, '--format', 'csv,json', '--days', '0.01', '-q'],
    { version: 'test', stdout: sink, stderr: sink },
  );
  expect(code).toBe(0);
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('offline audit of the hand-written export', () => {
  it('writes rules.csv with one row per rule entry, status, verdict and traffic evidence', () => {
    // Act
    const rows = csv('rules.csv');
    // Assess
    expect(rows).toEqual([
      'sg_id,sg_name,vpc_id,direction,protocol,from_port,to_port,peer,status,verdict,connections,bytes,distinct_peers,first_seen,last_seen,coverage,changed_by,changed_at,change_source',
      'sg-0a11b22c33d44e551,shop-alb-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,443,443,0.0.0.0/0,used,keep,4,38666,3,2025-06-02T10:00:12Z,2025-06-02T10:06:45Z,full,,,',
      'sg-0a11b22c33d44e551,shop-alb-sg,vpc-0a1b2c3d4e5f60718,egress,tcp,8080,8080,sg-0a11b22c33d44e552,used,keep,3,24496,2,2025-06-02T10:00:13Z,2025-06-02T10:06:44Z,full,,,',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,8080,8080,sg-0a11b22c33d44e551,used,keep,3,24496,2,2025-06-02T10:00:13Z,2025-06-02T10:06:44Z,full,,,',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,22,22,0.0.0.0/0,used,narrow,1,27540,1,2025-06-02T10:02:40Z,2025-06-02T10:05:31Z,full,,,',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,egress,-1,,,0.0.0.0/0,used,narrow,3,25477,2,2025-06-02T10:00:14Z,2025-06-02T10:05:46Z,full,,,',
      'sg-0a11b22c33d44e553,shop-db-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,3306,3306,10.99.0.0/16,unused,remove,0,0,0,,,full,,,',
      'sg-0a11b22c33d44e553,shop-db-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,3306,3306,sg-0a11b22c33d44e552,used,keep,2,5607,2,2025-06-02T10:00:14Z,2025-06-02T10:05:16Z,full,,,',
      'sg-0a11b22c33d44e554,default,vpc-0a1b2c3d4e5f60718,ingress,-1,,,sg-0a11b22c33d44e554,unknown,review,0,0,0,,,no-enis,,,',
      'sg-0a11b22c33d44e554,default,vpc-0a1b2c3d4e5f60718,egress,-1,,,0.0.0.0/0,unknown,review,0,0,0,,,no-enis,,,',
    ]);
  });

  it('recommends only observed services and peers, never a client port or a reply', () => {
    // Act
    const rows = csv('recommendations.csv');
    // Assess
    // (the fix column, AWS CLI commands, is checked below; here each row's action)
    expect(rows.map((row) => row.replace(/,(add|keep|remove),.*$/, ',$1'))).toEqual([
      'sg_id,sg_name,vpc_id,direction,protocol,from_port,to_port,peer,connections,distinct_peers,basis,text,action,fix',
      // The ALB's public HTTPS is its purpose: kept as written, not narrowed to this week's clients.
      'sg-0a11b22c33d44e551,shop-alb-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,443,443,0.0.0.0/0,4,3,observed,- allow tcp port 443 from 0.0.0.0/0,keep',
      'sg-0a11b22c33d44e551,shop-alb-sg,vpc-0a1b2c3d4e5f60718,egress,tcp,8080,8080,sg-0a11b22c33d44e552,3,2,observed,- allow tcp port 8080 to sg-0a11b22c33d44e552,keep',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,22,22,198.51.100.23/32,1,1,observed,- allow tcp port 22 from 198.51.100.23,add',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,8080,8080,sg-0a11b22c33d44e551,3,2,observed,- allow tcp port 8080 from sg-0a11b22c33d44e551,keep',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,egress,tcp,443,443,93.184.216.34/32,1,1,observed,- allow tcp port 443 to 93.184.216.34,add',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,egress,tcp,3306,3306,10.20.10.50/32,2,1,observed,- allow tcp port 3306 to 10.20.10.50,add',
      // After each SG's entries, the rules they leave out: replaced (narrow) or unused (remove).
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,22,22,0.0.0.0/0,1,1,,- remove tcp port 22 from 0.0.0.0/0,remove',
      'sg-0a11b22c33d44e552,shop-app-sg,vpc-0a1b2c3d4e5f60718,egress,-1,,,0.0.0.0/0,3,2,,- remove all traffic to 0.0.0.0/0,remove',
      'sg-0a11b22c33d44e553,shop-db-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,3306,3306,sg-0a11b22c33d44e552,2,2,observed,- allow tcp port 3306 from sg-0a11b22c33d44e552,keep',
      'sg-0a11b22c33d44e553,shop-db-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,3306,3306,10.99.0.0/16,0,0,,- remove tcp port 3306 from 10.99.0.0/16,remove',
    ]);
    expect(rows.find((r) => r.includes(',add,'))).toMatch(
      /,add,"aws ec2 authorize-security-group-ingress --group-id sg-0a11b22c33d44e552 --ip-permissions '\[\{""IpProtocol"":""tcp"",""FromPort"":22,/,
    );
    expect(rows.find((r) => r.includes(',keep,'))).toMatch(/,keep,$/);
  });

  it('classifies every ENI, including the NAT gateway that carries no SG, with its coverage', () => {
    // Act
    const rows = csv('resources.csv');
    // Assess
    expect(rows).toEqual([
      'eni_id,sg_ids,resource_type,resource_id,resource_name,private_ips,vpc_id,subnet_id,flow_log_coverage',
      'eni-0f1e2d3c4b5a69781,sg-0a11b22c33d44e551,elb,app/shop-alb/7d2c9e8f1a3b5c40,shop-alb,10.20.0.15,vpc-0a1b2c3d4e5f60718,subnet-01a2b3c4d5e6f7a81,full',
      'eni-0f1e2d3c4b5a69782,sg-0a11b22c33d44e551,elb,app/shop-alb/7d2c9e8f1a3b5c40,shop-alb,10.20.1.15,vpc-0a1b2c3d4e5f60718,subnet-01a2b3c4d5e6f7a82,full',
      'eni-0f1e2d3c4b5a69783,sg-0a11b22c33d44e552,ec2,i-0123456789abcde01,shop-app-1,10.20.10.21,vpc-0a1b2c3d4e5f60718,subnet-01a2b3c4d5e6f7a83,full',
      'eni-0f1e2d3c4b5a69784,sg-0a11b22c33d44e552,ec2,i-0123456789abcde02,shop-app-2,10.20.11.22,vpc-0a1b2c3d4e5f60718,subnet-01a2b3c4d5e6f7a84,full',
      'eni-0f1e2d3c4b5a69785,sg-0a11b22c33d44e553,rds,eni-0f1e2d3c4b5a69785,eni-0f1e2d3c4b5a69785,10.20.10.50,vpc-0a1b2c3d4e5f60718,subnet-01a2b3c4d5e6f7a83,full',
      'eni-0f1e2d3c4b5a69786,,nat-gateway,nat-0a1b2c3d4e5f67890,nat-0a1b2c3d4e5f67890,10.20.0.200,vpc-0a1b2c3d4e5f60718,subnet-01a2b3c4d5e6f7a81,full',
    ]);
  });

  it('grades the findings as a security engineer expects, with nothing critical on the ALB', () => {
    // Act
    const rows = csv('findings.csv').slice(1);
    const summary = rows.map((row) => {
      const cells = row.split(',');
      return `${cells[8]} ${cells[9]} ${cells[1]} ${cells[3]} ${cells[4]} ${cells[5]} ${cells[7]}`;
    });
    // Assess
    expect(summary).toEqual([
      'sensitive-port-world critical shop-app-sg ingress tcp 22 0.0.0.0/0',
      'unused-rule low shop-db-sg ingress tcp 3306 10.99.0.0/16',
      'default-sg-has-rules low default    ',
      'all-traffic-open low default ingress -1  sg-0a11b22c33d44e554',
      // Within a severity, what a live rule carries comes before what a group refused.
      'world-open-web info shop-alb-sg ingress tcp 443 0.0.0.0/0',
      'egress-all-open info shop-app-sg egress -1  0.0.0.0/0',
      'rejected-probe info shop-alb-sg    ',
      'rejected-probe info shop-app-sg    ',
      'egress-all-open info default egress -1  0.0.0.0/0',
    ]);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.findings[0].controls).toEqual(expect.arrayContaining(['EC2.13', 'EC2.19']));
  });

  it('counts the malformed line with its file and line, and the records of the audited ENIs', () => {
    // Act
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    // Assess: 43 records, less the NAT gateway's 4 (it carries no SG, so it is not queried).
    expect(report.summary.flowRecords).toBe(39);
    expect(report.summary.malformedRecords).toBe(1);
    const sample = report.warnings.find((w: { code: string }) => w.code === 'malformed-records').samples[0];
    expect(sample.file).toMatch(/_20250602T1010Z_8d4e7b61\.log$/);
    expect(sample.line).toBe(16);
  });

  it('over the default week, calls nothing unused on ten minutes of flow logs and names the unproven days', async () => {
    // Prepare
    const week = mkdtempSync(path.join(tmpdir(), 'sg-audit-hand-week-'));
    try {
      // Act
      const code = await main(
        ['audit', '--input', HAND_EXPORT, '--out', week, '--format', 'csv,json', '-q'],
        {
          version: 'test',
          stdout: sink,
          stderr: sink,
        },
      );
      // Assess
      expect(code).toBe(0);
      const rules = readFileSync(path.join(week, 'rules.csv'), 'utf8').trimEnd().split('\r\n');
      expect(rules.filter((r) => r.includes(',unused,'))).toEqual([]);
      expect(rules).toContain(
        'sg-0a11b22c33d44e553,shop-db-sg,vpc-0a1b2c3d4e5f60718,ingress,tcp,3306,3306,10.99.0.0/16,unknown,review,0,0,0,,,partial,,,',
      );
      const report = JSON.parse(readFileSync(path.join(week, 'report.json'), 'utf8'));
      expect(report.delivery.flowLogs).toEqual([
        expect.objectContaining({ flowLogId: 'fl-0a1b2c3d4e5f67890', status: 'gaps' }),
      ]);
      expect(report.warnings[0].message).toMatch(
        /no records from flow log fl-0a1b2c3d4e5f67890 .*2025-05-26 – 2025-06-01/,
      );
    } finally {
      rmSync(week, { recursive: true, force: true });
    }
  });
});
