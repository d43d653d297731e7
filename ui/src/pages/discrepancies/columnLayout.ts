// How the discrepancy table's columns fit the window: each column is at least as wide as its
// widest expected content (measured in the table's font, per language), the spare width of the
// window goes to the columns that can use it, the key columns are frozen (order no and class on
// the left, the difference on the right) so that whatever is scrolled into view they stay, and a
// person can resize or hide the others. Their choices are remembered per user.

/** Which side a column is frozen to, if any. */
export type Frozen = 'left' | 'right';

export interface ColumnSpec {
  key: string;
  /** Least width in px whatever the content. */
  min: number;
  /** Share of the window's spare width this column takes (0: never wider than needed). */
  grow: number;
  frozen?: Frozen;
  /** Texts the column must show unclipped (besides its header), per language. */
  samples?: string[];
  /** Extra px around the content (a tag's border and padding, an icon). */
  chrome?: number;
}

export interface ColumnPrefs {
  /** Widths the user dragged to, by column key. */
  widths: Record<string, number>;
  /** Columns the user hid (frozen columns cannot be hidden). */
  hidden: string[];
  /** The details pane's width the user dragged to, if any. */
  detailWidth?: number;
}

export const EMPTY_PREFS: ColumnPrefs = { widths: {}, hidden: [] };

/** Cell padding (8 px each side) and a little air. */
const CELL_PADDING = 20;
/** The narrowest a user may drag a column to. */
export const MIN_DRAG_WIDTH = 48;

export interface PlacedColumn {
  key: string;
  width: number;
  frozen?: Frozen;
  /** For frozen columns: the sticky offset from their side. */
  offset: number;
}

export interface Layout {
  columns: PlacedColumn[];
  /** Sum of the widths: wider than the window means the middle scrolls. */
  width: number;
  template: string;
}

/** Width of `text` in the table's font; a canvas when there is one (not in jsdom). */
export function textWidth(text: string, font = '14px system-ui, sans-serif'): number {
  const canvas = measureCanvas();
  const ctx = canvas?.getContext('2d');
  if (ctx) {
    ctx.font = font;
    const w = ctx.measureText(text).width;
    if (Number.isFinite(w) && w > 0) return Math.ceil(w);
  }
  // Without a canvas: CJK characters are about one em, others about half.
  let w = 0;
  for (const ch of text) w += /[\u3000-\u9fff\uff00-\uffef]/u.test(ch) ? 14 : 8;
  return w;
}

let canvasCache: HTMLCanvasElement | null | undefined;
function measureCanvas(): HTMLCanvasElement | null {
  if (canvasCache !== undefined) return canvasCache;
  try {
    const c = typeof document !== 'undefined' ? document.createElement('canvas') : null;
    // jsdom has the element but no 2d context (and warns when asked): treat it as none.
    canvasCache = c && typeof navigator !== 'undefined' && !/jsdom/i.test(navigator.userAgent) ? c : null;
  } catch {
    canvasCache = null;
  }
  return canvasCache;
}

/** The width a column needs for its header and samples. */
export function neededWidth(spec: ColumnSpec, header: string, measure = textWidth): number {
  // Headers are bold and may carry a sort arrow.
  let w = measure(header, '600 14px system-ui, sans-serif') + 18;
  for (const s of spec.samples ?? []) w = Math.max(w, measure(s) + (spec.chrome ?? 0));
  return Math.max(spec.min, Math.ceil(w + CELL_PADDING));
}

/**
 * Places the visible columns in `available` px: each at its needed (or dragged) width, the
 * spare width shared by `grow`, frozen-left columns first and frozen-right last with their
 * sticky offsets.
 */
