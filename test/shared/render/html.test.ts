import { createHash } from 'node:crypto';
import { renderHtml } from '../../../shared/render/html';
import { escapeHtml, html, raw } from '../../../shared/render/html-markup';
import type { AuditReport } from '../../../shared/report/model';
import {
  ALL_TRAFFIC_FINDING,
  changedReport,
  EGRESS_FINDING,
  firstRunReport,
  manyNewFindingsReport,
  PG_FINDING,
  RESOLVED_FINDING,
  resurfacedReport,
  SSH_FINDING,
  VERDICT_RULE,
} from '../../fixtures/changes-fixture';
import {
  SG_APP,
  SG_BATCH,
  SG_DB,
  SG_DEFAULT,
  SG_WEB,
  sampleReport,
  withSgName,
} from '../../fixtures/report-fixture';

const HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>';

function hostileReport(): AuditReport {
  const report = withSgName(sampleReport(), SG_APP, HOSTILE);
  return {
    ...report,
    securityGroups: report.securityGroups.map((sg) =>
      sg.id === SG_APP
        ? {
            ...sg,
            description: '</style><svg onload=alert(3)>',
            rules: sg.rules.map((r, i) => (i === 0 ? { ...r, description: "' onmouseover='alert(4)" } : r)),
          }
        : sg,
    ),
  };
}

describe('renderHtml', () => {
  it('renders every section with stable ids', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    for (const id of [
      'summary',
      'findings',
      'coverage',
      'heatmap',
      'traffic',
      'nacl',
      'sources',
      'warnings',
    ]) {
      expect(page).toMatch(new RegExp(`<section id="${id}"`));
    }
    expect(page).toMatch(/<section id="heatmap"[\s\S]*?<svg class="heatmap"/);
  });

  it('renders one section per SG with its id as anchor and data attribute, worst SG first', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess: by their worst finding (critical batch, high app, medium db and default, info web).
    const sections = [...page.matchAll(/<section class="block sg" id="([^"]+)" data-sg-id="([^"]+)"/g)];
    expect(sections.map((m) => m[2])).toEqual([SG_BATCH, SG_APP, SG_DB, SG_DEFAULT, SG_WEB]);
    expect([...sections.map((m) => m[2])].sort()).toEqual(report.securityGroups.map((sg) => sg.id).sort());
    expect(sections.every((m) => m[1] === m[2])).toBe(true);
    expect(page).toContain(
      `<section class="block sg" id="${SG_BATCH}" data-sg-id="${SG_BATCH}" data-worst-severity="critical">`,
    );
  });

  it('shows the account, window and scope in the header', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    expect(page).toContain('Security group audit: account 123456789012 (ap-northeast-2)');
    expect(page).toContain('2025-11-10 00:00 UTC to 2025-11-17 00:00 UTC (7 days)');
    expect(page).toContain('vpc-0a1b2c3d4e5f60001, vpc-0f9e8d7c6b5a40002');
  });

  it('gives every finding a row with a severity badge, worst first', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const severities = [...page.matchAll(/<tr data-severity="(\w+)"/g)].map((m) => m[1]);
    expect(severities).toEqual([
      'critical',
      'critical',
      'high',
      'medium',
      'medium',
      'low',
      'low',
      'low',
      'info',
      'info',
      'info',
    ]);
    for (const severity of ['critical', 'high', 'medium', 'low', 'info']) {
      expect(page).toContain(`<span class="badge sev-${severity}">${severity}</span>`);
    }
  });

  it('shows rule status and verdict, the seed lines and the quota per SG', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const app = page.slice(page.indexOf(`data-sg-id="${SG_APP}" data-worst-severity`));
    expect(app).toMatch(/data-status="unused" data-verdict="remove"/);
    expect(app).toContain(
      '<code>- allow tcp ports 30001-40000 from 10.20.3.0/24</code><span class="tag act-add">add</span><span class="tag">port-group</span>',
    );
    expect(app).toContain('ingress ipv4: 4 now → 5 recommended of 60');
  });

  it('lists malformed-record samples as file:line and the SKIPDATA warning', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const warnings = renderHtml(report).split('<section id="warnings"')[1] ?? '';

    // Assess
    expect(warnings).toMatch(/_20251114T0905Z_7c1e\.log\.gz:1842<\/span>: expected 14 fields, found 9/);
    expect(warnings).toContain('<span class="tag">skipdata</span>');
  });

  it('escapes hostile SG names and descriptions everywhere', () => {
    // Prepare
    const report = hostileReport();

    // Act
    const page = renderHtml(report);

    // Assess
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<svg onload');
    expect(page).not.toContain("' onmouseover='");
    expect(page).toContain(
      '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;',
    );
    expect(page).toContain('&lt;/style&gt;&lt;svg onload=alert(3)&gt;');
    expect(page.match(/<script>/g)).toHaveLength(1);
  });

  it('fetches nothing: no external src, href, url() or @import, and a CSP forbidding it', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    expect(page).not.toMatch(/\b(src|href|xlink:href|action|poster|srcset)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(page).not.toMatch(/url\(\s*["']?\s*(https?:)?\/\//i);
    expect(page).not.toMatch(/@import/i);
    expect(page).not.toMatch(/https?:\/\//i);
    expect(page).not.toMatch(/<(link|iframe|object|embed|img)\b/i);
    expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);
  });

  it('links only to anchors inside the page', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(hrefs.length).toBeGreaterThan(10);
    expect(hrefs.every((href) => href.startsWith('#'))).toBe(true);
    const ids = new Set([...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    expect(hrefs.filter((href) => !ids.has(href.slice(1)))).toEqual([]);
  });

  it('allows its own inline script by hash in the CSP', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(page).toContain(`script-src &#39;sha256-${hash}&#39;`);
  });

  it('hides script-driven controls until the script runs', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    expect(page).toContain('<div class="filters" id="finding-filters" hidden>');
    expect(page).toContain('<div class="filters" id="sg-toggles" hidden>');
  });

  it('draws traffic charts for SGs with traffic only', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const traffic = (renderHtml(report).split('<section id="traffic"')[1] ?? '').split('</section>')[0] ?? '';

    // Assess
    const charted = [...traffic.matchAll(/<div class="traffic-card" data-sg-id="([^"]+)"/g)].map((m) => m[1]);
    expect(charted).toEqual([SG_WEB, SG_APP, 'sg-0c33c0ffee0000003']);
    expect(traffic).toContain('aria-label="Top ports by connections"');
    expect(traffic).toContain('aria-label="Top peers by bytes"');
  });

  it('renders a report without SGs, findings or sources', () => {
    // Prepare
    const report: AuditReport = {
      ...sampleReport(),
      findings: [],
      securityGroups: [],
      resources: [],
      coverage: [],
      naclRecommendations: [],
      flowSources: [],
      warnings: [],
    };

    // Act
    const page = renderHtml(report);

    // Assess
    expect(page).toContain('No findings.');
    expect(page).toContain('No rules to show.');
    expect(page).toContain('No NACL recommendations.');
    expect(page).not.toContain('class="block sg"');
  });
});

