// Loads a long server-side list in fixed blocks as the user scrolls.
//
// - Blocks are cached by offset under a key (the filter + sort); a new key drops the cache and
//   ignores answers still in flight for the old key.
// - The same block is never requested twice at the same time.
// - Only blocks covering the asked range are requested (scrolling to row 50,000 does not load
//   rows 0..49,799).
// - Far-away blocks are evicted so memory stays bounded however far the user scrolls.
// - A block next to a cached one is asked for by cursor: right after the last row of the
//   block above it (or before the first row of the block below it), which the server reads
//   by keyset instead of looking a position up. Blocks with no cached neighbour (a jump) go
//   by offset.

export interface BlockPage<T, C = unknown> {
  total: number;
  rows: T[];
  /** Cursors of the first and last rows (opaque here), if the server gives them. */
  first?: C | null;
  last?: C | null;
}

/** Read the block right after this row, or right before it. */
export type BlockFrom<C> = { after: C } | { before: C };

/** `from` is given only when a neighbouring block's cursor is known. */
export type BlockFetcher<T, C = unknown> = (
  key: string,
  offset: number,
  limit: number,
  from?: BlockFrom<C>,
) => Promise<BlockPage<T, C>>;

export interface BlockLoaderOptions {
  blockSize?: number;
  /** At most this many blocks stay cached (the ones nearest the last request are kept). */
  maxBlocks?: number;
}

export class BlockLoader<T extends { id: number }, C = unknown> {
  readonly blockSize: number;
  private readonly maxBlocks: number;
  private readonly fetcher: BlockFetcher<T, C>;
  private key: string | null = null;
  private generation = 0;
  private blocks = new Map<number, T[]>();
  /** The cursors of each cached block's first and last rows. */
  private edges = new Map<number, { first: C | null; last: C | null }>();
  private inflight = new Map<number, Promise<void>>();
  private failed = new Map<number, unknown>();
  private lastCenter = 0;
  private listeners = new Set<() => void>();
  private version = 0;
  /** Total from the latest answer; null until the first block arrived for this key. */
  total: number | null = null;
  /** The last error (a block that failed); cleared by the next successful load. */
  error: unknown = null;

  constructor(fetcher: BlockFetcher<T, C>, options: BlockLoaderOptions = {}) {
    this.fetcher = fetcher;
    this.blockSize = options.blockSize ?? 200;
    this.maxBlocks = Math.max(2, options.maxBlocks ?? 60);
  }

  /** Changes the filter/sort key; a different key discards every cached and pending block. */
  setKey(key: string): boolean {
    if (key === this.key) return false;
    this.key = key;
    this.reset();
    return true;
  }

  getKey(): string | null {
    return this.key;
  }

  /** Forgets everything loaded for the current key (e.g. after a bulk change). */
  reset(): void {
    this.generation += 1;
    this.blocks.clear();
    this.edges.clear();
    this.inflight.clear();
    this.failed.clear();
    this.total = null;
    this.error = null;
    this.bump();
  }

  /** Subscribes to changes (a block arrived, the total changed, a row was replaced). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Increases whenever anything observable changed; use it as a React snapshot. */
  getVersion(): number {
    return this.version;
  }

  /** The row at `index`, or undefined while its block is not loaded. */
  getRow(index: number): T | undefined {
    const start = this.blockStart(index);
    return this.blocks.get(start)?.[index - start];
  }

  isLoaded(index: number): boolean {
    return this.blocks.has(this.blockStart(index));
  }

  blockStart(index: number): number {
    return Math.floor(index / this.blockSize) * this.blockSize;
  }

  /** Offsets of the blocks currently cached, ascending (for tests and diagnostics). */
  cachedOffsets(): number[] {
    return [...this.blocks.keys()].sort((a, b) => a - b);
  }

  /**
   * Makes sure the blocks covering rows [first, last] are loaded or loading.
   * Before the total is known only the first block containing `first` is requested.
   * Resolves when every block it started or joined has settled.
   */
  ensureRange(first: number, last: number): Promise<void> {
    if (this.key === null) return Promise.resolve();
    let lo = Math.max(0, Math.floor(first));
    let hi = Math.max(lo, Math.floor(last));
    if (this.total !== null) {
      if (this.total === 0) return Promise.resolve();
      hi = Math.min(hi, this.total - 1);
      lo = Math.min(lo, hi);
    }
    this.lastCenter = (lo + hi) / 2;
    const waits: Promise<void>[] = [];
    for (let start = this.blockStart(lo); start <= hi; start += this.blockSize) {
      const p = this.ensureBlock(start);
      if (p) waits.push(p);
      if (this.total === null) break; // learn the total from the first answer
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Requests one block unless it is cached, already loading, or failed (retry() clears). */
  private ensureBlock(start: number): Promise<void> | null {
    if (this.blocks.has(start)) return null;
    const pending = this.inflight.get(start);
    if (pending) return pending;
    if (this.failed.has(start)) return null;
    const key = this.key as string;
    const generation = this.generation;
    const from = this.neighbour(start);
    const asked = from ? this.fetcher(key, start, this.blockSize, from) : this.fetcher(key, start, this.blockSize);
    const p = asked.then(
      (page) => {
        if (generation !== this.generation) return;
        this.inflight.delete(start);
        this.blocks.set(start, page.rows);
        this.edges.set(start, { first: page.first ?? null, last: page.last ?? null });
        this.total = page.total;
        this.error = null;
        this.evict();
        this.bump();
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.inflight.delete(start);
        this.failed.set(start, err);
        this.error = err;
        this.bump();
      },
    );
    this.inflight.set(start, p);
    return p;
  }

  /** Where to read block `start` from: after the full block above it, or before the block below it. */
  private neighbour(start: number): BlockFrom<C> | undefined {
    const above = start - this.blockSize;
    const after = this.blocks.get(above)?.length === this.blockSize ? this.edges.get(above)?.last : null;
    if (after != null) return { after };
    const before = this.edges.get(start + this.blockSize)?.first;
    if (before != null) return { before };
    return undefined;
  }

  /** Allows failed blocks to be requested again. */
  retry(): void {
    this.failed.clear();
    this.error = null;
    this.bump();
  }

  /** Replaces a loaded row by id (after a review change) without reloading anything. */
  updateRow(row: T): boolean {
    for (const block of this.blocks.values()) {
      const i = block.findIndex((r) => r.id === row.id);
      if (i >= 0) {
        block[i] = row;
        this.bump();
        return true;
      }
    }
    return false;
  }

  /** Every loaded row, in list order (at most maxBlocks × blockSize). */
  loadedRows(): T[] {
    const out: T[] = [];
    for (const start of this.cachedOffsets()) out.push(...(this.blocks.get(start) ?? []));
    return out;
  }

  /** Index of a loaded row by id, or -1. */
  indexOfId(id: number): number {
    for (const [start, block] of this.blocks) {
      const i = block.findIndex((r) => r.id === id);
      if (i >= 0) return start + i;
    }
    return -1;
  }

  private evict(): void {
    if (this.blocks.size <= this.maxBlocks) return;
    const center = this.lastCenter;
    const bs = this.blockSize;
    const byDistance = [...this.blocks.keys()].sort(
      (a, b) => Math.abs(b + bs / 2 - center) - Math.abs(a + bs / 2 - center),
    );
    while (this.blocks.size > this.maxBlocks && byDistance.length > 0) {
      const start = byDistance.shift() as number;
      this.blocks.delete(start);
      this.edges.delete(start);
    }
  }

  private bump(): void {
    this.version += 1;
    for (const l of this.listeners) l();
  }
}
