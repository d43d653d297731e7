// Rows a person checks for a bulk change: kept by id with their records (the ids go to the
// backend, the amounts say what is at stake), never by position, since the rows of a view
// move as blocks load and reviews change.
import type { CurrencyTotal, DiscrepancyRecord } from '../../types';

export type Checked = ReadonlyMap<number, DiscrepancyRecord>;

export const NONE: Checked = new Map();

/**
 * A click on the box of row `index`. Alone it toggles that row; with shift it gives every
 * loaded row from `anchor` (the last clicked row) to `index` the state the clicked row takes.
 * Rows not loaded (`rowAt` gives undefined) are left out: their ids are not known.
 */
export function clickCheck(
  checked: Checked,
  rowAt: (index: number) => DiscrepancyRecord | undefined,
  index: number,
  anchor: number | null,
  shift: boolean,
): Checked {
  const row = rowAt(index);
  if (!row) return checked;
  const on = !checked.has(row.id);
  const next = new Map(checked);
  const [lo, hi] = shift && anchor !== null ? [Math.min(anchor, index), Math.max(anchor, index)] : [index, index];
  for (let i = lo; i <= hi; i++) {
    const r = rowAt(i);
    if (!r) continue;
    if (on) next.set(r.id, r);
    else next.delete(r.id);
  }
  return next;
}

/** The header box: none checked, some, or every loaded row. */
export function headerState(checked: Checked, loaded: DiscrepancyRecord[]): 'none' | 'some' | 'all' {
  if (checked.size === 0) return 'none';
  return loaded.length > 0 && loaded.every((r) => checked.has(r.id)) ? 'all' : 'some';
}

/** The header box clicked: every loaded row checked clears; otherwise all loaded get checked. */
export function clickHeader(checked: Checked, loaded: DiscrepancyRecord[]): Checked {
  if (headerState(checked, loaded) === 'all') return NONE;
  const next = new Map(checked);
  for (const r of loaded) next.set(r.id, r);
  return next;
}

/** Count and amount at stake per currency (minor units; currencies never added), largest first. */
export function atStakeOf(rows: Iterable<DiscrepancyRecord>): CurrencyTotal[] {
  const by = new Map<string, CurrencyTotal>();
  for (const r of rows) {
    const t = by.get(r.currency);
    if (t) {
      t.count += 1;
      t.at_stake += r.amount_at_stake;
    } else {
      by.set(r.currency, { currency: r.currency, count: 1, at_stake: r.amount_at_stake });
    }
  }
  return [...by.values()].sort((a, b) => b.at_stake - a.at_stake || a.currency.localeCompare(b.currency));
}
