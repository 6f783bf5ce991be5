import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { reportJsonSchema } from '../../../shared/report/schema';
import { SUPPRESSIONS_JSON_SCHEMA } from '../../../shared/suppressions/suppressions';
import { sampleReport } from '../../fixtures/report-fixture';

const committedPath = path.join(__dirname, '../../../docs/report.schema.json');

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  enum?: unknown[];
  anyOf?: JsonSchemaNode[];
}

/** Every property path of the committed schema with its type, to prove changes are additive. */
function propertyPaths(node: JsonSchemaNode, prefix = ''): Map<string, string> {
  const paths = new Map<string, string>();
  if (node.type) paths.set(prefix || '(root)', node.type);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    for (const [p, t] of propertyPaths(child, `${prefix}.${key}`)) paths.set(p, t);
  }
  if (node.items) for (const [p, t] of propertyPaths(node.items, `${prefix}[]`)) paths.set(p, t);
  return paths;
}

describe('report JSON Schema', () => {
  it('matches the committed docs/report.schema.json (regenerate with npm run schema)', () => {
    // Prepare
    const committed = JSON.parse(readFileSync(committedPath, 'utf8'));
    // Act
    const generated = JSON.parse(JSON.stringify(reportJsonSchema()));
    // Assess
    expect(generated).toEqual(committed);
  });

  it('publishes the suppressions file schema as committed in docs/suppressions.schema.json', () => {
    // Prepare
    const committed = JSON.parse(
      readFileSync(path.join(__dirname, '../../../docs/suppressions.schema.json'), 'utf8'),
    );
    // Act
    const generated = JSON.parse(JSON.stringify(SUPPRESSIONS_JSON_SCHEMA));
    // Assess
    expect(generated).toEqual(committed);
  });

  it('keeps every committed property with its type (changes are additive)', () => {
    // Prepare
    const committed = propertyPaths(JSON.parse(readFileSync(committedPath, 'utf8')));
    // Act
    const generated = propertyPaths(reportJsonSchema() as JsonSchemaNode);
    // Assess
    for (const [p, type] of committed) expect([p, generated.get(p)]).toEqual([p, type]);
  });

  it('accepts a complete report and rejects one with a missing field', () => {
    // Prepare
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const validate = ajv.compile(reportJsonSchema());
    const report = JSON.parse(JSON.stringify(sampleReport()));
    const broken = { ...report, summary: { ...report.summary, flowRecords: undefined } };
    delete broken.summary.flowRecords;
    // Act
    const ok = validate(report);
    const errors = validate.errors;
    const bad = validate(broken);
    // Assess
    expect(errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(bad).toBe(false);
  });
});
