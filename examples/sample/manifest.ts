/**
 * The EXPECTED manifest of the sample account: what each SG, rule and ENI is meant to show
 * (findings, verdicts, recommendations, coverage), plus the facts of this generation (record
 * counts, the malformed lines' file:line). EXPECTED.json for tests, EXPECTED.md for people.
 */
import {
  ACCOUNT_ID,
  type ExpectedFinding,
  eniIdOf,
  FLOW_LOGS,
  flowLogIdOf,
  NETWORK_INTERFACES,
  peerText,
  REGION,
  SECURITY_GROUPS,
  type SgSpec,
  sgIdOf,
  sgSpec,
  subnetIdOf,
  subnetSpec,
  vpcIdOf,
  WINDOW_END,
  WINDOW_START,
} from './account';
import { flowLogResourceId } from './aws-json';
import { EXPECTED_RULE_CHANGES, HISTORY_END, HISTORY_START } from './cloudtrail';
import type { FlowLogStats, MalformedLine } from './flow-files';
import { BATCH_PORTS } from './traffic';
import { trafficViewsManifest, trafficViewsMarkdown } from './traffic-views';

export interface GenerationFacts {
  readonly seed: string;
  readonly scale: number;
  readonly files: number;
  readonly records: number;
  readonly nodata: number;
  readonly skipdata: number;
  readonly flowLogs: readonly FlowLogStats[];
  readonly malformed: readonly MalformedLine[];
}

const iso = (epoch: number): string => new Date(epoch * 1000).toISOString();

/** Declared findings plus an `unused-rule` finding for every rule expected unused. */
function expectedFindings(sg: SgSpec): ExpectedFinding[] {
  const derived = sg.rules.flatMap((rule, index): ExpectedFinding[] =>
    rule.expect.status === 'unused' && !sg.findings.some((f) => f.check === 'unused-rule' && f.rule === index)
      ? [
          {
            check: 'unused-rule',
            severities: ['low', 'info'],
            rule: index,
            why: 'unused under full coverage',
          },
        ]
      : [],
  );
  return [...sg.findings, ...derived];
}

