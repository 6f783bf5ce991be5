/**
 * Which flow evidence the audit may trust. A flow log whose source failed, produced no result or
 * was never queried says nothing about its ENIs — left in the inventory, runAudit would read its
 * silence as "unused" and recommend removing rules. So such flow logs are taken out (their ENIs'
 * rules become 'unknown') and the report says why, source by source.
 */
import type { Inventory } from '../model/inventory';
import { errorOfStep, type StepError, type StoredInventory } from '../model/run';
import type { ReportWarning } from '../report/model';

export interface FailedSource {
  readonly sourceId: string;
  readonly error: StepError | string;
}

export interface TrustedEvidence {
  /** The inventory without the flow logs whose records are not in hand. */
  readonly inventory: Inventory;
  /** Discovery degradations and every source without evidence, for the report. */
  readonly warnings: ReportWarning[];
}

/**
 * @example trustedEvidence(stored, ['insights-1'], [{ sourceId: 'athena-fl-1', error: { Error: 'AthenaQueryFailedError' } }])
 */
export function trustedEvidence(
  stored: StoredInventory,
  loadedSourceIds: readonly string[],
  failed: readonly FailedSource[],
): TrustedEvidence {
  const warnings: ReportWarning[] = stored.warnings.map((message) => ({ code: 'discovery', message }));
  const loaded = new Set(loadedSourceIds);
  const failures = new Map(failed.map((f) => [f.sourceId, f.error]));
  const untrusted = new Set<string>();
  for (const source of stored.plan.sources) {
    if (loaded.has(source.sourceId)) continue;
    for (const id of source.flowLogIds) untrusted.add(id);
    const failure = failures.get(source.sourceId);
    const what = `flow source ${source.sourceId} (${source.kind}: ${source.flowLogIds.join(', ')})`;
    const consequence = "rules of the ENIs it records are 'unknown', not judged unused";
    if (failure === undefined) {
      warnings.push({ code: 'flow-source-missing', message: `${what} gave no result; ${consequence}` });
    } else {
      const error = typeof failure === 'string' ? { name: 'Error', message: failure } : errorOfStep(failure);
      warnings.push({
        code: 'flow-source-failed',
        message: `${what} failed: ${error.name}: ${error.message}; ${consequence}`,
      });
    }
  }
  for (const [sourceId, failure] of failures) {
    if (stored.plan.sources.some((s) => s.sourceId === sourceId)) continue;
    const error = typeof failure === 'string' ? { name: 'Error', message: failure } : errorOfStep(failure);
    warnings.push({
      code: 'flow-source-failed',
      message: `flow source ${sourceId} failed: ${error.name}: ${error.message}`,
    });
  }
  for (const { flowLogId, reason } of stored.plan.unqueried) {
    untrusted.add(flowLogId);
    warnings.push({
      code: 'flow-log-not-queried',
      message: `flow log ${flowLogId} ${reason}; its ENIs' rules are 'unknown'`,
    });
  }
  const inventory = {
    ...stored.inventory,
    flowLogs: stored.inventory.flowLogs.filter((f) => !untrusted.has(f.id)),
  };
  return { inventory, warnings };
}
