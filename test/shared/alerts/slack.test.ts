import fc from 'fast-check';
import {
  blockTextChars,
  composeSlack,
  escapeMrkdwn,
  type SlackBlock,
  type SlackMessage,
  type SlackText,
} from '../../../shared/alerts';
import { mrkdwnText } from '../../../shared/alerts/slack';
import { InvalidValueError } from '../../../shared/errors';
import type { AuditAlert } from '../../../shared/model/ports';
import type { AuditReport } from '../../../shared/report/model';
import {
  changedReport,
  firstRunReport,
  manyNewFindingsReport,
  unchangedReport,
} from '../../fixtures/changes-fixture';
import { SG_APP, sampleReport, withSgName } from '../../fixtures/report-fixture';
import {
  digestAlert,
  HTML_URL,
  manyFindingsReport,
  oneRuleTwoFindingsReport,
  reportAlert,
  storedReport,
} from './alert-fixtures';

/** Every text object of the message's blocks. */
function texts(message: SlackMessage): SlackText[] {
  return message.blocks.flatMap((block): SlackText[] => {
    switch (block.type) {
      case 'header':
        return [block.text];
      case 'section':
        return [...(block.text ? [block.text] : []), ...(block.fields ?? [])];
      case 'context':
        return [...block.elements];
      case 'actions':
        return block.elements.map((e) => e.text);
      default:
        return [];
    }
  });
}

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
}

/** Finding sections: those that start with a severity emoji and a bold severity. */
function findingSeverities(message: SlackMessage): string[] {
  return sectionTexts(message).flatMap((text) => {
    const match = /^:[a-z_]+: \*([A-Z]+)\* · /.exec(text);
    return match ? [(match[1] ?? '').toLowerCase()] : [];
  });
}

function expectWithinSlackLimits(message: SlackMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  const total = message.blocks.reduce((n, b) => n + blockTextChars(b), 0);
  expect(total).toBeLessThan(12_000);
  for (const block of message.blocks) {
    if (block.type === 'header') expect(block.text.text.length).toBeLessThanOrEqual(150);
    if (block.type === 'section') {
      expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3_000);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2_000);
    }
    if (block.type === 'context') expect(block.elements.length).toBeLessThanOrEqual(10);
  }
}

