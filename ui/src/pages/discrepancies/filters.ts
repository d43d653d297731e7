// The Discrepancies screen's filter form state and its translation to the backend's Filter.
import type { Filter, OutcomeClass, ReviewState, Sort } from '../../types';

/** What the filter bar holds. Amounts stay as typed text until applied. */
export interface FilterForm {
  dateFrom: string | null;
  dateTo: string | null;
  account: string | null;
  classes: OutcomeClass[];
  states: ReviewState[];
  assignee: string | null;
  /** Minimum absolute difference, minor units (already parsed). */
  minAbs: number | null;
  text: string;
  includeGone: boolean;
}

export const DEFAULT_FORM: FilterForm = {
  dateFrom: null,
  dateTo: null,
  account: null,
  classes: [],
  states: ['open', 'investigating'],
  assignee: null,
  minAbs: null,
  text: '',
  includeGone: false,
};

export const DEFAULT_SORT: Sort = 'date_desc';

/**
 * The backend's DiscrepancyFilter. Every field is sent (nulls and empty lists included):
 * the Rust struct has non-Option `classes`, `states` and `include_gone` without serde
 * defaults, so leaving them out would be rejected.
 */
export function toApiFilter(f: FilterForm): Filter {
  const text = f.text.trim();
  return {
    account: f.account,
    provider: null,
    date_from: f.dateFrom,
    date_to: f.dateTo,
    classes: [...f.classes],
    states: [...f.states],
    assignee: f.assignee,
    min_abs_difference: f.minAbs,
    run_id: null,
    text: text === '' ? null : text,
    include_gone: f.includeGone,
  };
}

/** Stable cache key for a filter + sort (the block cache is discarded when it changes). */
export function cacheKey(filter: Filter, sort: Sort): string {
  return JSON.stringify([sort, filter]);
}

/** How each sortable column header maps to Sort values: first click, second click. */
export type SortColumn = 'date' | 'difference' | 'class' | 'state' | 'due';

export const SORT_CYCLE: Record<SortColumn, Sort[]> = {
  date: ['date_desc', 'date_asc'],
  difference: ['amount_desc', 'amount_asc'],
  class: ['class'],
  state: ['state'],
  due: ['due_asc'],
};

/** Sort after clicking a column header given the current sort. */
export function nextSort(column: SortColumn, current: Sort): Sort {
  const cycle = SORT_CYCLE[column];
  const i = cycle.indexOf(current);
  if (i < 0) return cycle[0];
  return cycle[(i + 1) % cycle.length];
}

/** The column (and direction) the current sort belongs to. */
export function sortState(column: SortColumn, current: Sort): 'ascend' | 'descend' | null {
  if (!SORT_CYCLE[column].includes(current)) return null;
  return current.endsWith('_desc') ? 'descend' : 'ascend';
}

const STORAGE_KEY = 'paydesk.discrepancies.view';

interface Saved {
  form: FilterForm;
  sort: Sort;
}

/** The filter and sort last used in this window session (kept while switching screens). */
export function loadSaved(): Saved {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    if (raw) {
      const parsed = JSON.parse(raw) as Partial<Saved>;
      return {
        form: { ...DEFAULT_FORM, ...(parsed.form ?? {}) },
        sort: parsed.sort ?? DEFAULT_SORT,
      };
    }
  } catch {
    // storage unavailable or corrupt: start fresh
  }
  return { form: { ...DEFAULT_FORM }, sort: DEFAULT_SORT };
}

export function save(form: FilterForm, sort: Sort): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ form, sort }));
  } catch {
    // storage unavailable
  }
}

export function clearSaved(): void {
  try {
    window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage unavailable
  }
}

// ---- the filter in the URL hash ("#/discrepancies?account=alipay-main&classes=order_only")

const CLASS_SET = new Set<string>([
  'matched',
  'provider_only',
  'order_only',
  'amount_mismatch',
  'currency_mismatch',
  'status_mismatch',
  'duplicate_payment',
  'refund_only_at_provider',
  'refund_only_local',
  'refund_amount_mismatch',
  'fee_variance',
  'provider_adjustment',
  'timing_difference',
]);
const STATE_SET = new Set<string>(['open', 'investigating', 'resolved']);
const SORT_SET = new Set<string>(['date_desc', 'date_asc', 'amount_desc', 'amount_asc', 'class', 'state', 'due_asc']);
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The filter other screens link to: `account`, `classes` and `states` (comma separated),
 * `date_from`, `date_to`, `assignee`, `min` (minor units), `text`, `gone=1`, `sort`.
 * Unknown values are ignored; `states` missing means the default (open + investigating).
 */
export function formFromParams(p: Record<string, string>): { form: FilterForm; sort: Sort } {
  const form: FilterForm = { ...DEFAULT_FORM, states: [...DEFAULT_FORM.states] };
  if (p.account) form.account = p.account;
  if (p.classes !== undefined) form.classes = list(p.classes).filter((c) => CLASS_SET.has(c)) as OutcomeClass[];
  if (p.states !== undefined) form.states = list(p.states).filter((s) => STATE_SET.has(s)) as ReviewState[];
  if (p.date_from && DATE_RE.test(p.date_from)) form.dateFrom = p.date_from;
  if (p.date_to && DATE_RE.test(p.date_to)) form.dateTo = p.date_to;
  if (p.assignee) form.assignee = p.assignee;
  if (p.min && /^\d+$/.test(p.min)) form.minAbs = Number(p.min);
  if (p.text) form.text = p.text.trim();
  if (p.gone === '1' || p.gone === 'true') form.includeGone = true;
  const sort = p.sort && SORT_SET.has(p.sort) ? (p.sort as Sort) : DEFAULT_SORT;
  return { form, sort };
}

export function formToParams(f: FilterForm, sort: Sort): Record<string, string> {
  const p: Record<string, string> = {};
  if (f.account) p.account = f.account;
  if (f.classes.length) p.classes = f.classes.join(',');
  p.states = f.states.join(',');
  if (f.dateFrom) p.date_from = f.dateFrom;
  if (f.dateTo) p.date_to = f.dateTo;
  if (f.assignee) p.assignee = f.assignee;
  if (f.minAbs !== null) p.min = String(f.minAbs);
  if (f.text) p.text = f.text;
  if (f.includeGone) p.gone = '1';
  if (sort !== DEFAULT_SORT) p.sort = sort;
  return p;
}
