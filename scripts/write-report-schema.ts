/**
 * Writes the published JSON Schemas (`npm run schema`): docs/report.schema.json,
 * docs/suppressions.schema.json, docs/plan.schema.json, docs/applied.schema.json and
 * docs/egress-allowlist.schema.json.
 */
import { writeFileSync } from 'node:fs';
import { appliedJsonSchema, planJsonSchema } from '../shared/remediation/schema';
import { reportJsonSchema } from '../shared/report/schema';
import { EGRESS_ALLOWLIST_JSON_SCHEMA } from '../shared/suppressions/egress-allowlist';
import { SUPPRESSIONS_JSON_SCHEMA } from '../shared/suppressions/suppressions';

const outputs: [string, unknown][] = [
  ['docs/report.schema.json', reportJsonSchema()],
  ['docs/suppressions.schema.json', SUPPRESSIONS_JSON_SCHEMA],
  ['docs/plan.schema.json', planJsonSchema()],
  ['docs/applied.schema.json', appliedJsonSchema()],
  ['docs/egress-allowlist.schema.json', EGRESS_ALLOWLIST_JSON_SCHEMA],
];
for (const [target, schema] of outputs) {
  writeFileSync(target, `${JSON.stringify(schema, null, 2)}\n`);
  process.stdout.write(`wrote ${target}\n`);
}
