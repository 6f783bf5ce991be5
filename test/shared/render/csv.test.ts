import {
  FINDINGS_COLUMNS,
  findingsTable,
  neutraliseFormula,
  RECOMMENDATIONS_COLUMNS,
  RESOURCES_COLUMNS,
  RULES_COLUMNS,
  recommendationsTable,
  renderCsv,
  reportTables,
  resourcesTable,
  rulesTable,
} from '../../../shared/render/csv';
import type { AuditReport } from '../../../shared/report/model';
import {
  ALICE,
  SG_APP,
  SG_BATCH,
  SG_DB,
  SG_WEB,
  sampleReport,
  withSgName,
} from '../../fixtures/report-fixture';

/** A strict RFC 4180 reader for assertions: CRLF records, double-quote escaping. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i += 1;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 1;
    } else field += c;
    i += 1;
  }
  if (field !== '' || record.length > 0) throw new Error('CSV does not end with CRLF');
  return records;
}

function rowsOf(csv: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(csv);
  return rows.map((row) => Object.fromEntries((header ?? []).map((column, i) => [column, row[i] ?? ''])));
}

/** The columns naming prod-app-servers' world-open SSH rule, in the rules and the findings table. */
/** Who opened the app tier's SSH rule, in the contract's three columns. */
const ALICE_OPENED_SSH = {
  changed_by: ALICE,
  changed_at: '2025-11-03T09:12:44Z',
  change_source: 'console',
};

const APP_SSH_RULE_COLUMNS = {
  sg_id: SG_APP,
  sg_name: 'prod-app-servers',
  vpc_id: 'vpc-0a1b2c3d4e5f60001',
  direction: 'ingress',
  protocol: 'tcp',
  from_port: '22',
  to_port: '22',
  peer: '0.0.0.0/0',
};

function emptyReport(): AuditReport {
  return { ...sampleReport(), findings: [], securityGroups: [], resources: [] };
}

describe('renderCsv', () => {
  it('writes the exact contract header lines', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const headers = reportTables(report).map((table) => renderCsv(table).split('\r\n')[0]);

    // Assess
    expect(headers).toEqual([
      'sg_id,sg_name,vpc_id,direction,protocol,from_port,to_port,peer,check,severity,reason,resources,evidence,account_id,region,controls,fix,changed_by,changed_at,change_source',
      'sg_id,sg_name,vpc_id,direction,protocol,from_port,to_port,peer,status,verdict,connections,bytes,distinct_peers,first_seen,last_seen,coverage,changed_by,changed_at,change_source',
      'sg_id,sg_name,vpc_id,direction,protocol,from_port,to_port,peer,connections,distinct_peers,basis,text,action,fix',
      'eni_id,sg_ids,resource_type,resource_id,resource_name,private_ips,vpc_id,subnet_id,flow_log_coverage',
      'flow_log_id,resource_id,status,bucket_start,records,proven,expected',
      'sg_id,eni_id,direction,protocol,port,peer,connections,first_seen,last_seen,class',
      'sg_id,destination,protocol,port,connections,bytes,expected',
    ]);
  });

  it('writes the header row with CRLF and no BOM when a table has no rows', () => {
    // Prepare
    const report = emptyReport();

    // Act
    const files = reportTables(report).map(renderCsv);

    // Assess
    expect(files.map((csv) => csv.split('\r\n').length)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    for (const csv of files) {
      expect(csv.endsWith('\r\n')).toBe(true);
      expect(csv.charCodeAt(0)).not.toBe(0xfeff);
      expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    }
  });

  it('quotes commas, quotes and line breaks per RFC 4180', () => {
    // Prepare
    const report = withSgName(sampleReport(), SG_WEB, 'web, "public"\nALB');

    // Act
    const csv = renderCsv(rulesTable(report));

    // Assess
    expect(csv.split('\r\n')[1]).toMatch(/^sg-0a11c0ffee0000001,"web, ""public""\nALB",/);
    expect(rowsOf(csv)[0]?.sg_name).toBe('web, "public"\nALB');
  });
});

