/**
 * A record is counted once per ENI (design semantics 6), even when a VPC-, a subnet- and an
 * ENI-level flow log all record that ENI: each delivers its own copy of the same traffic, and
 * summing them would double every connection. So per ENI and action one flow log is read — the
 * one with the most proven delivery for that ENI, then the most specific (ENI, subnet, VPC) — and
 * the other logs' rows are left out and counted. Rows whose source could not tell their flow log
 * form one group of their own.
 */
import type { FlowAggregate } from '../model/flow';
import type { FlowLogConfig } from '../model/inventory';
import type { DeliveryProof } from './delivery';

export interface OneReaderResult {
  readonly aggregates: readonly FlowAggregate[];
  /** Per ENI whose rows came from several flow logs: the one read and those left out. */
  readonly choices: readonly {
    eniId: string;
    action: string;
    read: string;
    leftOut: readonly string[];
    records: number;
  }[];
}

const UNKNOWN = '';

function specificity(log: FlowLogConfig | undefined): number {
  if (log === undefined) return 0;
  if (log.resourceId.startsWith('eni-')) return 3;
  if (log.resourceId.startsWith('subnet-')) return 2;
  return 1;
}

/** Per ENI and action, the one flow log read, and what was left out so far. */
export interface OneReaderChoice {
  /** Whether a row is of the flow log read for its ENI and action (pure: ask as often as needed). */
  keeps(row: FlowAggregate): boolean;
  /** Counts a row `keeps` refused among the choice's left-out records. */
  leftOut(row: FlowAggregate): void;
  readonly choices: OneReaderResult['choices'];
}

/**
 * Chooses, per ENI and action seen with rows of several flow logs, the one to read: the most
 * proven delivery for that ENI, then the most specific log, then the id.
 *
 * @example chooseOneReader([{ eniId: 'eni-1', action: 'ACCEPT', flowLogId: 'fl-vpc' }, …], flowLogs, proof).keeps(row)
 */
export function chooseOneReader(
  readers: Iterable<{ readonly eniId: string; readonly action: string; readonly flowLogId?: string }>,
  flowLogs: readonly FlowLogConfig[],
  proof: DeliveryProof | undefined,
): OneReaderChoice {
  const logsByKey = new Map<string, Set<string>>();
  for (const row of readers) {
    const key = `${row.eniId}|${row.action}`;
    const set = logsByKey.get(key) ?? new Set<string>();
    set.add(row.flowLogId ?? UNKNOWN);
    logsByKey.set(key, set);
  }
  const byId = new Map(flowLogs.map((log) => [log.id, log]));
  const proven = (logId: string, eniId: string): number =>
    proof === undefined || logId === UNKNOWN ? 0 : proof.provenFor(logId, eniId).filter(Boolean).length;
  const chosen = new Map<string, string>();
  const choices: { eniId: string; action: string; read: string; leftOut: string[]; records: number }[] = [];
  const choiceByKey = new Map<string, (typeof choices)[number]>();
  for (const [key, logs] of logsByKey) {
    if (logs.size === 1) continue;
    const eniId = key.slice(0, key.lastIndexOf('|'));
    const action = key.slice(key.lastIndexOf('|') + 1);
    const ranked = [...logs].sort(
      (a, b) =>
        proven(b, eniId) - proven(a, eniId) ||
        specificity(byId.get(b)) - specificity(byId.get(a)) ||
        a.localeCompare(b),
    );
    const [read = UNKNOWN, ...leftOut] = ranked;
    chosen.set(key, read);
    const choice = {
      eniId,
      action,
      read: read || 'unnamed files',
      leftOut: leftOut.map((l) => l || 'unnamed files'),
      records: 0,
    };
    choices.push(choice);
    choiceByKey.set(key, choice);
  }
  const keyOf = (row: FlowAggregate) => `${row.eniId}|${row.action}`;
  return {
    keeps(row) {
      if (chosen.size === 0) return true;
      const read = chosen.get(keyOf(row));
      return read === undefined || (row.flowLogId ?? UNKNOWN) === read;
    },
    leftOut(row) {
      const choice = choiceByKey.get(keyOf(row));
      if (choice) choice.records += row.records;
    },
    choices,
  };
}

/**
 * Keeps, per ENI and action, the rows of one flow log.
 *
 * @example keepOneReaderPerEni(rows, flowLogs, proof).aggregates // rows of fl-eni only where fl-vpc recorded the ENI too
 */
export function keepOneReaderPerEni(
  aggregates: readonly FlowAggregate[],
  flowLogs: readonly FlowLogConfig[],
  proof: DeliveryProof | undefined,
): OneReaderResult {
  const choice = chooseOneReader(aggregates, flowLogs, proof);
  if (choice.choices.length === 0) return { aggregates, choices: [] };
  const kept = aggregates.filter((row) => {
    if (choice.keeps(row)) return true;
    choice.leftOut(row);
    return false;
  });
  return { aggregates: kept, choices: choice.choices };
}
