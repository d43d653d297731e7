// The virtualized discrepancy table: fixed row height, rows loaded in blocks on demand.
import { memo, useCallback, useEffect, useMemo, useRef } from 'react';
import type { CSSProperties, KeyboardEvent, PointerEvent as ReactPointerEvent, ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Tag, Tooltip } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, ClockCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { DiscrepancyRecord, Lang, PageCursor, Sort } from '../../types';
import { OUTCOME_CLASSES, REVIEW_STATES } from '../../types';
import { formatDate, formatMoney } from '../../format';
import { layoutColumns, MIN_DRAG_WIDTH, neededWidth } from './columnLayout';
import { dragHorizontally, useElementWidth } from '../../hooks/useElementWidth';
import type { ColumnPrefs, ColumnSpec, Layout, PlacedColumn } from './columnLayout';
import { Difference, localAmountText, providerAmountText } from './amounts';
import type { BlockLoader } from './blockLoader';
import { sortState } from './filters';
import type { SortColumn } from './filters';
import { CLASS_COLORS, STATE_COLORS, useLabel } from './labels';

export const ROW_HEIGHT = 36;
export const HEADER_HEIGHT = 38;
/** Placeholder rows while the first block of a new filter loads. */
const LOADING_ROWS = 8;

type Align = 'left' | 'right';

interface Column extends ColumnSpec {
  align?: Align;
  sort?: SortColumn;
  render: (r: DiscrepancyRecord, ctx: CellContext) => ReactNode;
  title?: (r: DiscrepancyRecord, ctx: CellContext) => string | undefined;
}

interface CellContext {
  lang: Lang;
  now: number;
  label: ReturnType<typeof useLabel>;
  t: (key: string, opts?: Record<string, unknown>) => string;
}

export function isOverdue(r: DiscrepancyRecord, now: number): boolean {
  return r.state !== 'resolved' && new Date(r.due_at).getTime() < now;
}

/** The row check box column (frozen left, before the key columns): fixed width. */
export const SELECT_COLUMN = 'select';
const SELECT_WIDTH = 40;

const COLUMNS: Column[] = [
  // Rendered by the row and the header themselves (it needs the checked state).
  { key: SELECT_COLUMN, min: SELECT_WIDTH, grow: 0, frozen: 'left', render: () => null },
  {
    key: 'bill_date',
    min: 96,
    grow: 0,
    sort: 'date',
    render: (r, c) => formatDate(r.bill_date, c.lang),
  },
  { key: 'account', min: 110, grow: 1, render: (r) => r.account, title: (r) => r.account },
  {
    key: 'order_no',
    min: 150,
    grow: 1,
    frozen: 'left',
    render: (r) => <span className="disc-mono">{r.order_no ?? r.refund_no ?? '—'}</span>,
    title: (r) => r.order_no ?? r.refund_no ?? undefined,
  },
  {
    key: 'class',
    min: 120,
    grow: 0,
    frozen: 'left',
    chrome: 18,
    sort: 'class',
    render: (r, c) => (
      <Tag color={CLASS_COLORS[r.class] ?? 'default'} className="disc-tag">
        {c.label('class', r.class)}
      </Tag>
    ),
    title: (r, c) => c.label('class', r.class),
  },
  {
    key: 'provider_txn_id',
    min: 150,
    grow: 2,
    render: (r) => <span className="disc-mono">{r.provider_txn_id ?? '—'}</span>,
    title: (r) => r.provider_txn_id ?? undefined,
  },
  {
    key: 'provider_amount',
    min: 96,
    grow: 0,
    align: 'right',
    render: (r, c) => providerAmountText(r, c.lang),
  },
  {
    key: 'local_amount',
    min: 96,
    grow: 0,
    align: 'right',
    render: (r, c) => localAmountText(r, c.lang),
  },
  {
    key: 'difference',
    min: 96,
    grow: 0,
    frozen: 'right',
    // Shown bold: about 8% wider than measured.
    chrome: 16,
    align: 'right',
    sort: 'difference',
    render: (r, c) => <Difference record={r} lang={c.lang} />,
  },
  {
    key: 'state',
    min: 90,
    grow: 0,
    chrome: 18,
    sort: 'state',
    render: (r, c) => (
      <span className="disc-state-cell">
        <Tag color={STATE_COLORS[r.state]} className="disc-tag" data-state={r.state}>
          {c.label('state', r.state)}
        </Tag>
        {!r.present && (
          <Tooltip title={c.t('table.gone_hint')}>
            <Tag className="disc-tag disc-gone">{c.t('table.gone')}</Tag>
          </Tooltip>
        )}
      </span>
    ),
  },
  {
    key: 'assignee',
    min: 90,
    grow: 1,
    render: (r, c) => r.assignee ?? <span className="disc-muted">{c.t('table.unassigned')}</span>,
    title: (r) => r.assignee ?? undefined,
  },
  {
    key: 'due_at',
    min: 96,
    grow: 0,
    chrome: 20,
    sort: 'due',
    render: (r, c) =>
      isOverdue(r, c.now) ? (
        <span className="disc-overdue" data-overdue="true">
          <ClockCircleOutlined /> {formatDate(r.due_at, c.lang)}
        </span>
      ) : (
        formatDate(r.due_at, c.lang)
      ),
    title: (r, c) => (isOverdue(r, c.now) ? c.t('table.overdue') : undefined),
  },
];

