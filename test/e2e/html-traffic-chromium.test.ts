/**
 * The sample account's traffic views as a real browser renders report.html: the offline audit
 * `npm start` runs (with the sample's egress allow-list), loaded in headless Chromium under the
 * page's own Content-Security-Policy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main';
import { dumpDom } from '../../testkit/chromium';

const SAMPLE = join(__dirname, '../../examples/sample-account');
const quiet = { write: () => true };

let dir = '';
let dom = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-audit-html-traffic-'));
  const code = await main(
    [
      'audit',
      '--input',
      SAMPLE,
      '--egress-allowlist',
      join(SAMPLE, 'egress-allowlist.yaml'),
      '--out',
      dir,
      '--format',
      'html',
      '-q',
    ],
    { version: 'test', stdout: quiet, stderr: quiet },
  );
  expect(code).toBe(0);
  dom = await dumpDom(join(dir, 'report.html'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the sample report’s traffic views in headless Chromium', () => {
  it('shows the missing rules to review, the NACL refusals and the probing charts', () => {
    // Assess
    expect(dom).toMatch(/<a href="#rejected">Rejected<\/a>/);
    const section = dom.match(/<section id="rejected"[\s\S]*?<\/section>/)?.[0] ?? '';
    expect(section.match(/<tr data-class="missing-rule"/g)?.length).toBeGreaterThan(0);
    expect(section).toContain('<code>- allow tcp port 6379 to 10.0.20.30</code>');
    expect(section.match(/<tr data-class="nacl"/g)?.length).toBeGreaterThan(0);
    expect(section).toMatch(/outbound rule 32767 \(\*\): deny all traffic to 0\.0\.0\.0\/0/);
    expect(section).toMatch(/<svg class="bar-chart"[^>]*aria-label="Top probed ports by attempts"/);
  });

  it('shows the unexpected egress destination first, and the allow-list it was held against', () => {
    // Assess
    const section = dom.match(/<section id="egress"[\s\S]*?<\/section>/)?.[0] ?? '';
    const rows = [...section.matchAll(/<tr data-expected="(\w+)"/g)].map((m) => m[1]);
    expect(rows[0]).toBe('no');
    expect(rows).toContain('yes');
    expect(section).toContain('45.139.122.0/24');
    expect(section).toContain('egress-allowlist.yaml');
    expect(section).toContain('old-monitoring-saas');
  });
});
