import { describe, expect, it } from 'vitest';
import { NONE, atStakeOf, clickCheck, clickHeader, headerState } from './selection';
import { makeRecord } from './testBackend';

// Rows 0..9 loaded as ids 1..10; row 5 (id 6) not loaded.
const rowAt = (i: number) => (i >= 0 && i < 10 && i !== 5 ? makeRecord(i) : undefined);
const ids = (c: ReadonlyMap<number, unknown>) => [...c.keys()].sort((a, b) => a - b);

describe('row check boxes', () => {
  it('a click toggles one row; shift gives the range the clicked row\'s new state', () => {
    let c = clickCheck(NONE, rowAt, 2, null, false);
    expect(ids(c)).toEqual([3]);
    c = clickCheck(c, rowAt, 7, 2, true);
    // Rows not loaded are left out (their ids are unknown).
    expect(ids(c)).toEqual([3, 4, 5, 7, 8]);
    c = clickCheck(c, rowAt, 3, 7, true);
    expect(ids(c)).toEqual([3]);
    c = clickCheck(c, rowAt, 2, 3, false);
    expect(ids(c)).toEqual([]);
    // Shift without an earlier click is a plain click; an unloaded row does nothing.
    expect(ids(clickCheck(NONE, rowAt, 4, null, true))).toEqual([5]);
    expect(clickCheck(NONE, rowAt, 5, null, false)).toBe(NONE);
  });

  it('the header box checks every loaded row, or clears when they all are', () => {
    const loaded = [0, 1, 2].map((i) => makeRecord(i));
    expect(headerState(NONE, loaded)).toBe('none');
    const some = clickCheck(NONE, rowAt, 0, null, false);
    expect(headerState(some, loaded)).toBe('some');
    const all = clickHeader(some, loaded);
    expect(ids(all)).toEqual([1, 2, 3]);
    expect(headerState(all, loaded)).toBe('all');
    expect(clickHeader(all, loaded)).toBe(NONE);
  });

  it('adds the amounts at stake per currency in minor units, never across currencies', () => {
    const rows = [
      makeRecord(0, { amount_at_stake: 150 }),
      makeRecord(1, { currency: 'USD', amount_at_stake: 999 }),
      makeRecord(2, { amount_at_stake: 1 }),
    ];
    expect(atStakeOf(rows)).toEqual([
      { currency: 'USD', count: 1, at_stake: 999 },
      { currency: 'CNY', count: 2, at_stake: 151 },
    ]);
    expect(atStakeOf([])).toEqual([]);
  });
});
