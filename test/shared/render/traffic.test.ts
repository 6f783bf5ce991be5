/**
 * The traffic views in every renderer: rejected.csv and egress.csv, summary.md's sections,
 * report.html's sections (escaped, linked from the navigation), and the console's lines; and a
 * report from before the views renders as it did.
 */
import type { EgressReport } from '../../../shared/model/egress';
import type { RejectedReport } from '../../../shared/model/rejected';
import { renderConsoleSummary } from '../../../shared/render/console';
import { renderCsv, reportTables } from '../../../shared/render/csv';
import { egressTable, rejectedTable } from '../../../shared/render/csv-traffic';
import { renderHtml } from '../../../shared/render/html';
import { renderMarkdown } from '../../../shared/render/markdown';
import type { AuditReport } from '../../../shared/report/model';
import { SG_APP, SG_DB, SG_WEB, sampleReport } from '../../fixtures/report-fixture';
import { egressDestination, rejectedRow } from '../../support/traffic-account';

const T = 1_763_337_600;

const REJECTED: RejectedReport = {
  connections: 61,
  byClass: { 'missing-rule': 4, nacl: 3, probe: 54 },
  rows: [
    rejectedRow({
      class: 'missing-rule',
      sgIds: [SG_DB],
      firstSeen: T,
      lastSeen: T + 3600,
      suggestion: {
        sgId: SG_DB,
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: '10.0.1.20/32',
        peerSgIds: [SG_WEB],
        basis: 'served-to-others',
        text: '- allow tcp port 5432 from 10.0.1.20',
        why: 'eni-db serves tcp/5432 to <b>others</b>',
      },
    }),
    rejectedRow({
      class: 'nacl',
      sgIds: [SG_DB, SG_APP],
      direction: 'egress',
      port: 443,
      peer: '52.219.56.18',
      origin: 'internet',
      connections: 3,
      firstSeen: T,
      lastSeen: T + 60,
      nacl: {
        naclId: 'acl-data',
        direction: 'outbound',
        ruleNumber: 32767,
        text: 'acl-data outbound rule 32767 (*)',
      },
      admittedBy: [`${SG_DB}/egress/-1/all/0.0.0.0/0`],
    }),
    rejectedRow({
      class: 'probe',
      eniId: 'eni-web',
      sgIds: [SG_WEB],
      port: 22,
      peer: '198.51.100.7',
      origin: 'internet',
      connections: 54,
      firstSeen: T,
      lastSeen: T + 86_000,
    }),
  ],
  omittedRows: 0,
  topSources: [{ addr: '198.51.100.7', origin: 'internet', connections: 54, ports: 1, enis: 1 }],
  topPorts: [{ protocol: 'tcp', port: 22, connections: 54, sources: 1 }],
  unrecordedEnis: ['eni-quiet'],
  unexplainedReplies: 2,
};

const EGRESS: EgressReport = {
  connections: 40,
  bytes: 123_456,
  destinations: [
    egressDestination({ sgId: SG_APP, connections: 12, firstSeen: T, lastSeen: T + 600 }),
    egressDestination({
      sgId: SG_APP,
      destination: 'com.amazonaws.ap-northeast-2.s3',
      kind: 'aws-service',
      peer: 'pl-78a54011',
      service: 's3',
      connections: 28,
      bytes: 33_456,
      addresses: 3,
      topAddresses: ['52.219.56.1', '52.219.57.2', '52.219.58.3'],
      firstSeen: T,
      lastSeen: T + 600,
      expected: 'yes',
      allowListId: 'amazon-s3',
    }),
  ],
  unexpected: 1,
  omittedRows: 0,
  allowList: { file: 'egress-allowlist.yaml', entries: 3, expired: ['old-saas'], unused: [] },
  incompleteEnis: [],
};

function withViews(): AuditReport {
  return { ...sampleReport(), rejected: REJECTED, egress: EGRESS };
}

