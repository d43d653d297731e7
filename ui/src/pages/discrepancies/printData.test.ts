// Reading the print report's data: rows in blocks by cursor up to the cap, counts per class.
import { describe, expect, it, vi } from 'vitest';
import { call } from '../../api';
import type { DiscrepancyPage, Filter } from '../../types';
import { loadClassCounts, loadPrintRows } from './printData';
import { DEFAULT_FILTER, makeRecord } from './testBackend';

vi.mock('../../api', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../api')>();
  return { ...orig, call: vi.fn() };
});

const mockedCall = vi.mocked(call);


describe('print report data', () => {
  function page(n: number, from: number, total: number): DiscrepancyPage {
    const rows = Array.from({ length: n }, (_, i) => makeRecord(from + i));
    const cursor = (i: number) => ({ key: i, id: i + 1 });
    return { total, discrepancies: rows, first: n ? cursor(from) : null, last: n ? cursor(from + n - 1) : null };
  }

  it('stops at a short block even when the count said more', async () => {
    mockedCall.mockReset();
    mockedCall
      .mockResolvedValueOnce(page(3, 0, 10))
      .mockResolvedValueOnce(page(1, 3, 10));
    const progress: [number, number][] = [];
    const out = await loadPrintRows(DEFAULT_FILTER, 'date_desc', { blockSize: 3, onProgress: (a, b) => progress.push([a, b]) });
    expect(out.rows.map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(out.total).toBe(10);
    expect(progress).toEqual([
      [3, 10],
      [4, 10],
    ]);
    expect(mockedCall.mock.calls[1][1]).toMatchObject({ offset: 3, limit: 3, after: { key: 2, id: 3 } });
  });

  it('asks only for what the cap leaves', async () => {
    mockedCall.mockReset();
    mockedCall.mockResolvedValueOnce(page(4, 0, 100)).mockResolvedValueOnce(page(2, 4, 100));
    const out = await loadPrintRows(DEFAULT_FILTER, 'date_desc', { blockSize: 4, cap: 6 });
    expect(out.rows).toHaveLength(6);
    expect(mockedCall).toHaveBeenCalledTimes(2);
    expect(mockedCall.mock.calls[1][1]).toMatchObject({ limit: 2 });
  });

  it('counts the classes of the filter only, adding counts (never amounts) across currencies', async () => {
    mockedCall.mockReset();
    mockedCall.mockImplementation((async (_cmd: string, args?: Record<string, unknown>) => {
      const c = (args?.filter as Filter).classes?.[0];
      if (c === 'order_only') return [];
      return [
        { currency: 'CNY', count: 2, at_stake: 500 },
        { currency: 'USD', count: 1, at_stake: 700 },
      ];
    }) as typeof call);
    const out = await loadClassCounts({ ...DEFAULT_FILTER, classes: ['order_only', 'fee_variance'] });
    expect(mockedCall.mock.calls.map((c) => (c[1]?.filter as Filter).classes)).toEqual([['order_only'], ['fee_variance']]);
    expect(out).toEqual([
      {
        class: 'fee_variance',
        count: 3,
        amounts: [
          { currency: 'CNY', count: 2, at_stake: 500 },
          { currency: 'USD', count: 1, at_stake: 700 },
        ],
      },
    ]);
  });
});
