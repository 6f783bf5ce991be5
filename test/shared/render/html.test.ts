import { createHash } from 'node:crypto';
import { renderHtml } from '../../../shared/render/html';
import { escapeHtml, html, raw } from '../../../shared/render/html-markup';
import type { AuditReport } from '../../../shared/report/model';
import { SG_APP, SG_BATCH, SG_WEB, sampleReport, withSgName } from '../../fixtures/report-fixture';

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

  it('renders one section per SG with its id as anchor and data attribute', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const page = renderHtml(report);

    // Assess
    const sections = [...page.matchAll(/<section class="block sg" id="([^"]+)" data-sg-id="([^"]+)"/g)];
    expect(sections.map((m) => m[2])).toEqual(report.securityGroups.map((sg) => sg.id));
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
      '<code>- allow tcp ports 30001~40000 from 10.20.3.0/24</code><span class="tag">port-group</span>',
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
