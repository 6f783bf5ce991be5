/**
 * report.html as a real browser renders it: headless Debian Chromium loads the file offline and
 * dumps the DOM after load, and takes a screenshot. Chromium is a prerequisite of the end-to-end
 * suite (test/support/e2e-prerequisites.ts names how to install it; CI installs the `chromium` package).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtml, sgsByPriority } from '../../shared/render/html';
import { dumpDom, findChromium, layoutProbe, screenshot } from '../../testkit/chromium';
import { changedReport, manyNewFindingsReport } from '../fixtures/changes-fixture';
import { sampleReport } from '../fixtures/report-fixture';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let dir = '';
let page = '';
let changesPage = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-audit-html-'));
  page = join(dir, 'report.html');
  await writeFile(page, renderHtml(sampleReport()));
  changesPage = join(dir, 'report-changes.html');
  await writeFile(changesPage, renderHtml(changedReport()));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('report.html in headless Chromium', () => {
  it('finds a Chromium binary', () => {
    // Act
    const binary = findChromium();

    // Assess
    expect(binary).toMatch(/chrom/i);
  });

  it('renders every section, the heatmap cells and one section per SG', async () => {
    // Prepare
    const report = sampleReport();

    // Act
    const dom = await dumpDom(page);

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
      expect(dom).toMatch(new RegExp(`<section id="${id}"`));
    }
    expect(dom).toMatch(/<section id="heatmap"[\s\S]*?<svg class="heatmap"/);
    const cells = dom.match(/<rect class="cell (used|unused|unknown|closed)"/g) ?? [];
    expect(cells.length).toBeGreaterThanOrEqual(9 * 17);
    const sgSections = [...dom.matchAll(/<section class="block sg" id="[^"]+" data-sg-id="([^"]+)"/g)].map(
      (m) => m[1],
    );
    // Worst SG first (report order within a rank), every SG once.
    expect(sgSections).toEqual(sgsByPriority(report).map((sg) => sg.id));
    expect([...sgSections].sort()).toEqual(report.securityGroups.map((sg) => sg.id).sort());
  });

  it('runs its inline script under its own CSP (the finding filters appear)', async () => {
    // Act
    const dom = await dumpDom(page);

    // Assess
    expect(dom).toMatch(/<div class="filters" id="finding-filters">/);
    expect(dom).toMatch(/<div class="filters" id="sg-toggles">/);
  });

  it('shows the whole report when its script cannot run, controls hidden', async () => {
    // Prepare: a CSP of script-src 'none' blocks the page's script as a no-JS browser would
    // (--dump-dom itself needs JavaScript, so the switch cannot be turned off).
    const html = await readFile(page, 'utf8');
    const blocked = html.replace(/script-src &#39;sha256-[^&]+&#39;/, 'script-src &#39;none&#39;');
    const noScriptPage = join(dir, 'report-no-script.html');
    await writeFile(noScriptPage, blocked);

    // Act
    const dom = await dumpDom(noScriptPage);

    // Assess
    expect(blocked).not.toBe(html);
    expect(dom).toMatch(/<div class="filters" id="finding-filters" hidden="">/);
    expect(dom).toMatch(/<svg class="heatmap"/);
    expect(dom.match(/<tr data-severity=/g)).toHaveLength(sampleReport().findings.length);
    expect(dom.match(/<section class="block sg"/g)).toHaveLength(sampleReport().securityGroups.length);
  });

  it('renders the changes section between the summary and the findings, with suppression badges', async () => {
    // Act
    const dom = await dumpDom(changesPage);

    // Assess
    const order = ['summary', 'changes', 'findings'].map((id) => dom.indexOf(`<section id="${id}"`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const changes = (dom.split('<section id="changes"')[1] ?? '').split('</section>')[0] ?? '';
    expect(changes).toContain('What changed since 2025-11-10 00:05 UTC');
    expect([...changes.matchAll(/<tr data-change="(\w+)"/g)].map((m) => m[1])).toEqual([
      'new',
      'worse',
      'resolved',
      'changed',
      'verdict',
    ]);
    expect(dom).toMatch(
      /<span class="badge supp-active"[^>]*>accepted risk · batch-team · until 2026-06-30<\/span>/,
    );
    expect(dom).toMatch(
      /<span class="badge supp-expired"[^>]*>suppression expired 2025-11-01 · platform-team<\/span>/,
    );
    expect(dom.match(/<tr data-severity=/g)).toHaveLength(changedReport().findings.length);
  });

  it('folds a long list of new findings into a closed details element', async () => {
    // Prepare
    const longPage = join(dir, 'report-many-changes.html');
    await writeFile(longPage, renderHtml(manyNewFindingsReport(40)));

    // Act
    const dom = await dumpDom(longPage);

    // Assess
    const changes = (dom.split('<section id="changes"')[1] ?? '').split('</section>')[0] ?? '';
    expect(changes).toMatch(/<details class="more"><summary>30 more new or worse findings<\/summary>/);
    expect(changes.match(/<tr data-change="new"/g)).toHaveLength(40);
  });

  /**
   * Which cells of the first findings rows are on screen (displayed, inside the viewport), and
   * whether anything but a scrolling box is wider than the page.
   */
  const FINDINGS_PROBE = `(function () {
    function onScreen(el) {
      if (!el) return false;
      var r = el.getBoundingClientRect();
      var style = getComputedStyle(el);
      return style.display !== 'none' && style.visibility !== 'hidden' && r.width > 0 && r.height > 0 &&
        r.left >= -1 && r.right <= window.innerWidth + 1;
    }
    var rows = [].slice.call(document.querySelectorAll('#findings tbody tr[data-severity]')).slice(0, 8);
    var overflowing = [].slice.call(document.querySelectorAll('main *')).filter(function (el) {
      return el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest('.table-wrap, .heatmap-wrap');
    }).length;
    parent.postMessage(JSON.stringify({
      width: window.innerWidth,
      pageWidth: document.documentElement.scrollWidth,
      overflowing: overflowing,
      rows: rows.map(function (tr) {
        var cells = {};
        ['severity', 'sg', 'rule', 'fix'].forEach(function (c) { cells[c] = onScreen(tr.querySelector('td.col-' + c)); });
        cells.fixText = (tr.querySelector('td.col-fix') || { textContent: '' }).textContent.trim().slice(0, 40);
        return cells;
      })
    }), '*');
  })();`;

  interface FindingsLayout {
    readonly width: number;
    readonly pageWidth: number;
    readonly overflowing: number;
    readonly rows: readonly {
      severity: boolean;
      sg: boolean;
      rule: boolean;
      fix: boolean;
      fixText: string;
    }[];
  }

  it.each([1440, 420])(
    'shows severity, SG, rule and fix of every finding at %i px, wide tables scrolling in their box',
    async (width) => {
      // Prepare
      const report = sampleReport();

      // Act
      const layout = JSON.parse(await layoutProbe(page, width, FINDINGS_PROBE)) as FindingsLayout;

      // Assess
      expect(layout.width).toBe(width);
      expect(layout.rows).toHaveLength(Math.min(8, report.findings.length));
      for (const row of layout.rows) {
        expect(row).toMatchObject({ severity: true, sg: true, rule: true, fix: true });
        expect(row.fixText).not.toBe('');
      }
      // Nothing but a table or the heatmap (each in its own scrolling box) is wider than the page.
      expect(layout.overflowing).toBe(0);
      expect(layout.pageWidth).toBe(width);
    },
  );

  it('takes a non-empty PNG screenshot', async () => {
    // Prepare
    const png = join(dir, 'report.png');

    // Act
    await screenshot(page, png, { width: 1400, height: 2400 });

    // Assess
    const bytes = await readFile(png);
    expect(Array.from(bytes.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    expect(bytes.readUInt32BE(16)).toBe(1400);
    expect(bytes.readUInt32BE(20)).toBe(2400);
    expect((await stat(png)).size).toBeGreaterThan(50_000);
  });
});