describe('rulesTable', () => {
  it('writes one row per rule entry of every SG', () => {
    // Prepare
    const report = sampleReport();
    const entries = report.securityGroups.reduce((n, sg) => n + sg.rules.length, 0);

    // Act
    const rows = rowsOf(renderCsv(rulesTable(report)));

    // Assess
    expect(rows).toHaveLength(entries);
    expect(rows).toHaveLength(report.summary.ruleEntries);
    expect(Object.keys(rows[0] ?? {})).toEqual([...RULES_COLUMNS]);
  });

  it('writes usage, verdict and ISO 8601 UTC timestamps of a used rule', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(rulesTable(report)));

    // Assess
    expect(rows.find((r) => r.sg_id === SG_APP && r.from_port === '22')).toEqual({
      ...APP_SSH_RULE_COLUMNS,
      status: 'used',
      verdict: 'narrow',
      connections: '14',
      bytes: '18400000',
      distinct_peers: '3',
      first_seen: '2025-11-10T02:00:17Z',
      last_seen: '2025-11-16T20:59:19Z',
      coverage: 'full',
      ...ALICE_OPENED_SSH,
    });
  });

  it('leaves timestamps empty for a rule without traffic', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(rulesTable(report)));

    // Assess
    const prefixList = rows.find((r) => r.peer?.startsWith('pl-'));
    expect(prefixList).toMatchObject({
      status: 'unused',
      verdict: 'remove',
      first_seen: '',
      last_seen: '',
      connections: '0',
    });
  });

  it('leaves ports empty for protocol -1 and portless protocols, and keeps ICMP type/code', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(rulesTable(report)));

    // Assess
    const all = rows.find((r) => r.sg_id === SG_BATCH && r.protocol === '-1' && r.direction === 'ingress');
    const esp = rows.find((r) => r.sg_id === SG_BATCH && r.protocol === '50');
    const icmp = rows.find((r) => r.sg_id === SG_DB && r.protocol === 'icmp');
    expect([all?.from_port, all?.to_port]).toEqual(['', '']);
    expect([esp?.from_port, esp?.to_port]).toEqual(['', '']);
    expect([icmp?.from_port, icmp?.to_port]).toEqual(['-1', '-1']);
    expect(icmp?.coverage).toBe('partial');
  });

  it('writes IPv6, prefix-list and SG-reference peers as written', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const peers = rowsOf(renderCsv(rulesTable(report))).map((r) => r.peer);

    // Assess
    expect(peers).toEqual(
      expect.arrayContaining(['::/0', '2001:db8:1234::/48', 'pl-0c3d4e5f6a7b8c9d0', SG_APP]),
    );
  });
});

describe('findingsTable', () => {
  it('writes check, severity, reason, resources by type and evidence', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(findingsTable(report)));

    // Assess
    expect(rows).toHaveLength(report.findings.length);
    expect(Object.keys(rows[0] ?? {})).toEqual([...FINDINGS_COLUMNS]);
    expect(rows.find((r) => r.check === 'sensitive-port-world')).toEqual({
      ...APP_SSH_RULE_COLUMNS,
      check: 'sensitive-port-world',
      severity: 'high',
      reason: 'SSH (22) open to 0.0.0.0/0',
      resources: 'ec2:2;lambda:1',
      evidence: 'used: 14 connections from 3 peers',
      account_id: '123456789012',
      region: 'ap-northeast-2',
      controls: 'EC2.13;EC2.19',
      fix:
        'Replace it with allow tcp port 22 from 198.51.100.0/24 (only 3 peers in 198.51.100.0/24 connected). Run: ' +
        `aws ec2 authorize-security-group-ingress --group-id ${SG_APP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"198.51.100.0/24","Description":"sg-audit 2025-11-17: 14 connections from 3 peers (summarised-/24)"}]}]' --region ap-northeast-2 && ` +
        `aws ec2 revoke-security-group-ingress --group-id ${SG_APP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]' --region ap-northeast-2`,
      ...ALICE_OPENED_SSH,
    });
  });

  it('says a rule is older than the CloudTrail history read, with the date', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const row = rowsOf(renderCsv(findingsTable(report))).find((r) => r.check === 'all-traffic-open');

    // Assess
    expect(row).toMatchObject({
      changed_by: '',
      changed_at: 'before 2025-08-19',
      change_source: "outside CloudTrail's 90-day event history",
    });
  });

  it('leaves the rule columns empty for an SG-level finding', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const row = rowsOf(renderCsv(findingsTable(report))).find((r) => r.check === 'default-sg-has-rules');

    // Assess
    expect(row).toMatchObject({
      direction: '',
      protocol: '',
      from_port: '',
      to_port: '',
      peer: '',
      resources: '',
    });
  });

  it('covers every severity', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const severities = new Set(rowsOf(renderCsv(findingsTable(report))).map((r) => r.severity));

    // Assess
    expect([...severities].sort()).toEqual(['critical', 'high', 'info', 'low', 'medium']);
  });
});

