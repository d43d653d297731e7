import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FORM, DEFAULT_SORT } from './filters';
import type { FilterForm } from './filters';
import {
  NAME_MAX,
  checkName,
  filterOf,
  findActive,
  loadSavedFilters,
  parseStored,
  removeFilter,
  serialize,
  storageKey,
  storeSavedFilters,
  upsertFilter,
} from './savedFilters';

const ALICE = { workspace: '/ws/one', user: 'alice' };
const BIG_ALIPAY: FilterForm = {
  ...DEFAULT_FORM,
  account: 'alipay-main',
  classes: ['amount_mismatch'],
  states: ['open'],
  minAbs: 10000,
  dateFrom: '2026-03-01',
  text: 'ORD-7',
  includeGone: true,
};

beforeEach(() => window.localStorage.clear());

describe('savedFilters', () => {
  it('validates names: trimmed, 1 to 60 characters', () => {
    expect(checkName('  Big alipay  ')).toEqual({ name: 'Big alipay', error: null });
    expect(checkName('   ').error).toBe('empty');
    expect(checkName('').error).toBe('empty');
    expect(checkName('x'.repeat(NAME_MAX)).error).toBeNull();
    expect(checkName('x'.repeat(NAME_MAX + 1)).error).toBe('too_long');
    expect(checkName(` ${'差'.repeat(NAME_MAX)} `).error).toBeNull(); // characters, not UTF-16 units
  });

  it('round-trips a filter and its sort through storage', () => {
    const list = upsertFilter([], ' Big alipay ', BIG_ALIPAY, 'amount_desc');
    storeSavedFilters(ALICE, list);
    const loaded = loadSavedFilters(ALICE);
    expect(loaded.map((f) => f.name)).toEqual(['Big alipay']);
    expect(filterOf(loaded[0])).toEqual({ form: BIG_ALIPAY, sort: 'amount_desc' });
    expect(findActive(loaded, BIG_ALIPAY, 'amount_desc')?.name).toBe('Big alipay');
    expect(findActive(loaded, BIG_ALIPAY, DEFAULT_SORT)).toBeNull();
  });

  it('saving under an existing name replaces it in place', () => {
    let list = upsertFilter([], 'a', DEFAULT_FORM, DEFAULT_SORT);
    list = upsertFilter(list, 'b', DEFAULT_FORM, DEFAULT_SORT);
    list = upsertFilter(list, ' a', BIG_ALIPAY, DEFAULT_SORT);
    expect(list.map((f) => f.name)).toEqual(['a', 'b']);
    expect(filterOf(list[0]).form).toEqual(BIG_ALIPAY);
  });

  it('deleting removes only that filter', () => {
    let list = upsertFilter([], 'a', DEFAULT_FORM, DEFAULT_SORT);
    list = upsertFilter(list, 'b', BIG_ALIPAY, DEFAULT_SORT);
    storeSavedFilters(ALICE, removeFilter(list, 'a'));
    expect(loadSavedFilters(ALICE).map((f) => f.name)).toEqual(['b']);
  });

  it('keeps each user and workspace apart', () => {
    storeSavedFilters(ALICE, upsertFilter([], 'mine', BIG_ALIPAY, DEFAULT_SORT));
    expect(loadSavedFilters({ workspace: '/ws/one', user: 'bob' })).toEqual([]);
    expect(loadSavedFilters({ workspace: '/ws/two', user: 'alice' })).toEqual([]);
    // the key cannot be confused by separators inside the parts
    expect(storageKey({ workspace: 'a:b', user: 'c' })).not.toBe(storageKey({ workspace: 'a', user: 'b:c' }));
    expect(storageKey(ALICE)).toContain('/ws/one');
    expect(storageKey(ALICE)).toContain('alice');
  });

  it('ignores corrupt, old or foreign content and bad entries', () => {
    expect(parseStored(null)).toEqual([]);
    expect(parseStored('{not json')).toEqual([]);
    expect(parseStored('null')).toEqual([]);
    expect(parseStored('42')).toEqual([]);
    expect(parseStored('[{"name":"a","params":{}}]')).toEqual([]); // an older bare list
    expect(parseStored('{"version":2,"filters":[]}')).toEqual([]);
    expect(parseStored('{"version":1,"filters":"x"}')).toEqual([]);
    const mixed = JSON.stringify({
      version: 1,
      filters: [
        null,
        'x',
        { name: 5, params: {} },
        { name: '  ', params: {} },
        { name: 'x'.repeat(61), params: {} },
        { name: 'no params' },
        { name: 'bad values', params: { account: 3 } },
        { name: 'ok', params: { account: 'alipay-main', classes: 'order_only,nonsense', sort: 'weird' } },
        { name: 'ok', params: { account: 'duplicate' } },
      ],
    });
    const parsed = parseStored(mixed);
    expect(parsed.map((f) => f.name)).toEqual(['ok']);
    expect(filterOf(parsed[0])).toEqual({
      form: { ...DEFAULT_FORM, account: 'alipay-main', classes: ['order_only'] },
      sort: DEFAULT_SORT,
    });
    window.localStorage.setItem(storageKey(ALICE), '\u0000garbage');
    expect(loadSavedFilters(ALICE)).toEqual([]);
    expect(serialize(parsed)).toBe(JSON.stringify({ version: 1, filters: parsed }));
  });
});
