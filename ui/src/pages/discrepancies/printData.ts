// What the printable report needs from the backend: the rows of the current filter and sort
// (read in blocks through list_discrepancies, each block right after the last row of the one
// before, as the table reads them), the totals per currency and the count per class.
import * as commands from '../../commands';
import { OUTCOME_CLASSES } from '../../types';
import type { CurrencyTotal, DiscrepancyPage, DiscrepancyRecord, Filter, OutcomeClass, PageCursor, Sort } from '../../types';

/** At most this many rows are printed (more: the report says so and points to CSV/XLSX). */
export const PRINT_MAX_ROWS = 5000;
/** Rows asked for per list_discrepancies call (the command takes at most 1,000). */
export const PRINT_BLOCK = 500;

/** Thrown (and not reported) when the person cancelled while the report was being prepared. */
export class PrintCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export interface PrintRows {
  rows: DiscrepancyRecord[];
  /** How many discrepancies match the filter (the last count the backend gave). */
  total: number;
}

export interface LoadOptions {
  cap?: number;
  blockSize?: number;
  /** After each block: rows read so far, and how many will be read in all. */
  onProgress?: (loaded: number, target: number) => void;
  /** Checked after every answer: true stops the reading (PrintCancelled). */
  cancelled?: () => boolean;
}

/** The first `cap` rows of the filter in the given sort. */
export async function loadPrintRows(filter: Filter, sort: Sort, options: LoadOptions = {}): Promise<PrintRows> {
  const cap = options.cap ?? PRINT_MAX_ROWS;
  const blockSize = options.blockSize ?? PRINT_BLOCK;
  const rows: DiscrepancyRecord[] = [];
  let total = 0;
  let last: PageCursor | null = null;
  for (;;) {
    const limit = Math.min(blockSize, cap - rows.length);
    const offset = rows.length;
    const page: DiscrepancyPage = last
      ? await commands.listDiscrepancies(filter, sort, limit, offset, { after: last })
      : await commands.listDiscrepancies(filter, sort, limit, offset);
    if (options.cancelled?.()) throw new PrintCancelled();
    total = page.total;
    rows.push(...page.discrepancies);
    last = page.last ?? null;
    options.onProgress?.(rows.length, Math.min(total, cap));
    // A short block is the end of the list (the count may have changed meanwhile).
    if (page.discrepancies.length < limit || rows.length >= cap || rows.length >= total) break;
  }
  return { rows, total };
}

export interface ClassCount {
  class: OutcomeClass;
  /** Discrepancies of this class, all currencies (counts add up; amounts do not). */
  count: number;
  /** What they put at stake, per currency. */
  amounts: CurrencyTotal[];
}

/**
 * The count of each class the filter admits (the filter's classes, or every class), one
 * discrepancy_totals call per class, one after the other. Classes without any are left out.
 */
export async function loadClassCounts(filter: Filter, cancelled?: () => boolean): Promise<ClassCount[]> {
  const classes = filter.classes && filter.classes.length > 0 ? filter.classes : OUTCOME_CLASSES;
  const out: ClassCount[] = [];
  for (const c of classes) {
    const amounts = await commands.discrepancyTotals({ ...filter, classes: [c] });
    if (cancelled?.()) throw new PrintCancelled();
    const count = amounts.reduce((n, a) => n + a.count, 0);
    if (count > 0) out.push({ class: c, count, amounts });
  }
  return out;
}