describe('recommendationsTable', () => {
  it('writes the seed lines untouched, with connections, peers and basis', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(recommendationsTable(report)));

    // Assess
    expect(Object.keys(rows[0] ?? {})).toEqual([...RECOMMENDATIONS_COLUMNS]);
    const recommended = rows.filter((r) => r.text?.startsWith('- allow '));
    expect(new Set(recommended.map((r) => r.basis))).toEqual(
      new Set(['observed', 'summarised-/24', 'port-group', 'compacted', 'sg-reference']),
    );
    expect(rows.find((r) => r.basis === 'port-group')).toMatchObject({
      from_port: '30001',
      to_port: '40000',
      peer: '10.20.3.0/24',
      connections: '5634',
      distinct_peers: '3',
      text: '- allow tcp ports 30001-40000 from 10.20.3.0/24',
    });
  });
});

describe('recommendationsTable actions', () => {
  it('says add or keep for each recommended entry, then lists the removals with their command', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(recommendationsTable(report))).filter((r) => r.sg_id === SG_APP);

    // Assess
    expect(rows.map((r) => [r.action, r.text])).toEqual([
      ['keep', '- allow tcp port 8080 from sg-0a11c0ffee0000001'],
      ['add', '- allow tcp port 22 from 198.51.100.0/24'],
      ['add', '- allow tcp port 9090 from 10.20.1.15/32'],
      ['add', '- allow tcp port 9100 from 10.20.1.15/32'],
      ['add', '- allow tcp ports 30001-40000 from 10.20.3.0/24'],
      ['add', '- allow tcp port 5432 to sg-0c33c0ffee0000003'],
      ['add', '- allow tcp port 443 to 52.94.128.0/20'],
      ['remove', '- remove tcp port 22 from 0.0.0.0/0'],
      ['remove', '- remove tcp ports 1024-65535 from 10.0.0.0/8'],
      ['remove', '- remove tcp ports 9000-9100 from pl-0c3d4e5f6a7b8c9d0'],
      ['remove', '- remove tcp port 8443 from 2001:db8:1234::/48'],
      ['remove', '- remove all traffic to 0.0.0.0/0'],
      // The plan keeps it (and so does the fix): it may carry DNS to the resolver, which flow logs never record.
      ['keep', '- remove all traffic to ::/0'],
    ]);
    expect(rows.find((r) => r.text === '- remove all traffic to ::/0')?.fix).toMatch(
      /^Keep it for now: may carry traffic flow logs never record \(DNS to the Amazon resolver/,
    );
    expect(rows.find((r) => r.action === 'keep')?.fix).toBe('');
    expect(rows.find((r) => r.action === 'add')?.fix).toMatch(
      /^aws ec2 authorize-security-group-ingress --group-id /,
    );
    expect(rows.find((r) => r.action === 'remove')).toMatchObject({
      basis: '',
      fix: `aws ec2 revoke-security-group-ingress --group-id ${SG_APP} --ip-permissions '[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]' --region ap-northeast-2`,
    });
  });
});