/** The machine-readable manifest (EXPECTED.json). */
export function buildManifest(facts: GenerationFacts): Record<string, unknown> {
  return {
    description:
      'What a correct sg-audit run over this export must find. Severities and verdicts list the acceptable values, intended first; resource names are hints. Malformed file paths are relative to the export directory.',
    generator: {
      command: 'node --import tsx examples/generate-sample.ts',
      seed: facts.seed,
      scale: facts.scale,
    },
    accountId: ACCOUNT_ID,
    region: REGION,
    window: {
      start: iso(WINDOW_START),
      end: iso(WINDOW_END),
      note: 'Traffic spans exactly this week; the newest record ends just before the end.',
    },
    totals: {
      files: facts.files,
      records: facts.records,
      nodataRecords: facts.nodata,
      skipdataRecords: facts.skipdata,
      malformedLines: facts.malformed.length,
    },
    flowLogs: FLOW_LOGS.map((log) => {
      const stats = facts.flowLogs.find((s) => s.key === log.key);
      return {
        id: flowLogIdOf(log.key),
        name: log.name,
        scope: log.scope,
        resourceId: flowLogResourceId(log),
        trafficType: log.trafficType,
        fileFormat: log.fileFormat,
        fields: log.fields,
        created: log.created,
        ...(log.deliveryGap !== undefined ? { deliveryGap: log.deliveryGap } : {}),
        story: log.story,
        files: stats?.files ?? 0,
        records: stats?.records ?? 0,
        acceptRecords: stats?.accept ?? 0,
        rejectRecords: stats?.reject ?? 0,
        nodataRecords: stats?.nodata ?? 0,
        skipdataRecords: stats?.skipdata ?? 0,
        malformedLines: stats?.malformed ?? 0,
      };
    }),
    malformed: facts.malformed.map(({ file, line, reason, text }) => ({ file, line, reason, text })),
    networkInterfaces: NETWORK_INTERFACES.map((eni) => ({
      id: eniIdOf(eni.key),
      key: eni.key,
      vpcId: vpcIdOf(subnetSpec(eni.subnet).vpc),
      subnetId: subnetIdOf(eni.subnet),
      privateIp: eni.ip,
      sgIds: eni.sgs.map(sgIdOf),
      resourceType: eni.expected.type,
      otherResourceTypes: eni.expected.otherTypes,
      resourceNameHint: eni.expected.name,
      coverage: eni.expected.coverage,
      note: eni.expected.note,
    })),
    securityGroups: SECURITY_GROUPS.map((sg) => ({
      id: sgIdOf(sg.key),
      name: sg.name,
      vpcId: vpcIdOf(sg.vpc),
      story: sg.story,
      enis: NETWORK_INTERFACES.filter((eni) => eni.sgs.includes(sg.key)).map((eni) => eniIdOf(eni.key)),
      findings: expectedFindings(sg).map((finding) => {
        const rule = finding.rule === undefined ? undefined : sg.rules[finding.rule];
        return {
          check: finding.check,
          severities: finding.severities,
          why: finding.why,
          ...(rule
            ? {
                direction: rule.direction,
                protocol: rule.protocol,
                fromPort: rule.fromPort,
                toPort: rule.toPort,
                peer: peerText(rule.peer),
              }
            : {}),
        };
      }),
      rules: sg.rules.map((rule) => ({
        direction: rule.direction,
        protocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        peer: peerText(rule.peer),
        status: rule.expect.status,
        verdicts: rule.expect.verdicts,
        why: rule.expect.why,
        recommend: rule.expect.recommend,
      })),
    })),
    ruleChanges: {
      file: 'cloudtrail-events.json',
      start: iso(HISTORY_START),
      end: iso(HISTORY_END),
      note: "Who last created or widened each rule (CloudTrail). Rules not listed are older than the history: 'before <start> (outside CloudTrail's 90-day event history)'.",
      attributed: EXPECTED_RULE_CHANGES.map((change) => {
        const sg = sgSpec(change.sg);
        const rule = sg.rules[change.rule];
        return {
          sgId: sgIdOf(change.sg),
          sgName: sg.name,
          direction: rule?.direction,
          protocol: rule?.protocol,
          fromPort: rule?.fromPort,
          toPort: rule?.toPort,
          peer: rule ? peerText(rule.peer) : undefined,
          kind: change.kind,
          principalArn: change.principalArn,
          channel: change.channel,
          eventTime: change.eventTime,
          story: change.story,
        };
      }),
    },
    highlights: {
      summarisedSlash24: [
        'prod-bastion-sg 22: 203.0.113.0/24',
        'batch-workers-sg: 10.1.10.0/24',
        'prod-vpce-sg 443: 10.0.10.0/24',
      ],
      portGroup: `batch-workers-sg: ports ${BATCH_PORTS.from}-${BATCH_PORTS.to} used (40 >= 10) -> 20001-30000`,
      sgReference: [
        'prod-ingest-sg 8000-8100 from 10.0.0.0/16 -> prod-ingest-nlb-sg',
        'prod-apigw-vpclink-sg egress 443 to 10.0.0.0/16 -> prod-web-alb-sg',
      ],
      quotaCompaction: 'prod-web-alb-sg ingress 443 0.0.0.0/0: hundreds of client /32s (if narrowed at all)',
    },
    ...trafficViewsManifest(),
  };
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value).replaceAll('|', '\\|');
}

function portsText(from?: number, to?: number): string {
  if (from === undefined) return 'all';
  return from === to ? String(from) : `${from}-${to}`;
}