describe('html', () => {
  it('escapes interpolated text but not nested markup', () => {
    // Prepare
    const inner = html`<b>${'<i>'}</b>`;

    // Act
    const outer = html`<p title="${'"x"'}">${inner}${['a&', raw('<br>')]}${undefined}${false}${3}</p>`;

    // Assess
    expect(outer.text).toBe('<p title="&quot;x&quot;"><b>&lt;i&gt;</b>a&amp;<br>3</p>');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML metacharacters', () => {
    // Act
    const text = escapeHtml(`<a href='x'>&"</a>`);

    // Assess
    expect(text).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;');
  });
});

/** The markup of one top-level section of the page, by id. */
function sectionOf(page: string, id: string): string {
  return (page.split(`<section id="${id}"`)[1] ?? '').split('</section>')[0] ?? '';
}

describe('renderHtml changes section', () => {
  it('shows what changed right after the summary and before the findings', () => {
    // Prepare
    const report = changedReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const order = ['summary', 'changes', 'findings', 'security-groups'].map((id) =>
      page.indexOf(` id="${id}"`),
    );
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(page).toContain('<a href="#changes">Changes</a>');
    expect(sectionOf(page, 'changes')).toContain('<h2>What changed since 2025-11-10 00:05 UTC</h2>');
  });

  it('counts new, worse, resolved and changed findings, verdict changes, SGs and ENIs', () => {
    // Prepare
    const report = changedReport();

    // Act
    const changes = sectionOf(renderHtml(report), 'changes');

    // Assess
    const cards = [...changes.matchAll(/<div class="n">([^<]*)<\/div><div class="k">([^<]*)<\/div>/g)].map(
      (m) => `${m[2]}=${m[1]}`,
    );
    expect(cards).toEqual([
      'new findings=1',
      'worse findings=1',
      'resolved findings=1',
      'changed findings=1',
      'verdict changes=1',
      'SGs added / removed=+0 / −0',
      'SGs renamed=1',
      'ENIs added / removed=+0 / −1',
    ]);
  });

  it('lists new then worse findings with severity, SG, rule and reason, then resolved and verdict changes', () => {
    // Prepare
    const report = changedReport();

    // Act
    const changes = sectionOf(renderHtml(report), 'changes');

    // Assess
    const rows = [...changes.matchAll(/<tr data-change="(\w+)" data-(?:finding|rule)-id="([^"]+)"/g)].map(
      (m) => [m[1], m[2]],
    );
    expect(rows).toEqual([
      ['new', SSH_FINDING],
      ['worse', PG_FINDING],
      ['resolved', RESOLVED_FINDING],
      ['changed', `default-sg-has-rules:sg-0e55c0ffee0000005`],
      ['verdict', VERDICT_RULE],
    ]);
    const worse = changes.split(`data-finding-id="${PG_FINDING}"`)[1]?.split('</tr>')[0] ?? '';
    expect(worse).toContain(
      '<span class="badge sev-medium">medium</span> <span class="muted small">was low</span>',
    );
    expect(worse).toContain('prod-db-postgres');
    expect(worse).toContain('5432');
    expect(worse).toContain('PostgreSQL (5432) open to public /16 52.95.0.0/16');
    expect(changes).toMatch(
      /<span class="badge st-used">used<\/span> → <span class="badge st-unused">unused<\/span>/,
    );
    expect(changes).toContain('web-alb-old → prod-web-alb');
  });

  it('says first run without listing anything when there was no previous report', () => {
    // Prepare
    const report = firstRunReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const changes = sectionOf(page, 'changes');
    expect(page).toContain('<section id="changes" class="block changes" data-first-run="true">');
    expect(changes).toContain('First run: no previous report to compare.');
    expect(changes).not.toContain('<tr');
    expect(page).not.toContain('<span class="tag chg-new">');
  });

  it('has no changes section nor link when the report was not compared', () => {
    // Act
    const page = renderHtml(sampleReport());

    // Assess
    expect(page).not.toContain('id="changes"');
    expect(page).not.toContain('href="#changes"');
  });

  it('tags new and worse findings in the findings table', () => {
    // Prepare
    const report = changedReport();

    // Act
    const findings = sectionOf(renderHtml(report), 'findings');

    // Assess
    expect(findings.match(/<span class="tag chg-new">new<\/span>/g)).toHaveLength(1);
    expect(findings.match(/<span class="tag chg-worse">worse<\/span>/g)).toHaveLength(1);
  });

  it('says since when a finding carried over from earlier runs has been open, and nothing for a new one', () => {
    // Prepare
    const base = changedReport();
    const [carried, fresh] = base.findings;
    if (carried === undefined || fresh === undefined) throw new Error('fixture needs two findings');
    const report: AuditReport = {
      ...base,
      findings: base.findings.map((f) =>
        f.id === carried.id
          ? { ...f, firstReportedAt: '2025-10-27T00:05:00.000Z' }
          : { ...f, firstReportedAt: base.generatedAt },
      ),
    };

    // Act
    const findings = sectionOf(renderHtml(report), 'findings');

    // Assess
    const rowOf = (f: { check: string; sgId: string; id: string }) =>
      findings
        .split('<tr ')
        .find((row) => row.includes(`data-check="${f.check}"`) && row.includes(`data-sg-id="${f.sgId}"`)) ??
      '';
    expect(findings.match(/class="[^"]*open-since/g)).toHaveLength(1);
    expect(rowOf(carried)).toContain('since 2025-10-27');
    expect(rowOf(carried)).toContain('title="first reported 2025-10-27 00:05 UTC"');
    expect(rowOf(fresh)).not.toContain('open-since');
  });

  it('folds long lists into a details element and caps the rows rendered', () => {
    // Prepare
    const report = manyNewFindingsReport(600);

    // Act
    const changes = sectionOf(renderHtml(report), 'changes');

    // Assess
    const [visible, folded] = changes.split('<details class="more">');
    expect(visible?.match(/<tr data-change="new"/g)).toHaveLength(10);
    expect(folded?.match(/<tr data-change="new"/g)).toHaveLength(490);
    expect(changes).toContain('<summary>490 more new or worse findings</summary>');
    expect(changes).toContain('…and 100 more in changes.csv.');
  });

  it('escapes hostile SG names in the changes section and links only to SGs in the report', () => {
    // Prepare
    const report = changedReport(withSgName(sampleReport(), SG_APP, HOSTILE));

    // Act
    const page = renderHtml(report);

    // Assess
    const changes = sectionOf(page, 'changes');
    expect(changes).toContain(escapeHtml(HOSTILE));
    expect(changes).not.toContain('<script>');
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? '');
    const ids = new Set([...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    expect(hrefs.filter((href) => !href.startsWith('#') || !ids.has(href.slice(1)))).toEqual([]);
  });

  it('does not link a resolved finding to an SG that is gone', () => {
    // Prepare: the resolved finding's SG is no longer in the report.
    const base = changedReport();
    const report: AuditReport = {
      ...base,
      securityGroups: base.securityGroups.filter((sg) => sg.id !== SG_WEB),
      findings: base.findings.filter((f) => f.sgId !== SG_WEB),
    };

    // Act
    const changes = sectionOf(renderHtml(report), 'changes');

    // Assess
    const resolved = changes.split(`data-finding-id="${RESOLVED_FINDING}"`)[1]?.split('</tr>')[0] ?? '';
    expect(resolved).toContain('web-alb-old');
    expect(resolved).not.toContain(`href="#${SG_WEB}"`);
  });
});