const COLUMN_BY_KEY: Record<string, Column> = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));
/** Without the check box column (a person who cannot review has nothing to select for). */
const DATA_COLUMNS: Column[] = COLUMNS.filter((c) => c.key !== SELECT_COLUMN);

/** The columns a person may hide (the frozen key columns always show). */
export const OPTIONAL_COLUMNS: string[] = COLUMNS.filter((c) => !c.frozen).map((c) => c.key);

/** Texts each column must show unclipped in `lang`: its longest labels, dates and amounts. */
function samplesFor(key: string, lang: Lang, label: CellContext['label'], t: CellContext['t']): string[] {
  const date = formatDate('2026-12-28', lang);
  const money = [formatMoney(-12_345_678, 'CNY', lang), formatMoney(-12_345_678, 'USD', lang)];
  switch (key) {
    case 'bill_date':
    case 'due_at':
      return [date];
    case 'class':
      return OUTCOME_CLASSES.map((c) => label('class', c));
    case 'state':
      return REVIEW_STATES.map((v) => label('state', v));
    case 'provider_amount':
    case 'local_amount':
      return money;
    case 'difference':
      return [...money, t('table.not_comparable')];
    case 'assignee':
      return [t('table.unassigned')];
    default:
      return [];
  }
}

/** Sticky placement of a frozen cell (header or row). */
function frozenStyle(c: PlacedColumn): CSSProperties | undefined {
  if (c.frozen === 'left') return { position: 'sticky', left: c.offset };
  if (c.frozen === 'right') return { position: 'sticky', right: c.offset };
  return undefined;
}

function frozenClass(c: PlacedColumn, layout: Layout, i: number): string {
  if (!c.frozen) return '';
  const next = layout.columns[i + 1];
  const prev = layout.columns[i - 1];
  const edge = (c.frozen === 'left' && next?.frozen !== 'left') || (c.frozen === 'right' && prev?.frozen !== 'right');
  return ` disc-frozen disc-frozen-${c.frozen}${edge ? ' disc-frozen-edge' : ''}`;
}

interface RowProps {
  layout: Layout;
  row: DiscrepancyRecord;
  index: number;
  start: number;
  selected: boolean;
  /** Its box is checked (for a bulk change). */
  checked: boolean;
  ctx: CellContext;
  onRowClick: (index: number) => void;
  onCheck: (index: number, shift: boolean) => void;
}

