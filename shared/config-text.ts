/**
 * Configuration values as text gives them — Lambda environment variables, `-c key=value` CDK
 * context — before their schema reads them (zod preprocessors).
 */

/**
 * A blank text is no value.
 *
 * @example blankToUndefined('  ') // undefined
 */
export const blankToUndefined = (v: unknown): unknown =>
  typeof v === 'string' && v.trim() === '' ? undefined : v;

/**
 * `a, b,,c` as ['a', 'b', 'c']; anything else (cdk.json may hold an array) as it is.
 *
 * @example commaList('vpc-1, vpc-2') // ['vpc-1', 'vpc-2']
 */
export const commaList = (v: unknown): unknown =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : v;