describe('renderHtml resurfaced findings', () => {
  it('lists a finding whose suppression expired since the previous run with the new and worse ones', () => {
    // Act
    const page = renderHtml(resurfacedReport());

    // Assess
    const changes = sectionOf(page, 'changes');
    expect(changes).toContain(`<tr data-change="resurfaced" data-finding-id="${EGRESS_FINDING}">`);
    expect(changes).toContain('<div class="n">1</div><div class="k">no longer accepted</div>');
    expect(sectionOf(page, 'findings')).toContain('<span class="tag chg-resurfaced">resurfaced</span>');
  });
});

describe('renderHtml suppressions', () => {
  it('counts accepted risks and expired suppressions in the summary', () => {
    // Prepare
    const report = changedReport();

    // Act
    const summary = sectionOf(renderHtml(report), 'summary');

    // Assess
    expect(summary).toContain('<div class="n">1</div><div class="k">accepted risks (suppressed)</div>');
    expect(summary).toContain('<div class="n">1</div><div class="k">suppressions expired</div>');
  });

  it('shows no suppression counts when no finding is suppressed', () => {
    // Act
    const summary = sectionOf(renderHtml(sampleReport()), 'summary');

    // Assess
    expect(summary).not.toContain('accepted risks');
  });

  it('badges suppressed findings with owner and expiry and flags expired ones, wherever listed', () => {
    // Prepare
    const report = changedReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const findings = sectionOf(page, 'findings');
    const active = findings.split(`data-check="all-traffic-open"`)[1]?.split('</tr>')[0] ?? '';
    expect(active).toContain(
      '<span class="badge supp-active" data-suppression="batch-legacy" title="batch-legacy: Legacy batch hosts are being decommissioned (ticket OPS-1432).">accepted risk · batch-team · until 2026-06-30</span>',
    );
    const expired = findings.split(`data-check="egress-all-open"`)[1]?.split('</tr>')[0] ?? '';
    expect(expired).toContain('<span class="badge supp-expired" data-suppression="app-egress"');
    expect(expired).toContain('suppression expired 2025-11-01 · platform-team');
    expect(findings).toContain('data-suppression="active"');
    const batchSection =
      page.split(`<section class="block sg" id="${SG_BATCH}"`)[1]?.split('</section>')[0] ?? '';
    expect(batchSection).toContain('accepted risk · batch-team · until 2026-06-30');
    expect(report.findings.some((f) => f.id === ALL_TRAFFIC_FINDING)).toBe(true);
    expect(report.findings.some((f) => f.id === EGRESS_FINDING)).toBe(true);
  });
});