/** One loaded row; memoized so moving the selection re-renders two rows, not the window. */
const TableRow = memo(function TableRow({ layout, row, index, start, selected, checked, ctx, onRowClick, onCheck }: RowProps) {
  return (
    <div
      className={`disc-row${selected ? ' disc-row-selected' : ''}${checked ? ' disc-row-checked' : ''}${row.present ? '' : ' disc-row-gone'}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      data-testid={`disc-row-${row.id}`}
      data-index={index}
      data-state={row.state}
      data-checked={checked}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT, gridTemplateColumns: layout.template, width: layout.width }}
      onClick={() => onRowClick(index)}
    >
      {layout.columns.map((p, i) => {
        if (p.key === SELECT_COLUMN) {
          // The whole cell is the box's target; a click here checks, it does not open the row.
          return (
            <div
              key={p.key}
              role="gridcell"
              data-col={p.key}
              className={`disc-td disc-check-cell${frozenClass(p, layout, i)}`}
              style={frozenStyle(p)}
              onClick={(e) => {
                e.stopPropagation();
                onCheck(index, e.shiftKey);
              }}
            >
              <input
                type="checkbox"
                className="disc-check"
                data-testid="row-check"
                tabIndex={-1}
                checked={checked}
                onChange={() => undefined /* the cell's click does it (it knows shift) */}
                aria-label={ctx.t('select.row', { id: row.id })}
              />
            </div>
          );
        }
        const c = COLUMN_BY_KEY[p.key];
        return (
          <div
            key={c.key}
            role="gridcell"
            data-col={c.key}
            className={`disc-td${c.align === 'right' ? ' disc-right disc-num' : ''}${frozenClass(p, layout, i)}`}
            style={frozenStyle(p)}
            title={c.title?.(row, ctx)}
          >
            {c.render(row, ctx)}
          </div>
        );
      })}
    </div>
  );
});

const SkeletonRow = memo(function SkeletonRow({ layout, index, start }: { layout: Layout; index: number; start: number }) {
  return (
    <div
      className="disc-row disc-skeleton"
      role="row"
      aria-rowindex={index + 2}
      aria-busy
      data-index={index}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT, gridTemplateColumns: layout.template, width: layout.width }}
    >
      {layout.columns.map((p, i) => (
        <div key={p.key} className={`disc-td${frozenClass(p, layout, i)}`} style={frozenStyle(p)} role="gridcell">
          <span className="disc-skeleton-bar" />
        </div>
      ))}
    </div>
  );
});

export interface DiscrepancyTableProps {
  loader: BlockLoader<DiscrepancyRecord, PageCursor>;
  /** Changes whenever the loader has news (forces a re-render). */
  version: number;
  /** The filter + sort key; a change scrolls back to the top. */
  viewKey: string;
  total: number | null;
  sort: Sort;
  onSort: (column: SortColumn) => void;
  selectedIndex: number | null;
  onSelect: (index: number) => void;
  onOpen: (index: number) => void;
  lang: Lang;
  /** The user's column widths and hidden columns. */
  prefs: ColumnPrefs;
  /** A column dragged to `width` (`null`: back to its fitted width); `done` when released. */
  onResizeColumn: (key: string, width: number | null, done: boolean) => void;
  /** Rows kept rendered above and below the visible window. */
  overscan?: number;
  /** Check boxes for bulk changes (absent: no box column). */
  selection?: {
    checked: ReadonlySet<number>;
    /** The header box: none, some or every loaded row checked. */
    header: 'none' | 'some' | 'all';
    /** A row's box clicked (or Space on the selected row); `shift`: the range from the last. */
    onCheck: (index: number, shift: boolean) => void;
    onCheckAll: () => void;
  };
}

export default function DiscrepancyTable(props: DiscrepancyTableProps) {
  const {
    loader,
    version,
    viewKey,
    total,
    sort,
    onSort,
    selectedIndex,
    onSelect,
    onOpen,
    lang,
    prefs,
    onResizeColumn,
    overscan = 10,
    selection,
  } = props;
  const { t } = useTranslation('discrepancies');
  const label = useLabel();
  const scrollRef = useRef<HTMLDivElement>(null);
  const count = total ?? 0;

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan,
    paddingStart: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
    getItemKey: (i) => i,
  });

  const items = virtualizer.getVirtualItems();
  const first = items.length > 0 ? items[0].index : -1;
  const last = items.length > 0 ? items[items.length - 1].index : -1;

  // Load the blocks under the visible window (the loader skips cached and pending ones).
  // Until the total is known the page loads the first block itself (indices here may still
  // belong to the previous filter).
  useEffect(() => {
    if (first >= 0 && loader.total !== null) void loader.ensureRange(first, last);
  }, [loader, first, last, viewKey, total, version]);

  // A new filter or sort starts at the top.
  const lastKey = useRef(viewKey);
  useEffect(() => {
    if (lastKey.current === viewKey) return;
    lastKey.current = viewKey;
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    virtualizer.scrollToOffset(0);
  }, [viewKey, virtualizer]);

  // Keep the selected row in view (keyboard moves).
  useEffect(() => {
    if (selectedIndex !== null && selectedIndex >= 0 && selectedIndex < count) {
      virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
    }
  }, [selectedIndex, count, virtualizer]);

  // The window's width for the columns: the scroll box's inner width.
  const available = useElementWidth(scrollRef);
  const needed = useMemo(
    () => ({
      ...Object.fromEntries(
        DATA_COLUMNS.map((c) => [c.key, neededWidth({ ...c, samples: samplesFor(c.key, lang, label, t) }, t(`column.${c.key}`))]),
      ),
      [SELECT_COLUMN]: SELECT_WIDTH,
    }),
    [lang, label, t],
  );
  const selectable = selection !== undefined;
  const layout = useMemo(
    () => layoutColumns(selectable ? COLUMNS : DATA_COLUMNS, needed, prefs, available),
    [selectable, needed, prefs, available],
  );

  // Dragging a header's right edge resizes its column; a double click fits it again.
  const startResize = (e: ReactPointerEvent, key: string, width: number) => {
    const to = (dx: number) => Math.max(MIN_DRAG_WIDTH, Math.round(width + dx));
    dragHorizontally(
      e,
      (dx) => onResizeColumn(key, to(dx), false),
      (dx) => onResizeColumn(key, to(dx), true),
    );
  };

  const now = useMemo(() => Date.now(), [version]); // eslint-disable-line react-hooks/exhaustive-deps
  const ctx = useMemo<CellContext>(() => ({ lang, now, label, t }), [lang, now, label, t]);
  const onRowClick = useCallback(
    (index: number) => {
      onSelect(index);
      onOpen(index);
    },
    [onSelect, onOpen],
  );
  const check = selection?.onCheck;
  const onCheck = useCallback((index: number, shift: boolean) => check?.(index, shift), [check]);

  const pageRows = Math.max(1, Math.floor(((scrollRef.current?.clientHeight ?? 0) - HEADER_HEIGHT) / ROW_HEIGHT));

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (count === 0) return;
    const cur = selectedIndex ?? -1;
    let next: number | null = null;
    switch (e.key) {
      case 'ArrowDown':
        next = Math.min(count - 1, cur + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, cur - 1);
        break;
      case 'PageDown':
        next = Math.min(count - 1, cur + pageRows);
        break;
      case 'PageUp':
        next = Math.max(0, cur - pageRows);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = count - 1;
        break;
      case 'Enter':
        if (selectedIndex !== null) {
          e.preventDefault();
          onOpen(selectedIndex);
        }
        return;
      case ' ':
        // Space checks the selected row (shift: the range from the last checked).
        if (selectedIndex !== null && selection) {
          e.preventDefault();
          selection.onCheck(selectedIndex, e.shiftKey);
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    if (next !== null && next !== cur) onSelect(next);
  };

  return (
    <div
      ref={scrollRef}
      className="disc-scroll"
      data-testid="disc-table"
      role="grid"
      aria-label={t('table.label')}
      aria-rowcount={count + 1}
      aria-busy={total === null}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      <div
        className="disc-inner"
        style={{
          height: total === null ? HEADER_HEIGHT + LOADING_ROWS * ROW_HEIGHT : Math.max(virtualizer.getTotalSize(), HEADER_HEIGHT),
          width: layout.width,
        }}
        data-width={layout.width}
      >
        <div
          className="disc-header"
          role="row"
          aria-rowindex={1}
          style={{ gridTemplateColumns: layout.template, height: HEADER_HEIGHT, width: layout.width }}
        >
          {layout.columns.map((p, i) => {
            if (p.key === SELECT_COLUMN && selection) {
              return (
                <div
                  key={p.key}
                  role="columnheader"
                  data-col={p.key}
                  data-frozen={p.frozen ?? ''}
                  className={`disc-th disc-check-cell${frozenClass(p, layout, i)}`}
                  style={frozenStyle(p)}
                >
                  <input
                    type="checkbox"
                    className="disc-check"
                    data-testid="select-all"
                    data-state={selection.header}
                    ref={(el) => {
                      if (el) el.indeterminate = selection.header === 'some';
                    }}
                    checked={selection.header === 'all'}
                    onChange={selection.onCheckAll}
                    aria-label={t('select.all_loaded')}
                    title={t('select.all_loaded')}
                  />
                </div>
              );
            }
            const c = COLUMN_BY_KEY[p.key];
            const dir = c.sort ? sortState(c.sort, sort) : null;
            const text = t(`column.${c.key}`);
            return (
              <div
                key={c.key}
                role="columnheader"
                data-col={c.key}
                data-frozen={p.frozen ?? ''}
                aria-sort={dir === 'ascend' ? 'ascending' : dir === 'descend' ? 'descending' : undefined}
                className={`disc-th${c.align === 'right' ? ' disc-right' : ''}${frozenClass(p, layout, i)}`}
                style={frozenStyle(p)}
              >
                {c.sort ? (
                  <button
                    type="button"
                    className={`disc-sort${dir ? ' disc-sort-active' : ''}`}
                    data-testid={`disc-sort-${c.sort}`}
                    title={t('table.sort_by', { column: text })}
                    onClick={() => onSort(c.sort as SortColumn)}
                  >
                    {text}
                    {dir === 'ascend' && <ArrowUpOutlined />}
                    {dir === 'descend' && <ArrowDownOutlined />}
                  </button>
                ) : (
                  <span className="disc-th-text">{text}</span>
                )}
                <span
                  className="disc-resize"
                  data-testid={`disc-resize-${c.key}`}
                  role="separator"
                  aria-orientation="vertical"
                  aria-label={t('table.resize', { column: text })}
                  onPointerDown={(e) => startResize(e, c.key, p.width)}
                  onDoubleClick={(e) => {
                    e.stopPropagation();
                    onResizeColumn(c.key, null, true);
                  }}
                  onClick={(e) => e.stopPropagation()}
                />
              </div>
            );
          })}
        </div>
        {items.map((item) => {
          const row = loader.getRow(item.index);
          return row ? (
            <TableRow
              key={item.key}
              layout={layout}
              row={row}
              index={item.index}
              start={item.start}
              selected={item.index === selectedIndex}
              checked={selection?.checked.has(row.id) ?? false}
              ctx={ctx}
              onRowClick={onRowClick}
              onCheck={onCheck}
            />
          ) : (
            <SkeletonRow key={item.key} layout={layout} index={item.index} start={item.start} />
          );
        })}
        {total === null &&
          Array.from({ length: LOADING_ROWS }, (_, i) => (
            <SkeletonRow key={`loading-${i}`} layout={layout} index={i} start={HEADER_HEIGHT + i * ROW_HEIGHT} />
          ))}
      </div>
    </div>
  );
}
