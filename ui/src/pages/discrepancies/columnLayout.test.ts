import { afterEach, describe, expect, it } from 'vitest';
import { detailWidth, EMPTY_PREFS, layoutColumns, loadPrefs, MIN_DRAG_WIDTH, neededWidth, prefsKey, savePrefs } from './columnLayout';
import type { ColumnSpec } from './columnLayout';

const SPECS: ColumnSpec[] = [
  { key: 'date', min: 100, grow: 0 },
  { key: 'order', min: 150, grow: 1, frozen: 'left' },
  { key: 'class', min: 120, grow: 0, frozen: 'left' },
  { key: 'txn', min: 150, grow: 2 },
  { key: 'diff', min: 100, grow: 0, frozen: 'right' },
];
const NEEDED = { date: 100, order: 150, class: 180, txn: 150, diff: 110 };

describe('layoutColumns', () => {
  it('puts frozen-left columns first and frozen-right last, with their sticky offsets', () => {
    const l = layoutColumns(SPECS, NEEDED, EMPTY_PREFS, 0);
    expect(l.columns.map((c) => c.key)).toEqual(['order', 'class', 'date', 'txn', 'diff']);
    expect(l.columns.map((c) => [c.frozen ?? '', c.offset])).toEqual([
      ['left', 0],
      ['left', 150],
      ['', 0],
      ['', 0],
      ['right', 0],
    ]);
    // Narrower than needed: every column keeps its needed width and the middle scrolls.
    expect(l.width).toBe(690);
    expect(l.template).toBe('150px 180px 100px 150px 110px');
  });

  it('shares the spare width of a wide window by grow, filling it exactly', () => {
    const l = layoutColumns(SPECS, NEEDED, EMPTY_PREFS, 1000);
    expect(l.width).toBe(1000);
    const w = Object.fromEntries(l.columns.map((c) => [c.key, c.width]));
    // 310 spare: order gets a third, txn two thirds; the fixed ones keep their width.
    expect(w).toEqual({ order: 150 + 104, class: 180, date: 100, txn: 150 + 206, diff: 110 });
  });

  it('lets the right-frozen columns scroll when the window leaves no room for the widest other column', () => {
    // 690 needed: 150 + 180 left, 110 right, so the middle has 250 - 110 = 140 < 150 (txn).
    const narrow = layoutColumns(SPECS, NEEDED, EMPTY_PREFS, 580);
    expect(narrow.columns.map((c) => [c.key, c.frozen ?? ''])).toEqual([
      ['order', 'left'],
      ['class', 'left'],
      ['date', ''],
      ['txn', ''],
      ['diff', ''],
    ]);
    const roomy = layoutColumns(SPECS, NEEDED, EMPTY_PREFS, 600);
    expect(roomy.columns.at(-1)?.frozen).toBe('right');
  });

  it('keeps a dragged width (at least the drag minimum) and hides what the user hid, never a frozen column', () => {
    const l = layoutColumns(SPECS, NEEDED, { widths: { txn: 300, date: 10 }, hidden: ['date', 'class'] }, 0);
    expect(l.columns.map((c) => [c.key, c.width])).toEqual([
      ['order', 150],
      ['class', 180],
      ['txn', 300],
      ['diff', 110],
    ]);
    const shown = layoutColumns(SPECS, NEEDED, { widths: { date: 10 }, hidden: [] }, 0);
    expect(shown.columns.find((c) => c.key === 'date')?.width).toBe(MIN_DRAG_WIDTH);
  });
});

describe('neededWidth', () => {
  it('fits the header and the widest sample, with the cell padding', () => {
    const measure = (text: string) => text.length * 10;
    expect(neededWidth({ key: 'k', min: 50, grow: 0, samples: ['abcdefghij'], chrome: 18 }, 'Hd', measure)).toBe(100 + 18 + 20);
    expect(neededWidth({ key: 'k', min: 50, grow: 0 }, 'A long header', measure)).toBe(130 + 18 + 20);
    expect(neededWidth({ key: 'k', min: 500, grow: 0 }, 'x', measure)).toBe(500);
  });
});

describe('prefs', () => {
  afterEach(() => window.localStorage.clear());

  it('are kept per user and survive only valid values', () => {
    savePrefs('amy', { widths: { txn: 240 }, hidden: ['assignee'], detailWidth: 400 });
    expect(loadPrefs('amy')).toEqual({ widths: { txn: 240 }, hidden: ['assignee'], detailWidth: 400 });
    expect(loadPrefs('bob')).toEqual(EMPTY_PREFS);
    window.localStorage.setItem(prefsKey('eve'), JSON.stringify({ widths: { a: -1, b: 'x', c: 90 }, hidden: [1, 'd'], detailWidth: 5 }));
    expect(loadPrefs('eve')).toEqual({ widths: { c: 90 }, hidden: ['d'], detailWidth: undefined });
    window.localStorage.setItem(prefsKey('mal'), '{not json');
    expect(loadPrefs('mal')).toEqual(EMPTY_PREFS);
  });

  it('give the details pane about 30% of the window, at most 60% of the body, at least 320 px', () => {
    expect(detailWidth(EMPTY_PREFS, 1010, 1280)).toBe(384);
    expect(detailWidth(EMPTY_PREFS, 1650, 1920)).toBe(520);
    expect(detailWidth({ ...EMPTY_PREFS, detailWidth: 2000 }, 1000, 1280)).toBe(600);
    expect(detailWidth({ ...EMPTY_PREFS, detailWidth: 100 }, 1000, 1280)).toBe(320);
  });
});
