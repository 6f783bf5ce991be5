/**
 * The table `sg-audit doctor` prints (cli/doctor.ts holds the checks): the flow logs per VPC with
 * their delivery over 24 h and flags, the trial queries with their row counts, the quotas, whether
 * CloudTrail's event history is readable, then what would make the audit blind and the warnings.
 */
import { formatBytes, formatCount } from '../shared/render/format';
import { type DoctorResult, EXIT_NOT_READY, type FlowLogCheck } from './doctor';

/** Columns padded to their widest cell, two spaces apart; control characters blanked. */
function table(rows: readonly (readonly string[])[]): string[] {
  const clean = rows.map((row) => row.map((cell) => cell.replace(/\p{Cc}/gu, ' ')));
  const widths = clean[0]?.map((_, i) => Math.max(...clean.map((row) => row[i]?.length ?? 0))) ?? [];
  return clean.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** The check's line opens with its verdict (a not-verified detail says "could not verify" itself). */
const CHANGE_HISTORY_VERDICT: Readonly<Record<DoctorResult['changeHistory']['status'], string>> = {
  readable: 'ok: ',
  denied: 'FAILED: ',
  'not-verified': '',
};

function permissionLines(check: NonNullable<DoctorResult['permissions']>): string[] {
  const head = `Permissions of ${check.roles.join(', ')} (IAM policy simulator)`;
  if (check.status === 'not-verified') return [head, `  ${check.detail ?? 'not verified'}`];
  return [
    head,
    ...table([
      ['ACTION', 'ON', 'RESULT', 'NEEDED FOR'],
      ...check.checks.map((c) => [
        c.action,
        c.deniedResource ??
          (c.resources && c.resources.length > 0 ? `${c.resources.length} resource(s)` : '*'),
        c.decision === 'allowed'
          ? `ok: ${c.allowedBy.map((arn) => arn.replace(/^.*:role\//, '')).join(', ')}`
          : `${c.blind ? 'BLIND' : 'missing'}: ${c.decision}`,
        c.need,
      ]),
    ]).map((line) => `  ${line}`),
  ];
}

function deliveryText(delivery: FlowLogCheck['delivery']): string {
  switch (delivery.status) {
    case 'delivered':
      return delivery.objects !== undefined
        ? `ok: ${formatCount(delivery.objects)} objects, ${formatBytes(delivery.bytes ?? 0)}${delivery.newestDelivery ? `, newest ${delivery.newestDelivery}` : ''}`
        : `ok: ${formatCount(delivery.incomingLogEvents ?? 0)} events`;
    case 'silent':
      return 'SILENT for 24 h';
    case 'too-new':
      return 'not yet (new)';
    default:
      return `${delivery.status.replace('-', ' ')}${delivery.detail ? `: ${delivery.detail}` : ''}`;
  }
}

/**
 * The readiness table people read: flow logs per VPC with their delivery, the trial queries, the
 * quotas, then what would make the audit blind and the warnings.
 *
 * @example process.stdout.write(renderDoctor(result));
 */
export function renderDoctor(result: DoctorResult): string {
  const lines = [
    `sg-audit doctor: account ${result.accountId ?? '?'}, region ${result.region ?? '?'}, ${result.checkedAt}`,
    '',
    'Flow logs (delivery: the last 24 h)',
  ];
  const flowRow = (vpc: string, f: FlowLogCheck): string[] => [
    vpc,
    f.flowLogId,
    `${f.scope} ${f.resourceId}`,
    f.trafficType,
    `${f.destinationType}: ${f.destination}`,
    `${f.format.custom ? 'custom' : 'default'} v${f.format.version}`,
    f.readBy,
    [deliveryText(f.delivery), ...f.flags].join('; '),
  ];
  const flowRows = result.vpcs.flatMap((vpc) => {
    const logs = result.flowLogs.filter((f) => f.vpcId === vpc.vpcId);
    if (logs.length === 0) return [[vpc.vpcId, '(none)', '', '', '', '', '', 'BLIND: no flow log']];
    return logs.map((f) => flowRow(vpc.vpcId, f));
  });
  const elsewhere = result.flowLogs
    .filter((f) => f.vpcId === undefined || !result.vpcs.some((v) => v.vpcId === f.vpcId))
    .map((f) => flowRow('?', f));
  const tgw = result.transitGatewayFlowLogs.map((f) => [
    '-',
    f.id,
    `transit-gateway ${f.resourceId}`,
    '',
    f.destinationType,
    '',
    'none',
    'skipped: no ENI evidence',
  ]);
  lines.push(
    ...table([
      ['VPC', 'FLOW LOG', 'COVERS', 'TRAFFIC', 'DESTINATION', 'FORMAT', 'READ BY', 'DELIVERY'],
      ...flowRows,
      ...elsewhere,
      ...tgw,
    ]),
    '',
    `Trial queries (${result.trialWindow.start} .. ${result.trialWindow.end})`,
  );
  lines.push(
    ...(result.trials.length === 0
      ? ['  none planned (no flow log is read by Logs Insights or Athena)']
      : table([
          ['SOURCE', 'ENGINE', 'READS', 'RESULT'],
          ...result.trials.map((t) => [
            t.sourceId,
            t.engine,
            t.reads.join(', '),
            t.status === 'ok'
              ? `ok: ${formatCount(t.rows ?? 0)} rows, ${formatCount(t.records ?? 0)} records, ${formatBytes(t.bytesScanned ?? 0)} scanned`
              : `FAILED: ${t.error ?? ''}`,
          ]),
        ])),
    '',
    'Quotas',
    ...table([
      ['QUOTA', 'VALUE', 'SOURCE'],
      ...result.quotas.map((q) => [q.name, q.value === undefined ? '?' : String(q.value), q.source]),
    ]),
    '',
    'CloudTrail event history (who opened each rule)',
    `  ${CHANGE_HISTORY_VERDICT[result.changeHistory.status]}${result.changeHistory.detail}`,
    '',
  );
  if (result.permissions) lines.push(...permissionLines(result.permissions), '');
  if (result.problems.length > 0) {
    lines.push('The audit would be blind:', ...result.problems.map((p) => `  - ${p}`), '');
  }
  if (result.warnings.length > 0) lines.push('Warnings:', ...result.warnings.map((w) => `  - ${w}`), '');
  lines.push(
    result.ready
      ? 'Ready: every flow log delivers and every trial query ran.'
      : `Not ready: ${result.problems.length} problem(s) above (exit ${EXIT_NOT_READY}).`,
  );
  return `${lines.join('\n')}\n`;
}
