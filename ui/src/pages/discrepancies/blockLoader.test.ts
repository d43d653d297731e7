import { describe, expect, it, vi } from 'vitest';
import { BlockLoader } from './blockLoader';
import type { BlockFrom, BlockPage } from './blockLoader';

interface Row {
  id: number;
  label: string;
}

function rows(offset: number, limit: number, total: number): Row[] {
  const out: Row[] = [];
  for (let i = offset; i < Math.min(total, offset + limit); i++) out.push({ id: i + 1, label: `row ${i}` });
  return out;
}

/** A fetcher whose answers the test releases by hand. */
function manualFetcher(total: number) {
  const pending: { key: string; offset: number; limit: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const fetcher = vi.fn(
    (key: string, offset: number, limit: number) =>
      new Promise<BlockPage<Row>>((resolve, reject) => {
        pending.push({
          key,
          offset,
          limit,
          resolve: () => resolve({ total, rows: rows(offset, limit, total) }),
          reject,
        });
      }),
  );
  return { fetcher, pending };
}

function instantFetcher(total: number) {
  return vi.fn(async (_key: string, offset: number, limit: number) => ({ total, rows: rows(offset, limit, total) }));
}

describe('BlockLoader', () => {
  it('loads only the blocks under the window when scrolled to row 50,000 of 100,000', async () => {
    const fetcher = instantFetcher(100_000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('k');
    await loader.ensureRange(0, 30);
    expect(loader.total).toBe(100_000);
    expect(fetcher.mock.calls.map((c) => c[1])).toEqual([0]);

    fetcher.mockClear();
    // the visible window around row 50,000 (with overscan): rows 49,990..50,026
    await loader.ensureRange(49_990, 50_026);
    const offsets = fetcher.mock.calls.map((c) => c[1]).sort((a, b) => a - b);
    expect(offsets).toEqual([49_800, 50_000]);
    expect(fetcher.mock.calls.every((c) => c[0] === 'k' && c[2] === 200)).toBe(true);
    // nothing between the first block and the window was requested
    expect(offsets.some((o) => o > 0 && o < 49_800)).toBe(false);
    expect(loader.cachedOffsets()).toEqual([0, 49_800, 50_000]);
    expect(loader.getRow(50_000)).toEqual({ id: 50_001, label: 'row 50000' });
    expect(loader.getRow(49_799)).toBeUndefined();
    expect(loader.isLoaded(1000)).toBe(false);
  });

  it('requests the first block only until the total is known', async () => {
    const fetcher = instantFetcher(100_000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('k');
    await loader.ensureRange(0, 1000);
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(fetcher).toHaveBeenCalledWith('k', 0, 200);
  });

  it('never requests the same block twice at the same time', async () => {
    const { fetcher, pending } = manualFetcher(1000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('k');
    const a = loader.ensureRange(0, 20);
    const b = loader.ensureRange(5, 30);
    const c = loader.ensureRange(0, 199);
    expect(fetcher).toHaveBeenCalledTimes(1);
    pending[0].resolve();
    await Promise.all([a, b, c]);
    expect(loader.getRow(10)?.id).toBe(11);

    // a cached block is not requested again either
    await loader.ensureRange(0, 199);
    expect(fetcher).toHaveBeenCalledTimes(1);

    // two windows overlapping block 200 while it is loading share one request
    const d = loader.ensureRange(190, 260);
    const e = loader.ensureRange(250, 300);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(fetcher.mock.calls[1]).toEqual(['k', 200, 200]);
    pending[1].resolve();
    await Promise.all([d, e]);
    expect(loader.getRow(300)?.id).toBe(301);
  });

  it('discards the cache and ignores late answers when the filter/sort key changes', async () => {
    const { fetcher, pending } = manualFetcher(5000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('filter-a');
    const old = loader.ensureRange(0, 10);
    expect(loader.setKey('filter-a')).toBe(false); // same key: nothing happens
    expect(loader.setKey('filter-b')).toBe(true);
    expect(loader.total).toBeNull();

    // the new key loads its own block even though the old one is still in flight
    const fresh = loader.ensureRange(0, 10);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(fetcher.mock.calls[1][0]).toBe('filter-b');

    pending[0].resolve(); // the late answer for filter-a
    await old;
    expect(loader.total).toBeNull();
    expect(loader.getRow(0)).toBeUndefined();

    pending[1].resolve();
    await fresh;
    expect(loader.total).toBe(5000);
    expect(loader.cachedOffsets()).toEqual([0]);
  });

  it('reset() forgets loaded blocks for the same key', async () => {
    const fetcher = instantFetcher(1000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('k');
    await loader.ensureRange(0, 10);
    loader.reset();
    expect(loader.getRow(0)).toBeUndefined();
    await loader.ensureRange(0, 10);
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('replaces a row in place by id and notifies subscribers', async () => {
    const fetcher = instantFetcher(1000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('k');
    await loader.ensureRange(0, 10);
    const listener = vi.fn();
    loader.subscribe(listener);
    const before = loader.getVersion();
    expect(loader.updateRow({ id: 5, label: 'changed' })).toBe(true);
    expect(loader.getRow(4)).toEqual({ id: 5, label: 'changed' });
    expect(loader.getVersion()).toBeGreaterThan(before);
    expect(listener).toHaveBeenCalled();
    expect(loader.updateRow({ id: 999_999, label: 'x' })).toBe(false);
    expect(fetcher).toHaveBeenCalledTimes(1);
  });

  it('keeps memory bounded by evicting the blocks farthest from the window', async () => {
    const fetcher = instantFetcher(100_000);
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 100, maxBlocks: 3 });
    loader.setKey('k');
    await loader.ensureRange(0, 10);
    for (const at of [1000, 2000, 3000, 4000]) await loader.ensureRange(at, at + 10);
    expect(loader.cachedOffsets().length).toBe(3);
    expect(loader.cachedOffsets()).toContain(4000);
    expect(loader.cachedOffsets()).not.toContain(0);
  });

  it('remembers a failed block until retry()', async () => {
    const fetcher = vi
      .fn()
      .mockRejectedValueOnce({ kind: 'store', message: 'database is locked' })
      .mockImplementation(async (_k: string, offset: number, limit: number) => ({ total: 10, rows: rows(offset, limit, 10) }));
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 200 });
    loader.setKey('k');
    await loader.ensureRange(0, 5);
    expect(loader.error).toEqual({ kind: 'store', message: 'database is locked' });
    await loader.ensureRange(0, 5);
    expect(fetcher).toHaveBeenCalledTimes(1); // no hammering a failing backend
    loader.retry();
    await loader.ensureRange(0, 5);
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(loader.error).toBeNull();
    expect(loader.total).toBe(10);
  });

  it('asks for the block next to a cached one by cursor: after the last row above, before the first row below', async () => {
    // Rows carry their index as the sort key; a cursor is { key, id }.
    const fetcher = vi.fn(
      async (_key: string, offset: number, limit: number, from?: BlockFrom<{ key: number; id: number }>) => {
        let start = offset;
        if (from && 'after' in from) start = from.after.key + 1;
        if (from && 'before' in from) start = from.before.key - limit;
        const out = rows(start, limit, 10_000);
        const cursor = (r?: Row) => (r ? { key: r.id - 1, id: r.id } : null);
        return { total: 10_000, rows: out, first: cursor(out[0]), last: cursor(out[out.length - 1]) };
      },
    );
    const loader = new BlockLoader<Row, { key: number; id: number }>(fetcher, { blockSize: 100 });
    loader.setKey('k');
    await loader.ensureRange(0, 10);
    expect(fetcher.mock.calls[0]).toEqual(['k', 0, 100]); // the first block: by offset
    // scrolling down: the next block continues after row 99
    await loader.ensureRange(90, 120);
    expect(fetcher.mock.calls[1]).toEqual(['k', 100, 100, { after: { key: 99, id: 100 } }]);
    expect(loader.getRow(100)).toEqual({ id: 101, label: 'row 100' });
    // a jump: no cached neighbour, by offset
    await loader.ensureRange(5_000, 5_010);
    expect(fetcher.mock.calls[2]).toEqual(['k', 5_000, 100]);
    // scrolling up from there: the block before row 5,000
    await loader.ensureRange(4_950, 5_010);
    expect(fetcher.mock.calls[3]).toEqual(['k', 4_900, 100, { before: { key: 5_000, id: 5_001 } }]);
    expect(loader.getRow(4_900)).toEqual({ id: 4_901, label: 'row 4900' });
    expect(loader.getRow(4_999)).toEqual({ id: 5_000, label: 'row 4999' });
    expect(fetcher).toHaveBeenCalledTimes(4);
  });

  it('goes by offset when the neighbour gave no cursor, is still loading, or was evicted', async () => {
    const { fetcher, pending } = manualFetcher(10_000); // answers without cursors
    const loader = new BlockLoader<Row>(fetcher, { blockSize: 100, maxBlocks: 2 });
    loader.setKey('k');
    const first = loader.ensureRange(0, 10);
    pending[0].resolve();
    await first;
    const next = loader.ensureRange(150, 260); // blocks 100 and 200 at once
    expect(fetcher.mock.calls.slice(1)).toEqual([
      ['k', 100, 100],
      ['k', 200, 100],
    ]);
    pending[1].resolve();
    pending[2].resolve();
    await next;
    expect(loader.cachedOffsets()).toEqual([100, 200]);
  });
});