describe('renderHtml fixes and who changed a rule', () => {
  it('puts the fix beside each finding, its commands folded, and who opened the rule under it', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const findings = sectionOf(renderHtml(report), 'findings');

    // Assess
    expect(findings).toContain('<th>Rule</th><th>Fix</th>');
    const ssh = findings.split('data-check="sensitive-port-world"')[1]?.split('</tr>')[0] ?? '';
    expect(ssh).toContain(
      '<td class="col-fix" data-label="Fix"><div class="fix" data-fix-action="replace">Replace it with allow tcp port 22 from 198.51.100.0/24',
    );
    expect(ssh).toContain(
      '<details class="cli"><summary>AWS CLI (2)</summary><pre>aws ec2 authorize-security-group-ingress',
    );
    expect(ssh).toContain(
      '<span class="muted small change" data-change-kind="created" title="CloudTrail event 6d1c9a52-8f0e-4b7e-9a4d-2f1e0c3b5a71">opened by assumed-role/Admin/alice via console on 2025-11-03 09:12 UTC from 203.0.113.10</span>',
    );
    expect(findings.match(/data-label="Fix"><div class="fix"/g)).toHaveLength(report.findings.length);
  });

  it('lists the rules to remove with their command, and exposure in human units', () => {
    // Prepare
    const base = sampleReport();
    const report: AuditReport = {
      ...base,
      securityGroups: base.securityGroups.map((sg) =>
        sg.id === SG_WEB
          ? {
              ...sg,
              recommendations: sg.recommendations.map((r) => ({ ...r, addedAddresses: '4294967090' })),
            }
          : sg,
      ),
    };

    // Act
    const page = renderHtml(report);

    // Assess
    const app = page.slice(page.indexOf(`data-sg-id="${SG_APP}" data-worst-severity`));
    expect(app).toContain(
      '<li data-action="remove"><code>- remove tcp port 22 from 0.0.0.0/0</code><span class="tag act-remove">remove</span>',
    );
    expect(app).toContain(`<pre>aws ec2 revoke-security-group-ingress --group-id ${SG_APP} --ip-permissions`);
    const web = page.slice(page.indexOf(`data-sg-id="${SG_WEB}" data-worst-severity`));
    expect(web).toContain('admits about the whole IPv4 space beyond those seen');
    expect(page).not.toContain('4294967090');
  });

  it('lists a left-out rule the plan keeps as keep, with why and no command; code-managed SGs get no command', () => {
    // Prepare
    const report = sampleReport();
    const owned: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) =>
        sg.id === SG_APP ? { ...sg, tags: { 'aws:cloudformation:stack-name': 'shop-web' } } : sg,
      ),
    };

    // Act
    // The SG's list of the rules its recommendations leave out.
    const app = (page: string) => {
      const sg = page.indexOf(`data-sg-id="${SG_APP}" data-worst-severity`);
      const from = page.indexOf('<h3>Rules to remove</h3>', sg);
      return page.slice(from, page.indexOf('</ul>', from));
    };
    const plain = app(renderHtml(report));
    const managed = app(renderHtml(owned));

    // Assess: egress all to ::/0 may carry DNS to the resolver, which flow logs never record.
    expect(plain).toContain(
      '<li data-action="keep"><code>- remove all traffic to ::/0</code><span class="tag act-keep">keep</span><span class="muted small">Keep it for now: may carry traffic flow logs never record',
    );
    expect(managed).toContain('CloudFormation manages the SG (tag aws:cloudformation:stack-name=shop-web)');
    expect(managed).not.toContain('aws ec2 revoke-security-group');
    expect(plain).toContain('aws ec2 revoke-security-group');
  });

  it('prints the NACL default rule as *', () => {
    // Act
    const nacl = sectionOf(renderHtml(sampleReport()), 'nacl');

    // Assess
    expect(nacl).toContain('<td class="num">*</td>');
    expect(nacl).not.toContain('32767');
  });
});