/** The human-readable manifest (EXPECTED.md). */
export function renderManifestMarkdown(facts: GenerationFacts): string {
  const out: string[] = [];
  out.push('# Sample account: what a correct audit must find');
  out.push('');
  out.push(
    `Generated by \`node --import tsx examples/generate-sample.ts\` (seed \`${facts.seed}\`, scale ${facts.scale}). ` +
      `Account ${ACCOUNT_ID}, ${REGION}. Traffic window ${iso(WINDOW_START)} – ${iso(WINDOW_END)}. ` +
      'The machine-readable version is EXPECTED.json.',
  );
  out.push('');
  out.push(
    `Totals: ${facts.files} flow-log objects, ${facts.records} records (ACCEPT/REJECT), ` +
      `${facts.nodata} NODATA, ${facts.skipdata} SKIPDATA, ${facts.malformed.length} malformed lines.`,
  );
  out.push('');
  out.push('## Flow logs');
  out.push('');
  out.push('| id | name | scope | traffic | format | created | files | records | story |');
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const log of FLOW_LOGS) {
    const stats = facts.flowLogs.find((s) => s.key === log.key);
    out.push(
      `| ${flowLogIdOf(log.key)} | ${log.name} | ${log.scope} ${flowLogResourceId(log)} | ${log.trafficType} | ` +
        `${log.fileFormat}${log.isDefaultFormat ? ' (default)' : ' (custom v5)'} | ${log.created} | ${stats?.files ?? 0} | ` +
        `${stats?.records ?? 0} | ${cell(log.story)} |`,
    );
  }
  out.push('');
  out.push('## Malformed lines (must be counted and skipped, never crash the audit)');
  out.push('');
  out.push('| file | line | reason |');
  out.push('|---|---|---|');
  for (const line of facts.malformed) out.push(`| ${line.file} | ${line.line} | ${cell(line.reason)} |`);
  out.push('');
  out.push('## ENIs: resource type and coverage');
  out.push('');
  out.push('| ENI | private IP | SGs | resource | coverage | note |');
  out.push('|---|---|---|---|---|---|');
  for (const eni of NETWORK_INTERFACES) {
    out.push(
      `| ${eniIdOf(eni.key)} (${eni.key}) | ${eni.ip} | ${eni.sgs.map((key) => sgSpec(key).name).join(', ')} | ${[eni.expected.type, ...(eni.expected.otherTypes ?? [])].join(' or ')}: ${cell(eni.expected.name)} | ` +
        `${eni.expected.coverage} | ${cell(eni.expected.note)} |`,
    );
  }
  out.push('');
  out.push(...trafficViewsMarkdown(), '');
  out.push('## Who opened the rules (cloudtrail-events.json)');
  out.push('');
  out.push(
    `The CloudTrail history reaches from ${iso(HISTORY_START)} to ${iso(HISTORY_END)}; rules not listed here are older ` +
      'than it: "before <date> (outside CloudTrail\'s 90-day event history)".',
  );
  out.push('');
  out.push('| SG | rule | change | by | via | at | story |');
  out.push('|---|---|---|---|---|---|---|');
  for (const change of EXPECTED_RULE_CHANGES) {
    const sg = sgSpec(change.sg);
    const rule = sg.rules[change.rule];
    const ruleText = rule
      ? `${rule.direction} ${rule.protocol} ${portsText(rule.fromPort, rule.toPort)} ${peerText(rule.peer)}`
      : '';
    out.push(
      `| ${sg.name} | ${ruleText} | ${change.kind} | ${change.principalArn} | ${change.channel} | ${change.eventTime} | ${cell(change.story)} |`,
    );
  }
  out.push('');
  out.push('## Security groups');
  for (const sg of SECURITY_GROUPS) {
    out.push('');
    out.push(`### ${sg.name} (${sgIdOf(sg.key)}, ${vpcIdOf(sg.vpc)})`);
    out.push('');
    out.push(sg.story);
    out.push('');
    const findings = expectedFindings(sg);
    if (findings.length > 0) {
      out.push('Findings:');
      for (const finding of findings) {
        const rule = finding.rule === undefined ? undefined : sg.rules[finding.rule];
        const where = rule
          ? ` on ${rule.direction} ${rule.protocol} ${portsText(rule.fromPort, rule.toPort)} ${peerText(rule.peer)}`
          : '';
        out.push(`- \`${finding.check}\` (${finding.severities.join(' or ')})${where}: ${finding.why}`);
      }
      out.push('');
    } else {
      out.push('Findings: none expected.');
      out.push('');
    }
    if (sg.rules.length > 0) {
      out.push('| direction | protocol | ports | peer | status | verdict | why | recommendation |');
      out.push('|---|---|---|---|---|---|---|---|');
      for (const rule of sg.rules) {
        out.push(
          `| ${rule.direction} | ${rule.protocol} | ${portsText(rule.fromPort, rule.toPort)} | ${peerText(rule.peer)} | ` +
            `${rule.expect.status} | ${rule.expect.verdicts.join(' / ')} | ${cell(rule.expect.why)} | ` +
            `${cell(rule.expect.recommend?.join('<br>'))} |`,
        );
      }
    } else {
      out.push('No rules.');
    }
  }
  out.push('');
  return out.join('\n');
}
