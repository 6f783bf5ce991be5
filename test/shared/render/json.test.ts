import { renderJson } from '../../../shared/render/json';
import type { AuditReport } from '../../../shared/report/model';
import { sampleReport } from '../../fixtures/report-fixture';

/** The same report with every object's keys in reverse insertion order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  );
}

describe('renderJson', () => {
  it('round-trips the report without loss', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const parsed = JSON.parse(renderJson(report)) as AuditReport;

    // Assess
    expect(parsed).toEqual(report);
  });

  it('pretty-prints with two spaces and a trailing newline', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const json = renderJson(report);

    // Assess
    expect(json.startsWith('{\n  "schemaVersion": "1.0.0",\n  "tool": {\n    "name": "sg-audit",')).toBe(
      true,
    );
    expect(json.endsWith('}\n')).toBe(true);
  });

  it('writes keys in model order whatever order the objects were built in', () => {
    // Prepare
    const report = sampleReport();
    const scrambled = reversedKeys(report) as AuditReport;

    // Act
    const fromScrambled = renderJson(scrambled);

    // Assess
    expect(fromScrambled).toBe(renderJson(report));
    const parsed = JSON.parse(fromScrambled) as Record<string, unknown>;
    expect(Object.keys(parsed).slice(0, 4)).toEqual(['schemaVersion', 'tool', 'runId', 'generatedAt']);
    const rule = (parsed.securityGroups as { rules: Record<string, unknown>[] }[])[0]?.rules[0];
    expect(Object.keys(rule ?? {})).toEqual([
      'id',
      'direction',
      'protocol',
      'fromPort',
      'toPort',
      'peer',
      'description',
      'usage',
      'change',
    ]);
  });

  it('keeps fields the order table does not know, after the known ones', () => {
    // Prepare
    const report = { extra: 'x', ...sampleReport() } as AuditReport;

    // Act
    const keys = Object.keys(JSON.parse(renderJson(report)) as object);

    // Assess
    expect(keys.at(-1)).toBe('extra');
    expect(keys[0]).toBe('schemaVersion');
  });
});
