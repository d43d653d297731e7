// The virtualized discrepancy table: fixed row height, rows loaded in blocks on demand.
import { memo, useCallback, useEffect, useMemo, useRef } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Tag, Tooltip } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, ClockCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { DiscrepancyRecord, Lang, PageCursor, Sort } from '../../types';
import { formatDate } from '../../format';
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

interface Column {
  key: string;
  width: number;
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

const COLUMNS: Column[] = [
  {
    key: 'bill_date',
    width: 116,
    sort: 'date',
    render: (r, c) => formatDate(r.bill_date, c.lang),
  },
  { key: 'account', width: 130, render: (r) => r.account, title: (r) => r.account },
  {
    key: 'class',
    width: 190,
    sort: 'class',
    render: (r, c) => (
      <Tag color={CLASS_COLORS[r.class] ?? 'default'} className="disc-tag">
        {c.label('class', r.class)}
      </Tag>
    ),
    title: (r, c) => c.label('class', r.class),
  },
  {
    key: 'order_no',
    width: 170,
    render: (r) => <span className="disc-mono">{r.order_no ?? r.refund_no ?? '—'}</span>,
    title: (r) => r.order_no ?? r.refund_no ?? undefined,
  },
  {
    key: 'provider_txn_id',
    width: 200,
    render: (r) => <span className="disc-mono">{r.provider_txn_id ?? '—'}</span>,
    title: (r) => r.provider_txn_id ?? undefined,
  },
  {
    key: 'provider_amount',
    width: 130,
    align: 'right',
    render: (r, c) => providerAmountText(r, c.lang),
  },
  {
    key: 'local_amount',
    width: 130,
    align: 'right',
    render: (r, c) => localAmountText(r, c.lang),
  },
  {
    key: 'difference',
    width: 130,
    align: 'right',
    sort: 'difference',
    render: (r, c) => <Difference record={r} lang={c.lang} />,
  },
  {
    key: 'state',
    width: 130,
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
    width: 110,
    render: (r, c) => r.assignee ?? <span className="disc-muted">{c.t('table.unassigned')}</span>,
    title: (r) => r.assignee ?? undefined,
  },
  {
    key: 'due_at',
    width: 130,
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

export const TABLE_WIDTH = COLUMNS.reduce((s, c) => s + c.width, 0);
const GRID_TEMPLATE = COLUMNS.map((c) => `${c.width}px`).join(' ');

interface RowProps {
  row: DiscrepancyRecord;
  index: number;
  start: number;
  selected: boolean;
  ctx: CellContext;
  onRowClick: (index: number) => void;
}

/** One loaded row; memoized so moving the selection re-renders two rows, not the window. */
const TableRow = memo(function TableRow({ row, index, start, selected, ctx, onRowClick }: RowProps) {
  return (
    <div
      className={`disc-row${selected ? ' disc-row-selected' : ''}${row.present ? '' : ' disc-row-gone'}`}
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      data-testid={`disc-row-${row.id}`}
      data-index={index}
      data-state={row.state}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT, gridTemplateColumns: GRID_TEMPLATE }}
      onClick={() => onRowClick(index)}
    >
      {COLUMNS.map((c) => (
        <div
          key={c.key}
          role="gridcell"
          data-col={c.key}
          className={`disc-td${c.align === 'right' ? ' disc-right disc-num' : ''}`}
          title={c.title?.(row, ctx)}
        >
          {c.render(row, ctx)}
        </div>
      ))}
    </div>
  );
});

const SkeletonRow = memo(function SkeletonRow({ index, start }: { index: number; start: number }) {
  return (
    <div
      className="disc-row disc-skeleton"
      role="row"
      aria-rowindex={index + 2}
      aria-busy
      data-index={index}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT, gridTemplateColumns: GRID_TEMPLATE }}
    >
      {COLUMNS.map((c) => (
        <div key={c.key} className="disc-td" role="gridcell">
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
  /** Rows kept rendered above and below the visible window. */
  overscan?: number;
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
    overscan = 10,
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

  const now = useMemo(() => Date.now(), [version]); // eslint-disable-line react-hooks/exhaustive-deps
  const ctx = useMemo<CellContext>(() => ({ lang, now, label, t }), [lang, now, label, t]);
  const onRowClick = useCallback(
    (index: number) => {
      onSelect(index);
      onOpen(index);
    },
    [onSelect, onOpen],
  );

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
          width: TABLE_WIDTH,
        }}
      >
        <div
          className="disc-header"
          role="row"
          aria-rowindex={1}
          style={{ gridTemplateColumns: GRID_TEMPLATE, height: HEADER_HEIGHT }}
        >
          {COLUMNS.map((c) => {
            const dir = c.sort ? sortState(c.sort, sort) : null;
            const text = t(`column.${c.key}`);
            return (
              <div
                key={c.key}
                role="columnheader"
                aria-sort={dir === 'ascend' ? 'ascending' : dir === 'descend' ? 'descending' : undefined}
                className={`disc-th${c.align === 'right' ? ' disc-right' : ''}`}
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
                  text
                )}
              </div>
            );
          })}
        </div>
        {items.map((item) => {
          const row = loader.getRow(item.index);
          return row ? (
            <TableRow
              key={item.key}
              row={row}
              index={item.index}
              start={item.start}
              selected={item.index === selectedIndex}
              ctx={ctx}
              onRowClick={onRowClick}
            />
          ) : (
            <SkeletonRow key={item.key} index={item.index} start={item.start} />
          );
        })}
        {total === null &&
          Array.from({ length: LOADING_ROWS }, (_, i) => (
            <SkeletonRow key={`loading-${i}`} index={i} start={HEADER_HEIGHT + i * ROW_HEIGHT} />
          ))}
      </div>
    </div>
  );
}
