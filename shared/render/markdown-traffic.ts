/**
 * summary.md's traffic sections: what the rules refused (by class, with the suggested rules and
 * NACL entries named, probes summed up) and where egress goes (unexpected destinations first).
 * The full lists are in rejected.csv and egress.csv.
 */
import type { EgressDestination, EgressReport } from '../model/egress';
import type { RejectedConnection, RejectedReport } from '../model/rejected';
import type { AuditReport } from '../report/model';
import { formatBytes, formatCount, formatQuantity } from './format';
import { markdownText } from './markdown-text';
import { rejectedOverview, rejectedTraffic, sgLabel } from './traffic-words';

/** Rows listed per kind; the rest are in the CSVs. */
const LISTED = 10;

function code(text: string): string {
  return `\`${text.replace(/`/g, '')}\``;
}

function sgNames(report: AuditReport): Map<string, string> {
  return new Map(report.securityGroups.map((sg) => [sg.id, sg.name]));
}

/** A titled list of the first rows, saying where the rest are; nothing when there are none. */
/**
 * Titled listings of one file's rows, one line each: each at most LISTED rows and a line counting
 * the rest (the file has them all); a section without rows is left out.
 */
function listings<T>(
  file: string,
  line: (row: T) => string,
  sections: readonly (readonly [title: string, rows: readonly T[]])[],
): string[] {
  return sections.flatMap(([title, rows]) => {
    if (rows.length === 0) return [];
    const more =
      rows.length > LISTED ? [`  - …and ${formatCount(rows.length - LISTED)} more (see ${file})`] : [];
    return [title, ...rows.slice(0, LISTED).map(line), ...more];
  });
}

function rejectedRowLine(row: RejectedConnection, names: ReadonlyMap<string, string>): string {
  const where = `${row.direction === 'ingress' ? 'from' : 'to'} ${row.peer}`;
  const attempts = formatQuantity(row.connections, 'attempt', 'attempts');
  if (row.class === 'missing-rule' && row.suggestion) {
    return `  - ${markdownText(sgLabel(row.suggestion.sgId, names))}: ${code(row.suggestion.text)} — ${attempts} ${where} on ${rejectedTraffic(row)} at ${code(row.eniId)}; ${markdownText(row.suggestion.why)}`;
  }
  return `  - ${code(row.eniId)} ${where} on ${rejectedTraffic(row)}${row.replyOnly ? ' (replies)' : ''}: ${markdownText(row.nacl?.text ?? 'no NACL entry named')} — ${attempts}`;
}

/**
 * The rejected-connections section, or nothing for a report without it.
 *
 * @example rejectedLines(report)[0] // '## Rejected connections'
 */
export function rejectedLines(report: AuditReport): string[] {
  const rejected: RejectedReport | undefined = report.rejected;
  if (rejected === undefined) return [];
  const names = sgNames(report);
  const lines = [
    '## Rejected connections',
    '',
    `- **Refused:** ${rejectedOverview(rejected)} (rejected.csv)`,
  ];
  lines.push(
    ...listings('rejected.csv', (r: RejectedConnection) => rejectedRowLine(r, names), [
      [
        '- **Probably missing rules** (suggestions to review; blocked traffic may be unwanted, so none is applied without approval):',
        rejected.rows.filter((r) => r.class === 'missing-rule'),
      ],
      [
        '- **Refused by a network ACL** (the SGs admit it, or it is return traffic):',
        rejected.rows.filter((r) => r.class === 'nacl'),
      ],
    ]),
  );
  if (rejected.byClass.probe > 0) {
    const ports = rejected.topPorts
      .slice(0, 5)
      .map((p) => `${rejectedTraffic(p)} ×${formatCount(p.connections)}`)
      .join(', ');
    const sources = rejected.topSources
      .slice(0, 5)
      .map((s) => `${s.addr} ×${formatCount(s.connections)}`)
      .join(', ');
    lines.push(
      `- **Blocked probing** (the SGs doing their job, no rule suggested): ${formatQuantity(rejected.byClass.probe, 'attempt', 'attempts')}; top ports ${ports}; top sources ${sources}`,
    );
  }
  if (rejected.unrecordedEnis.length > 0) {
    lines.push(
      `- **Not seen:** ${formatQuantity(rejected.unrecordedEnis.length, 'audited ENI has', 'audited ENIs have')} no flow log recording REJECT: what their SGs refused is unknown, not absent`,
    );
  }
  if (rejected.unexplainedReplies > 0) {
    lines.push(
      `- **Refused replies no NACL explains:** ${formatQuantity(rejected.unexplainedReplies, 'record', 'records')} (e.g. replies after connection tracking expired), not counted as attempts`,
    );
  }
  return lines;
}

function egressLine(d: EgressDestination, names: ReadonlyMap<string, string>): string {
  const port = d.port === null ? d.protocol : `${d.protocol}/${d.port}`;
  const expected = d.allowListId ? ` (allow-list ${code(d.allowListId)})` : '';
  return `  - ${markdownText(sgLabel(d.sgId, names))} → ${markdownText(d.destination)} ${port}: ${formatQuantity(d.connections, 'connection', 'connections')}, ${formatBytes(d.bytes)}, ${formatQuantity(d.addresses, 'address', 'addresses')} (${d.topAddresses.slice(0, 3).join(', ')})${expected}`;
}

function allowListLine(egress: EgressReport): string {
  const list = egress.allowList;
  if (list === undefined) {
    return '- **Allow-list:** none given (`--egress-allowlist`): no destination was reviewed, none is called unexpected';
  }
  const expired = list.expired.length > 0 ? `; expired: ${list.expired.map(code).join(', ')}` : '';
  return `- **Allow-list:** ${code(list.file)}, ${formatQuantity(list.entries, 'entry', 'entries')}; ${formatQuantity(egress.unexpected, 'destination group is', 'destination groups are')} not on it${expired}`;
}

/**
 * The egress-destinations section, or nothing for a report without it.
 *
 * @example egressLines(report)[0] // '## Egress destinations'
 */
export function egressLines(report: AuditReport): string[] {
  const egress = report.egress;
  if (egress === undefined) return [];
  const names = sgNames(report);
  const lines = [
    '## Egress destinations',
    '',
    `- **Outside the account's VPCs:** ${formatQuantity(egress.connections, 'connection', 'connections')}, ${formatBytes(egress.bytes)}, to ${formatQuantity(egress.destinations.length + egress.omittedRows, 'destination group', 'destination groups')} (egress.csv); flow logs carry addresses, not names`,
    allowListLine(egress),
  ];
  const busiest = [...egress.destinations].sort((a, b) => b.connections - a.connections).slice(0, LISTED);
  lines.push(
    ...listings('egress.csv', (d: EgressDestination) => egressLine(d, names), [
      ['- **Unexpected:**', egress.destinations.filter((d) => d.expected === 'no')],
      [
        '- **Admin ports to the internet** (below 1024, not 80/443):',
        egress.destinations.filter((d) => d.adminPort && d.expected !== 'yes'),
      ],
      ['- **Busiest destinations:**', busiest],
    ]),
  );
  if (egress.incompleteEnis.length > 0) {
    lines.push(
      `- **Partly seen:** ${formatQuantity(egress.incompleteEnis.length, 'audited ENI lacks', 'audited ENIs lack')} full ACCEPT coverage: their destinations are a lower bound`,
    );
  }
  return lines;
}