describe('recommendationsTable of an SG that code manages', () => {
  it('says where to add and remove instead of giving commands that would drift', () => {
    // Prepare
    const report = sampleReport();
    const owned: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) =>
        sg.id === SG_APP ? { ...sg, tags: { 'aws:cloudformation:stack-name': 'shop-web' } } : sg,
      ),
    };

    // Act
    const rows = rowsOf(renderCsv(recommendationsTable(owned))).filter((r) => r.sg_id === SG_APP);

    // Assess
    expect(rows.find((r) => r.action === 'add')?.fix).toBe(
      'CloudFormation manages the SG (tag aws:cloudformation:stack-name=shop-web): add it in its code',
    );
    expect(rows.find((r) => r.action === 'remove')?.fix).toMatch(
      /^Replace it with .*CloudFormation manages the SG \(tag aws:cloudformation:stack-name=shop-web\): make the change in its code/,
    );
    expect(rows.some((r) => r.fix?.startsWith('aws ec2'))).toBe(false);
  });
});

describe('resourcesTable', () => {
  it('writes one row per ENI with ;-joined lists and coverage', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = rowsOf(renderCsv(resourcesTable(report)));

    // Assess
    expect(Object.keys(rows[0] ?? {})).toEqual([...RESOURCES_COLUMNS]);
    expect(rows).toHaveLength(report.resources.length);
    expect(rows.find((r) => r.eni_id === 'eni-0b2c000000000b001')).toEqual({
      eni_id: 'eni-0b2c000000000b001',
      sg_ids: SG_APP,
      resource_type: 'ec2',
      resource_id: 'i-0f1e2d3c4b5a60001',
      resource_name: 'app-1',
      private_ips: '10.20.1.15;10.20.1.16',
      vpc_id: 'vpc-0a1b2c3d4e5f60001',
      subnet_id: 'subnet-0bb1',
      flow_log_coverage: 'full',
    });
    expect(new Set(rows.map((r) => r.flow_log_coverage))).toEqual(
      new Set(['full', 'partial', 'reject-only', 'none']),
    );
  });
});

describe('neutraliseFormula', () => {
  it.each([
    ['=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'],
    ['+cmd', "'+cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['-cmd|calc', "'-cmd|calc"],
    ['-1+2', "'-1+2"],
  ])('prefixes an apostrophe to %j', (text, expected) => {
    // Act
    const safe = neutraliseFormula(text);

    // Assess
    expect(safe).toBe(expected);
  });

  it.each([
    '-1',
    '-0.5',
    '- allow tcp port 443 from 203.0.113.10',
    '-',
    'sg-0a11c0ffee0000001',
    'prod = web',
    '',
  ])('leaves %j untouched', (text) => {
    // Act
    const safe = neutraliseFormula(text);

    // Assess
    expect(safe).toBe(text);
  });
});

describe('renderCsv formula guard', () => {
  it('neutralises a hostile SG name in every table that carries it', () => {
    // Prepare
    const report = withSgName(sampleReport(), SG_APP, "=cmd|' /C calc'!A0");

    // Act
    const findings = rowsOf(renderCsv(findingsTable(report)));
    const rules = rowsOf(renderCsv(rulesTable(report)));

    // Assess
    expect(findings.find((r) => r.sg_id === SG_APP)?.sg_name).toBe("'=cmd|' /C calc'!A0");
    expect(rules.find((r) => r.sg_id === SG_APP)?.sg_name).toBe("'=cmd|' /C calc'!A0");
  });

  it('keeps protocol -1 and seed lines as they are', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rules = rowsOf(renderCsv(rulesTable(report)));
    const recommendations = rowsOf(renderCsv(recommendationsTable(report)));

    // Assess
    expect(rules.filter((r) => r.protocol === '-1').length).toBeGreaterThan(0);
    expect(
      recommendations.every(
        (r) =>
          r.text?.startsWith(r.action === 'add' || r.action === 'keep' ? '- ' : '- remove ') &&
          /^- (allow|remove) /.test(r.text ?? ''),
      ),
    ).toBe(true);
  });
});
