import { describe, expect, it } from 'vitest';
import { compareRows, formatFee, milliToDecimalString, milliToMinor } from './compare';
import { DEFAULT_FORM, cacheKey, formFromParams, formToParams, nextSort, sortState, toApiFilter } from './filters';
import { makeLine, makeOrder, makeRecord } from './testBackend';

const labels = { orderStatus: (s: string) => `status:${s}`, lineKind: (k: string) => `kind:${k}` };

describe('filters', () => {
  it('sends every Filter field, with nulls and empty lists, trimming the text', () => {
    expect(toApiFilter({ ...DEFAULT_FORM, text: '  ORD-1 ', minAbs: 500 })).toEqual({
      account: null,
      provider: null,
      date_from: null,
      date_to: null,
      classes: [],
      states: ['open', 'investigating'],
      assignee: null,
      min_abs_difference: 500,
      run_id: null,
      text: 'ORD-1',
      include_gone: false,
    });
    expect(toApiFilter({ ...DEFAULT_FORM, text: '   ' }).text).toBeNull();
  });

  it('cycles column sorts within what the Sort enum allows', () => {
    expect(nextSort('date', 'date_desc')).toBe('date_asc');
    expect(nextSort('date', 'date_asc')).toBe('date_desc');
    expect(nextSort('difference', 'date_desc')).toBe('amount_desc');
    expect(nextSort('difference', 'amount_desc')).toBe('amount_asc');
    expect(nextSort('class', 'amount_asc')).toBe('class');
    expect(nextSort('due', 'class')).toBe('due_asc');
    expect(sortState('difference', 'amount_asc')).toBe('ascend');
    expect(sortState('date', 'date_desc')).toBe('descend');
    expect(sortState('state', 'date_desc')).toBeNull();
  });

  it('reads links from other screens and round-trips its own hash', () => {
    const { form, sort } = formFromParams({
      account: 'wechat-main',
      classes: 'order_only,bogus',
      date_from: '2026-03-01',
      date_to: 'not a date',
      min: '1500',
      gone: '1',
      sort: 'due_asc',
    });
    expect(form).toEqual({
      ...DEFAULT_FORM,
      account: 'wechat-main',
      classes: ['order_only'],
      dateFrom: '2026-03-01',
      minAbs: 1500,
      includeGone: true,
    });
    expect(sort).toBe('due_asc');
    expect(formFromParams({ states: '' }).form.states).toEqual([]);
    expect(formFromParams(formToParams(form, sort))).toEqual({ form, sort });
  });

  it('keys the cache by filter and sort', () => {
    const f = toApiFilter(DEFAULT_FORM);
    expect(cacheKey(f, 'date_desc')).toBe(cacheKey(toApiFilter({ ...DEFAULT_FORM }), 'date_desc'));
    expect(cacheKey(f, 'date_desc')).not.toBe(cacheKey(f, 'date_asc'));
    expect(cacheKey(f, 'date_desc')).not.toBe(cacheKey(toApiFilter({ ...DEFAULT_FORM, text: 'x' }), 'date_desc'));
  });
});

describe('compare', () => {
  it('rounds and prints fees in thousandths of a minor unit exactly', () => {
    expect(milliToMinor(59_400)).toBe(59);
    expect(milliToMinor(59_500)).toBe(60);
    expect(milliToMinor(-59_500)).toBe(-60);
    expect(milliToDecimalString(1234, 'CNY')).toBe('0.01234');
    expect(milliToDecimalString(-600_000, 'CNY')).toBe('-6');
    expect(milliToDecimalString(1500, 'JPY')).toBe('1.5');
    expect(formatFee(600_000, 'CNY', 'en')).toBe('CN¥6.00');
    expect(formatFee(1234, 'CNY', 'en')).toBe('CN¥0.01 (0.01234)');
  });

  it('marks only the fields that disagree when both sides exist', () => {
    const rows = compareRows(
      {
        record: makeRecord(0, { class: 'currency_mismatch' }),
        history: [],
        order: makeOrder({ currency: 'USD', amount: 1000 }),
        statement_line: makeLine({ currency: 'CNY', gross: 1000, provider_txn_id: 'OTHER' }),
      },
      'en',
      labels,
    );
    const differs = Object.fromEntries(rows.map((r) => [r.field, r.differs]));
    expect(differs).toEqual({
      order_no: false,
      txn_id: true,
      amount: true,
      currency: true,
      status: false,
      time: false,
      kind: false,
      fee: false,
      net: false,
    });
    expect(rows.find((r) => r.field === 'status')).toMatchObject({ ours: 'status:paid', theirs: 'TRADE_SUCCESS' });
  });

  it('does not paint every row red when one side is missing', () => {
    const rows = compareRows(
      { record: makeRecord(0, { class: 'provider_only' }), history: [], order: null, statement_line: makeLine() },
      'en',
      labels,
    );
    expect(rows.every((r) => !r.differs)).toBe(true);
    expect(rows.find((r) => r.field === 'amount')).toMatchObject({ ours: null, theirs: 'CN¥99.00' });
  });

  it('flags status and timing differences by class', () => {
    const d = { history: [], order: makeOrder({ status: 'pending' }), statement_line: makeLine({ gross: 10000 }) };
    const status = compareRows({ ...d, record: makeRecord(0, { class: 'status_mismatch' }) }, 'en', labels);
    expect(status.find((r) => r.field === 'status')?.differs).toBe(true);
    expect(status.find((r) => r.field === 'amount')?.differs).toBe(false);
    const timing = compareRows({ ...d, record: makeRecord(0, { class: 'timing_difference' }) }, 'en', labels);
    expect(timing.find((r) => r.field === 'time')?.differs).toBe(true);
  });
});

describe('presenceText', () => {
  it('says what the runs wrote in the user\'s language', async () => {
    const { presenceText } = await import('./DetailPane');
    const { default: i18n } = await import('../../i18n');
    const zh = i18n.getFixedT('zh', 'discrepancies');
    const en = i18n.getFixedT('en', 'discrepancies');
    expect(presenceText('found again by run 14', zh)).toBe('对账 #14 再次发现');
    expect(presenceText('no longer found by run 13', zh)).toBe('对账 #13 不再发现');
    expect(presenceText('found by run 12', en)).toBe('found by run 12');
    expect(presenceText('gone', zh)).toBe('已消失');
    expect(presenceText('something else', zh)).toBe('something else');
  });
});
