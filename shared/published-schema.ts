/**
 * What every file format sg-audit publishes shares: its JSON Schema (draft 2020-12, under
 * https://sg-audit.dev/schemas/), generated from the zod schema that validates it, and the
 * compile-time check that the zod schema and the TypeScript model describe the same shape.
 */
import { z } from 'zod';

/** T with every readonly removed, deeply: what a zod schema infers for a readonly model. */
export type DeepWritable<T> = T extends (infer U)[] | readonly (infer U)[]
  ? DeepWritable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepWritable<T[K]> }
    : T;

/** T with every field and array readonly, deeply: the readonly model of what a zod schema validates. */
export type DeepReadonly<T> = T extends (infer U)[] | readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * `true` when a schema's inferred type `S` and a readonly model `M` are the same shape, both ways;
 * otherwise which side has more.
 *
 * @example export const schemaMatchesModel: SchemaMatchesModel<z.infer<typeof auditReportSchema>, AuditReport> = true;
 */
export type SchemaMatchesModel<S, M> = [S] extends [DeepWritable<M>]
  ? [DeepWritable<M>] extends [S]
    ? true
    : 'model has fields the schema lacks'
  : 'schema has fields the model lacks';

/**
 * The published JSON Schema (draft 2020-12) of a file format: its `$id` under
 * https://sg-audit.dev/schemas/, its title, then what zod generates for its input.
 *
 * @example publishedJsonSchema(remediationPlanSchema, 'plan.schema.json', 'sg-audit change plan')
 */
export function publishedJsonSchema(
  schema: z.ZodType,
  schemaFile: string,
  title: string,
): Record<string, unknown> {
  return {
    $id: `https://sg-audit.dev/schemas/${schemaFile}`,
    title,
    ...(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>),
  };
}