export function layoutColumns(
  specs: ColumnSpec[],
  needed: Record<string, number>,
  prefs: ColumnPrefs,
  available: number,
): Layout {
  const visible = specs.filter((c) => c.frozen || !prefs.hidden.includes(c.key));
  const ordered = [
    ...visible.filter((c) => c.frozen === 'left'),
    ...visible.filter((c) => !c.frozen),
    ...visible.filter((c) => c.frozen === 'right'),
  ];
  const widths = ordered.map((c) => {
    const dragged = prefs.widths[c.key];
    return dragged !== undefined ? Math.max(MIN_DRAG_WIDTH, Math.round(dragged)) : (needed[c.key] ?? c.min);
  });
  const total = widths.reduce((a, b) => a + b, 0);
  const spare = Math.max(0, Math.floor(available) - total);
  const growers = ordered.map((c) => (prefs.widths[c.key] === undefined ? c.grow : 0));
  const growSum = growers.reduce((a, b) => a + b, 0);
  if (spare > 0 && growSum > 0) {
    let given = 0;
    ordered.forEach((_, i) => {
      const extra = Math.floor((spare * growers[i]) / growSum);
      widths[i] += extra;
      given += extra;
    });
    // Rounding leftovers go to the first grower, so the columns fill the window exactly.
    const firstGrower = growers.findIndex((g) => g > 0);
    if (firstGrower >= 0) widths[firstGrower] += spare - given;
  }
  const columns: PlacedColumn[] = ordered.map((c, i) => ({ key: c.key, width: widths[i], frozen: c.frozen, offset: 0 }));
  // Between the frozen columns there must be room for the widest other column, or some column
  // could never be seen whole: in a narrow window (a details pane open at 1280 px) the
  // right-frozen columns scroll with the rest instead.
  const sum = (f?: Frozen) => columns.filter((c) => c.frozen === f).reduce((a, c) => a + c.width, 0);
  const widestMiddle = Math.max(0, ...columns.filter((c) => !c.frozen).map((c) => c.width));
  if (available > 0 && available - sum('left') - sum('right') < widestMiddle) {
    for (const c of columns) if (c.frozen === 'right') c.frozen = undefined;
  }
  let left = 0;
  for (const c of columns) {
    if (c.frozen !== 'left') break;
    c.offset = left;
    left += c.width;
  }
  let right = 0;
  for (let i = columns.length - 1; i >= 0 && columns[i].frozen === 'right'; i--) {
    columns[i].offset = right;
    right += columns[i].width;
  }
  const width = widths.reduce((a, b) => a + b, 0);
  return { columns, width, template: widths.map((w) => `${w}px`).join(' ') };
}

/** The details pane: never narrower than this, never more than DETAIL_MAX_SHARE of the body. */
export const DETAIL_MIN = 320;
export const DETAIL_MAX_SHARE = 0.6;

/** The details pane's width in a body `body` px wide: the user's, else about 30% of the window. */
export function detailWidth(prefs: ColumnPrefs, body: number, windowWidth: number): number {
  const wanted = prefs.detailWidth ?? Math.min(520, Math.max(340, Math.round(windowWidth * 0.3)));
  const max = Math.max(DETAIL_MIN, Math.floor(body * DETAIL_MAX_SHARE));
  return Math.min(max, Math.max(DETAIL_MIN, wanted));
}

/** Where a user's column choices are kept. */
export function prefsKey(username: string | null): string {
  return `paydesk.discrepancies.columns.${username ?? 'anonymous'}`;
}

export function loadPrefs(username: string | null): ColumnPrefs {
  try {
    const raw = window.localStorage.getItem(prefsKey(username));
    if (!raw) return EMPTY_PREFS;
    const v = JSON.parse(raw) as Partial<ColumnPrefs>;
    const widths: Record<string, number> = {};
    for (const [k, w] of Object.entries(v.widths ?? {})) {
      if (typeof w === 'number' && Number.isFinite(w) && w > 0 && w < 2000) widths[k] = w;
    }
    const hidden = Array.isArray(v.hidden) ? v.hidden.filter((h): h is string => typeof h === 'string') : [];
    const detailWidth =
      typeof v.detailWidth === 'number' && Number.isFinite(v.detailWidth) && v.detailWidth >= DETAIL_MIN && v.detailWidth < 4000
        ? v.detailWidth
        : undefined;
    return { widths, hidden, detailWidth };
  } catch {
    return EMPTY_PREFS;
  }
}

export function savePrefs(username: string | null, prefs: ColumnPrefs): void {
  try {
    window.localStorage.setItem(prefsKey(username), JSON.stringify(prefs));
  } catch {
    // Storage full or denied: the choice lasts for this session only.
  }
}
