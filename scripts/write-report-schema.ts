/** Writes docs/report.schema.json from the report's zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { reportJsonSchema } from '../shared/report/schema';

const target = process.argv[2] ?? 'docs/report.schema.json';
writeFileSync(target, `${JSON.stringify(reportJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