describe('rejected.csv and egress.csv', () => {
  it('write one rejected row per SG of the ENI, and one egress row per destination group', () => {
    // Act
    const rejected = renderCsv(rejectedTable(withViews())).split('\r\n');
    const egress = renderCsv(egressTable(withViews())).split('\r\n');

    // Assess
    expect(rejected.slice(0, 5)).toEqual([
      'sg_id,eni_id,direction,protocol,port,peer,connections,first_seen,last_seen,class',
      `${SG_DB},eni-db,ingress,tcp,5432,10.0.1.20,4,2025-11-17T00:00:00Z,2025-11-17T01:00:00Z,missing-rule`,
      `${SG_DB},eni-db,egress,tcp,443,52.219.56.18,3,2025-11-17T00:00:00Z,2025-11-17T00:01:00Z,nacl`,
      `${SG_APP},eni-db,egress,tcp,443,52.219.56.18,3,2025-11-17T00:00:00Z,2025-11-17T00:01:00Z,nacl`,
      `${SG_WEB},eni-web,ingress,tcp,22,198.51.100.7,54,2025-11-17T00:00:00Z,2025-11-17T23:53:20Z,probe`,
    ]);
    expect(egress.slice(0, 3)).toEqual([
      'sg_id,destination,protocol,port,connections,bytes,expected',
      `${SG_APP},45.139.122.0/24,tcp,443,12,90000,no`,
      `${SG_APP},com.amazonaws.ap-northeast-2.s3,tcp,443,28,33456,yes`,
    ]);
  });

  it('are header-only for a report from before the views', () => {
    // Act
    const files = reportTables(sampleReport()).filter(
      (t) => t.fileName === 'rejected.csv' || t.fileName === 'egress.csv',
    );

    // Assess
    expect(files.map((t) => t.rows.length)).toEqual([0, 0]);
  });
});

describe('summary.md traffic sections', () => {
  it('lists the suggested rules, the NACL entries, the probing, what is not seen, and the unexpected egress', () => {
    // Act
    const md = renderMarkdown(withViews());

    // Assess
    expect(md).toContain('## Rejected connections');
    expect(md).toContain(
      '- **Refused:** 61 refused attempts: 4 missing-rule, 3 nacl, 54 probe (rejected.csv)',
    );
    expect(md).toContain('`- allow tcp port 5432 from 10.0.1.20`');
    expect(md).toContain('acl-data outbound rule 32767 (\\*)');
    expect(md).toContain('- **Blocked probing**');
    expect(md).toContain('1 audited ENI has no flow log recording REJECT');
    expect(md).toContain('## Egress destinations');
    expect(md).toContain('1 destination group is not on it; expired: `old-saas`');
    expect(md).toMatch(/- \*\*Unexpected:\*\*\n {2}- .*45\.139\.122\.0\/24 tcp\/443: 12 connections/);
  });

  it('says nothing of the views for a report from before them', () => {
    // Act / Assess
    expect(renderMarkdown(sampleReport())).not.toContain('## Rejected connections');
  });
});

describe('report.html traffic sections', () => {
  it('links and renders both sections, escaping report text', () => {
    // Act
    const page = renderHtml(withViews());

    // Assess
    expect(page).toContain('<a href="#rejected">Rejected</a>');
    expect(page).toContain('<a href="#egress">Egress</a>');
    expect(page).toContain('<section id="rejected" class="block">');
    expect(page).toContain('<code>- allow tcp port 5432 from 10.0.1.20</code>');
    expect(page).toContain('&lt;b&gt;others&lt;/b&gt;');
    expect(page).toContain('acl-data outbound rule 32767 (*)');
    expect(page).toContain('Top probed ports by attempts');
    expect(page).toContain('<tr data-expected="no"');
    expect(page).toContain('<span class="badge vd-remove">unexpected</span>');
    expect(page).toContain('old-saas');
  });

  it('renders a report from before the views without their sections or links', () => {
    // Act
    const page = renderHtml(sampleReport());

    // Assess
    expect(page).not.toContain('id="rejected"');
    expect(page).not.toContain('href="#egress"');
  });
});

describe('renderConsoleSummary traffic lines', () => {
  it('counts refused attempts by class and egress destination groups', () => {
    // Act
    const lines = renderConsoleSummary(withViews()).split('\n');

    // Assess
    expect(lines).toContain('refused     missing 4       nacl 3          probe 54');
    expect(lines).toContain('egress      groups 2        unexpected 1');
  });
});