/** No raw '<' or '>' (links, mentions) and every '&' an entity, in every mrkdwn text. */
function expectEscaped(message: SlackMessage): void {
  for (const text of texts(message).filter((t) => t.type === 'mrkdwn')) {
    expect(text.text).not.toMatch(/[<>]/);
    expect(text.text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
  }
  expect(message.text).not.toMatch(/[<>]/);
}

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

describe('composeSlack', () => {
  it('opens with a header naming the account and the counts, then counts by severity as fields', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const message = composeSlack(alert);

    // Assess
    const [header, summary] = message.blocks;
    expect(header).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: 'sg-audit 123456789012/ap-northeast-2: 2 critical, 1 high findings (+8 lower)',
        emoji: true,
      },
    });
    expect(summary?.type).toBe('section');
    const fields = summary?.type === 'section' ? (summary.fields ?? []).map((f) => f.text) : [];
    expect(fields).toContain(':red_circle: *critical*\n2');
    expect(fields).toContain(':white_circle: *info*\n3');
    expect(fields).toContain('*Rules*\n9 used · 3 unused · 10 unknown');
    expect(fields).toContain('*Verdicts*\n6 keep · 3 narrow · 5 remove · 8 review');
    expect(fields).toContain('*ENI coverage*\n5 full · 1 partial · 1 reject-only · 1 none');
    expect(message.text).toBe('sg-audit 123456789012/ap-northeast-2: 2 critical, 1 high findings (+8 lower)');
  });

  it('lists the top findings worst first with SG, rule, reason and evidence', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const message = composeSlack(alert);

    // Assess
    const severities = findingSeverities(message);
    expect(severities).toHaveLength(10);
    const ranks = severities.map((s) => SEVERITY_ORDER.indexOf(s));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(sectionTexts(message)).toContain('*Top findings* (10 of 11, worst first)');
    expect(sectionTexts(message)).toContain(
      ':large_orange_circle: *HIGH* · `sg-0b22c0ffee0000002` prod-app-servers · vpc-0a1b2c3d4e5f60001\n' +
        '`ingress tcp 22 from 0.0.0.0/0` · sensitive-port-world\n' +
        'SSH (22) open to 0.0.0.0/0\n' +
        ':bust_in_silhouette: opened by assumed-role/Admin/alice via console on 2025-11-03 09:12 UTC from 203.0.113.10\n' +
        'Evidence: used: 14 connections from 3 peers\n' +
        ':wrench: *Fix:* Replace it with allow tcp port 22 from 198.51.100.0/24 (only 3 peers in 198.51.100.0/24 connected).',
    );
    const contexts = message.blocks.flatMap((b) =>
      b.type === 'context' ? b.elements.map((e) => e.text) : [],
    );
    expect(contexts).toContain('+1 more finding in the report (findings.csv, report.html)');
  });

  it('links the HTML report with a button and names the files location and link expiry', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const message = composeSlack(alert);

    // Assess
    const actions = message.blocks.find(
      (b): b is Extract<SlackBlock, { type: 'actions' }> => b.type === 'actions',
    );
    expect(actions?.elements[0]?.url).toBe(HTML_URL);
    const contexts = message.blocks.flatMap((b) =>
      b.type === 'context' ? b.elements.map((e) => e.text) : [],
    );
    expect(contexts).toContain(
      'Files: `s3://audit-reports/reports/123456789012/ap-northeast-2/2025/11/17/2025-11-17T000512Z-7f3a9c/`',
    );
    expect(contexts).toContain('Link valid until 2025-11-24 00:05 UTC');
  });

  it('has no button when the sink gave no link', () => {
    // Prepare
    const alert = reportAlert(sampleReport(), storedReport({ htmlUrl: undefined }));

    // Act
    const message = composeSlack(alert);

    // Assess
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('lists the warnings, malformed records and SKIPDATA included, and counts the rest', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const message = composeSlack(alert, { maxWarnings: 3 });

    // Assess: each warning once (the malformed lines are one warning), as report.html counts them.
    const warnings = sectionTexts(message).find((t) => t.startsWith(':warning: *Warnings* (4)'));
    expect(warnings).toContain(
      '• malformed-records: 3 flow-log line(s) could not be parsed and were not analysed',
    );
    expect(warnings).toContain('• skipdata: 4 SKIPDATA records on eni-0b2c000000000b001');
    expect(warnings).toContain('+1 more in report.json');
  });

  it('stays within the block, section, header and total text limits with 500 findings', () => {
    // Prepare
    const report = manyFindingsReport(500, `${'<&>'.repeat(80)}`);

    // Act
    const message = composeSlack(reportAlert(report), { topFindings: 500 });

    // Assess
    expectWithinSlackLimits(message);
    expectEscaped(message);
    const listed = findingSeverities(message);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.slice(0, 3)).toEqual(['critical', 'critical', 'critical']);
    const contexts = message.blocks.flatMap((b) =>
      b.type === 'context' ? b.elements.map((e) => e.text) : [],
    );
    expect(contexts).toContain(
      `+${500 - listed.length} more findings in the report (findings.csv, report.html)`,
    );
    expect(sectionTexts(message)).toContain(`*Top findings* (${listed.length} of 500, worst first)`);
  });

  it('stays within the limits for any SG name, reason and warning text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 600 }),
        fc.string({ unit: 'binary', maxLength: 3_000 }),
        fc.integer({ min: 0, max: 60 }),
        (name, text, findingCount) => {
          // Prepare
          const base = manyFindingsReport(findingCount, name);
          const report: AuditReport = {
            ...base,
            findings: base.findings.map((f) => ({ ...f, reason: text, evidence: text })),
            warnings: Array.from({ length: 20 }, () => ({ code: text, message: text })),
          };

          // Act
          const message = composeSlack(reportAlert(report), { topFindings: 60, maxWarnings: 20 });

          // Assess
          expectWithinSlackLimits(message);
          expectEscaped(message);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('escapes mrkdwn control characters in SG names so they cannot mention or link', () => {
    // Prepare
    const report = withSgName(sampleReport(), SG_APP, '<!channel> & <https://evil.example|click>');

    // Act
    const message = composeSlack(reportAlert(report));

    // Assess
    expectEscaped(message);
    expect(sectionTexts(message).join('\n')).toContain(
      '&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;',
    );
  });

  it('writes a failure alert with the error, step and run id', () => {
    // Prepare
    const alert: AuditAlert = {
      kind: 'failure',
      runId: 'run-7f3a9c',
      step: 'QueryFlows',
      error: { name: 'FlowLogQueryTimeoutError', message: 'query <q-1> ran over 900 s\n```fence```' },
      account: { id: '123456789012', region: 'ap-northeast-2' },
    };

    // Act
    const message = composeSlack(alert);

    // Assess
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':x: sg-audit run FAILED: 123456789012/ap-northeast-2', emoji: true },
    });
    const fields = message.blocks.flatMap((b) =>
      b.type === 'section' ? (b.fields ?? []).map((f) => f.text) : [],
    );
    expect(fields).toEqual([
      '*Account*\n123456789012/ap-northeast-2',
      '*Run*\n`run-7f3a9c`',
      '*Error*\n`FlowLogQueryTimeoutError`',
      '*Step*\n`QueryFlows`',
    ]);
    expect(sectionTexts(message)).toContain("```query &lt;q-1&gt; ran over 900 s\n'''fence'''```");
    expect(message.text).toBe(
      'sg-audit FAILED 123456789012/ap-northeast-2: FlowLogQueryTimeoutError in QueryFlows',
    );
    expectWithinSlackLimits(message);
    expectEscaped(message);
  });

  it('bounds a failure alert with an enormous error message', () => {
    // Prepare
    const alert: AuditAlert = {
      kind: 'failure',
      runId: 'r',
      error: { name: 'Error', message: '<&>'.repeat(50_000) },
    };

    // Act
    const message = composeSlack(alert);

    // Assess
    expectWithinSlackLimits(message);
    expectEscaped(message);
  });

  it('rejects limits beyond what Slack accepts', () => {
    // Act / Assess
    expect(() => composeSlack(reportAlert(), { maxBlocks: 51 })).toThrow(InvalidValueError);
    expect(() => composeSlack(reportAlert(), { maxTextChars: 20_000 })).toThrow(InvalidValueError);
  });
});

