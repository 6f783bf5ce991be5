/**
 * The use case every runner calls after runAudit: apply the accepted risks, compare with the
 * previous report, and render the asked formats — changes.csv included whenever the run was
 * compared and CSV is wanted. The CLI writes the files to a folder, the analyze step to S3.
 */
import { type ReviewedReport, type ReviewOptions, renderChangesCsv, reviewReport } from './history/review';
import { type OutputFormat, type RenderedFile, renderReport } from './render/index';

export interface ReviewAndRenderOptions extends ReviewOptions {
  readonly formats: readonly OutputFormat[];
}

export interface ReviewedAndRendered extends ReviewedReport {
  /** The rendered files, in the canonical order, changes.csv last. */
  readonly files: RenderedFile[];
}

/**
 * Reviews a fresh report and renders it.
 *
 * @example const { report, files } = await reviewAndRender(audited, { compare: true, previous, now: new Date(), formats: OUTPUT_FORMATS });
 */
export async function reviewAndRender(
  audited: Parameters<typeof reviewReport>[0],
  options: ReviewAndRenderOptions,
): Promise<ReviewedAndRendered> {
  const { report, diff } = reviewReport(audited, options);
  const files = await renderReport(report, options.formats);
  if (diff && options.formats.includes('csv')) {
    files.push({
      name: 'changes.csv',
      contentType: 'text/csv; charset=utf-8',
      body: renderChangesCsv(diff, report, options.previous),
    });
  }
  return { report, ...(diff ? { diff } : {}), files };
}