describe('escapeMrkdwn', () => {
  it('replaces &, < and > with entities', () => {
    // Act / Assess
    expect(escapeMrkdwn('<!here> a&b >')).toBe('&lt;!here&gt; a&amp;b &gt;');
  });
});

describe('mrkdwnText', () => {
  it('never exceeds the limit nor cuts inside an entity', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 2, max: 200 }),
        (raw, max) => {
          // Act
          const text = mrkdwnText(raw, max);

          // Assess
          expect(text.length).toBeLessThanOrEqual(max);
          expect(text.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[&<>]/);
          expect(text).not.toMatch(/[\r\n]/);
        },
      ),
    );
  });
});

/** Finding sections with their change tag: [severity, change]. */
function taggedFindings(message: SlackMessage): [string, string][] {
  return sectionTexts(message).flatMap((text): [string, string][] => {
    const match = /^:[a-z_]+: \*([A-Z]+)\*(?: _\(([^)]*)\)_)? · /.exec(text);
    return match ? [[(match[1] ?? '').toLowerCase(), match[2] ?? '']] : [];
  });
}

describe('composeSlack with changes', () => {
  it('heads with the new and worse count and lists those findings first', () => {
    // Act
    const message = composeSlack(reportAlert(changedReport()));

    // Assess
    const [head] = message.blocks;
    expect(head?.type === 'header' && head.text.text).toBe(
      'sg-audit: 1 new high, 1 worse medium findings in 123456789012/ap-northeast-2',
    );
    expect(message.text).toBe('sg-audit: 1 new high, 1 worse medium findings in 123456789012/ap-northeast-2');
    expect(sectionTexts(message)).toContain('*New or worse findings* (2 of 2, new first)');
    expect(taggedFindings(message)).toEqual([
      ['high', 'new'],
      ['medium', 'worse, was low'],
    ]);
    const lead = sectionTexts(message)[0] ?? '';
    expect(lead).toContain('*1 new high, 1 worse medium findings* since 2025-11-10 00:05 UTC');
    expect(lead).toContain(
      ':white_check_mark: 1 finding resolved · 1 changed finding, 1 rule verdict change',
    );
    expectWithinSlackLimits(message);
    expectEscaped(message);
  });

  it('leaves actively suppressed findings out of counts and lists, saying so once', () => {
    // Act
    const message = composeSlack(reportAlert(unchangedWithSuppression()));

    // Assess
    const all = texts(message)
      .map((t) => t.text)
      .join('\n');
    expect(all).not.toContain('all-traffic-open');
    expect(all.match(/accepted risk/g)).toHaveLength(1);
    expect(all).toContain(':shield: 1 accepted risk (suppressed finding) is left out of this alert.');
    expect(all).toContain(':red_circle: *critical*\n1');
  });

  it('sends a short digest with counts, resolved and the link, and no finding list', () => {
    // Act
    const message = composeSlack(digestAlert(unchangedReport()));

    // Assess
    expect(message.text).toBe(
      'sg-audit weekly digest: no new or worse findings in 123456789012/ap-northeast-2 since 2025-11-10',
    );
    expect(taggedFindings(message)).toEqual([]);
    expect(sectionTexts(message)[0]).toContain('No new or worse findings since 2025-11-10 00:05 UTC');
    expect(sectionTexts(message)[0]).toContain('0 findings resolved');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(true);
    expect(message.blocks.length).toBeLessThanOrEqual(8);
  });

  it('never hides a new finding behind a digest', () => {
    // Act
    const message = composeSlack(digestAlert(changedReport()));

    // Assess
    expect(message.text).toBe('sg-audit: 1 new high, 1 worse medium findings in 123456789012/ap-northeast-2');
    expect(taggedFindings(message)).toHaveLength(2);
  });

  it('says first run and lists the top findings', () => {
    // Act
    const message = composeSlack(reportAlert(firstRunReport()));

    // Assess
    expect(message.text).toBe(
      'sg-audit 123456789012/ap-northeast-2 (first run): 1 critical, 1 high findings (+8 lower)',
    );
    expect(sectionTexts(message)[0]).toContain('First run: no previous report to compare');
    expect(findingSeverities(message)[0]).toBe('critical');
  });

  it('stays within the limits with 500 new findings and hostile names', () => {
    // Prepare
    const report = manyNewFindingsReport(500, '<!channel> & <https://evil|x>');

    // Act
    const message = composeSlack(reportAlert(report), { topFindings: 500 });

    // Assess
    expectWithinSlackLimits(message);
    expectEscaped(message);
    expect(taggedFindings(message).length).toBeGreaterThan(5);
    expect(
      message.blocks.some(
        (b) =>
          b.type === 'context' &&
          b.elements.some((e) => /^\+\d+ more findings in the report \(changes\.csv/.test(e.text)),
      ),
    ).toBe(true);
  });
});

/** The sample compared with itself, with the all-traffic-open critical accepted as a risk. */
function unchangedWithSuppression(): AuditReport {
  const report = unchangedReport();
  return {
    ...report,
    findings: report.findings.map((f) =>
      f.check === 'all-traffic-open'
        ? {
            ...f,
            suppression: {
              id: 'batch',
              owner: 'ops',
              reason: 'legacy',
              expires: '2030-01-01',
              status: 'active' as const,
            },
          }
        : f,
    ),
  };
}

describe('composeSlack counts one rule change once', () => {
  it('heads with one new critical and lists the rule once', () => {
    // Act
    const message = composeSlack(reportAlert(oneRuleTwoFindingsReport()));

    // Assess
    expect(message.text).toBe('sg-audit: 1 new critical finding in 123456789012/ap-northeast-2');
    expect(taggedFindings(message)).toEqual([['critical', 'new; also low unused-rule']]);
  });
});
