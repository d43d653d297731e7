// Discrepancies: the screen finance staff live in. Server-side filtered and sorted list,
// virtualized and loaded in blocks, a detail pane, bulk resolve and export.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { PointerEvent as ReactPointerEvent } from 'react';
import { Alert, Button, Empty, Space, Spin, Tooltip, Typography, message } from 'antd';
import type { InputRef } from 'antd';
import {
  CheckSquareOutlined,
  CopyOutlined,
  FileExcelOutlined,
  FileTextOutlined,
  PrinterOutlined,
  ReloadOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert, showError } from '../../components/ErrorNotice';
import { formatCount, formatMoney } from '../../format';
import { useSession } from '../../session';
import { buildHash, useNav } from '../../nav';
import type {
  CurrencyTotal,
  DiscrepancyRecord,
  ExportFormat,
  ExportResult,
  Filter,
  PageCursor,
  Sort,
} from '../../types';
import { BlockLoader } from './blockLoader';
import type { BlockFetcher } from './blockLoader';
import BulkResolveDialog from './BulkResolveDialog';
import DetailPane from './DetailPane';
import DiscrepancyTable from './DiscrepancyTable';
import ColumnChooser from './ColumnChooser';
import { detailWidth, loadPrefs, savePrefs } from './columnLayout';
import type { ColumnPrefs } from './columnLayout';
import { dragHorizontally, useElementWidth } from '../../hooks/useElementWidth';
import {
  DEFAULT_FORM,
  DEFAULT_SORT,
  cacheKey,
  clearSaved,
  formFromParams,
  formToParams,
  loadSaved,
  nextSort,
  save,
  toApiFilter,
} from './filters';
import type { FilterForm, SortColumn } from './filters';
import FilterBar from './FilterBar';
import PrintReport from './PrintReport';
import { NONE, clickCheck, clickHeader, headerState } from './selection';
import type { Checked } from './selection';
import './discrepancies.css';

export const BLOCK_SIZE = 200;
/** How long the undo of a review change is offered (the backend allows a little longer). */
export const UNDO_SECONDS = 30;

/** A review change that can still be undone. */
interface Undoable {
  id: number;
  /** How many discrepancies it changed. */
  updated: number;
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
}

export function makeFetcher(): BlockFetcher<DiscrepancyRecord, PageCursor> {
  return async (key, offset, limit, from) => {
    const [sort, filter] = JSON.parse(key) as [Sort, Filter];
    const page = await commands.listDiscrepancies(filter, sort, limit, offset, from);
    return { total: page.total, rows: page.discrepancies, first: page.first, last: page.last };
  };
}

export default function DiscrepanciesPage() {
  const { t } = useTranslation('discrepancies');
  const { can, appInfo, lang, me } = useSession();
  const canReview = can('discrepancy_review');
  const canExport = can('report_export');
  const accounts = useMemo(() => appInfo?.accounts ?? [], [appInfo]);

  // Opened from a link (dashboard, reconcile) → its filter; else the one last used here.
  const nav = useNav();
  const paramsKey = JSON.stringify(nav.params);
  const initial = useMemo(
    () => (Object.keys(nav.params).length > 0 ? formFromParams(nav.params) : loadSaved()),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const [form, setForm] = useState<FilterForm>(initial.form);
  const [sort, setSort] = useState<Sort>(initial.sort);
  const [syncToken, setSyncToken] = useState(0);

  const filter = useMemo(() => toApiFilter(form), [form]);
  const viewKey = useMemo(() => cacheKey(filter, sort), [filter, sort]);

  // Keep the filter for the next visit and in the URL hash (survives a reload).
  useEffect(() => {
    save(form, sort);
    if (nav.page === 'discrepancies') {
      const hash = buildHash('discrepancies', formToParams(form, sort));
      if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
    }
  }, [form, sort, nav.page]);

  // Another screen linked here again while this one is open: take its filter.
  const firstParams = useRef(paramsKey);
  useEffect(() => {
    if (paramsKey === firstParams.current) return;
    firstParams.current = paramsKey;
    if (Object.keys(nav.params).length === 0) return;
    const next = formFromParams(nav.params);
    setForm(next.form);
    setSort(next.sort);
    setSyncToken((n) => n + 1);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [paramsKey]);

  const onApplySaved = useCallback((saved: FilterForm, savedSort: Sort) => {
    setForm(saved);
    setSort(savedSort);
    setSyncToken((n) => n + 1);
  }, []);
  // Saved filters belong to the signed-in user in this workspace.
  const workspace = appInfo?.workspace ?? null;
  const user = me?.username ?? null;
  const savedScope = useMemo(
    () => (workspace !== null && user !== null ? { workspace, user } : null),
    [workspace, user],
  );

  const onReset = useCallback(() => {
    clearSaved();
    setForm({ ...DEFAULT_FORM });
    setSort(DEFAULT_SORT);
    setSyncToken((n) => n + 1);
  }, []);

  // ---- the block loader (one per page instance)
  const loader = useMemo(() => new BlockLoader<DiscrepancyRecord, PageCursor>(makeFetcher(), { blockSize: BLOCK_SIZE }), []);
  const subscribe = useCallback((cb: () => void) => loader.subscribe(cb), [loader]);
  const version = useSyncExternalStore(subscribe, () => loader.getVersion());
  const total = loader.total;

  // Beside the count: what the view puts at stake, per currency (read once the count is in,
  // again when it changes after a bulk change).
  const [atStake, setAtStake] = useState<CurrencyTotal[] | null>(null);
  useEffect(() => {
    if (total === null) return;
    let live = true;
    commands.discrepancyTotals(filter).then(
      (v) => live && setAtStake(v),
      () => live && setAtStake(null),
    );
    return () => {
      live = false;
    };
  }, [filter, total]);

  const [selectedIndex, setSelectedIndex] = useState<number | null>(null);
  const [detailId, setDetailId] = useState<number | null>(null);

  // ---- rows checked for a bulk change (by id), and the last clicked one (shift-click range)
  const [checked, setChecked] = useState<Checked>(NONE);
  const anchor = useRef<number | null>(null);
  const clearChecked = useCallback(() => {
    setChecked(NONE);
    anchor.current = null;
  }, []);
  // Another filter is another set of rows: what was checked no longer applies.
  const filterKey = useMemo(() => JSON.stringify(filter), [filter]);
  useEffect(() => clearChecked(), [filterKey, clearChecked]);
  // Positions change with the sort: a range starts afresh.
  useEffect(() => {
    anchor.current = null;
  }, [sort]);
  const onCheck = useCallback(
    (index: number, shift: boolean) => {
      // Read now: the updater may run after the anchor has moved to this row.
      const from = anchor.current;
      setChecked((cur) => clickCheck(cur, (i) => loader.getRow(i), index, from, shift));
      anchor.current = index;
    },
    [loader],
  );

  // Column widths, hidden columns and the details pane's width: the user's own, remembered.
  const username = me?.username ?? null;
  const [prefs, setPrefsState] = useState<ColumnPrefs>(() => loadPrefs(username));
  useEffect(() => setPrefsState(loadPrefs(username)), [username]);
  const setPrefs = useCallback(
    (next: ColumnPrefs) => {
      setPrefsState(next);
      savePrefs(username, next);
    },
    [username],
  );
  const onResizeColumn = useCallback(
    (key: string, width: number | null, done: boolean) => {
      setPrefsState((cur) => {
        const widths = { ...cur.widths };
        if (width === null) delete widths[key];
        else widths[key] = width;
        const next = { ...cur, widths };
        if (done) savePrefs(username, next);
        return next;
      });
    },
    [username],
  );
  const bodyRef = useRef<HTMLDivElement>(null);
  const bodyWidth = useElementWidth(bodyRef) || window.innerWidth;
  const paneWidth = detailWidth(prefs, bodyWidth, window.innerWidth);
  // The pane's left edge: dragging it left widens the pane.
  const startDetailResize = (e: ReactPointerEvent) => {
    const start = paneWidth;
    const to = (dx: number) => detailWidth({ ...prefs, detailWidth: start - dx }, bodyWidth, window.innerWidth);
    dragHorizontally(
      e,
      (dx) => setPrefsState((cur) => ({ ...cur, detailWidth: to(dx) })),
      (dx) =>
        setPrefsState((cur) => {
          const next = { ...cur, detailWidth: to(dx) };
          savePrefs(username, next);
          return next;
        }),
    );
  };

  useLayoutEffect(() => {
    if (loader.setKey(viewKey)) {
      setSelectedIndex(null);
      void loader.ensureRange(0, BLOCK_SIZE - 1);
    }
  }, [loader, viewKey]);

  const reload = useCallback(() => {
    loader.reset();
    void loader.ensureRange(0, BLOCK_SIZE - 1);
  }, [loader]);

  // ---- reviewers (assignee pickers)
  const [reviewers, setReviewers] = useState<string[]>([]);
  useEffect(() => {
    let alive = true;
    commands.reviewers()
      .then((r) => alive && setReviewers(r))
      .catch(() => undefined); // the pickers just stay empty
    return () => {
      alive = false;
    };
  }, []);

  const onSort = useCallback((column: SortColumn) => setSort((s) => nextSort(column, s)), []);

  // ---- selection and detail
  const openIndex = useCallback(
    (index: number) => {
      const row = loader.getRow(index);
      if (row) setDetailId(row.id);
    },
    [loader],
  );

  // The open detail follows the selection (arrow keys).
  useEffect(() => {
    if (detailId === null || selectedIndex === null) return;
    const row = loader.getRow(selectedIndex);
    if (row && row.id !== detailId) setDetailId(row.id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selectedIndex, version]);

  const closeDetail = useCallback(() => setDetailId(null), []);

  // ---- undo of the last review change (single or bulk), offered for UNDO_SECONDS
  const [undoable, setUndoable] = useState<Undoable | null>(null);
  const [undoing, setUndoing] = useState(false);
  const [skipped, setSkipped] = useState<number[] | null>(null);
  // Bumped after an undo: the open details pane reads its record and history again.
  const [detailGen, setDetailGen] = useState(0);
  useEffect(() => {
    if (undoable === null) return undefined;
    const timer = window.setTimeout(() => setUndoable(null), UNDO_SECONDS * 1000);
    return () => window.clearTimeout(timer);
  }, [undoable]);

  const onUpdated = useCallback(
    (rec: DiscrepancyRecord, undoId: number | null) => {
      loader.updateRow(rec);
      if (undoId !== null) setUndoable({ id: undoId, updated: 1 });
    },
    [loader],
  );

  // ---- keyboard: "/" focuses the text filter, Esc closes the detail, arrows from anywhere
  const textRef = useRef<InputRef>(null);
  const [bulkOpen, setBulkOpen] = useState(false);
  // The print / PDF report of the current filter (it reads its own rows; open, it takes the keys).
  const [printing, setPrinting] = useState(false);
  const printButton = useRef<HTMLButtonElement>(null);
  const closePrint = useCallback(() => setPrinting(false), []);
  // Closed: back where the person was (once the button is enabled again).
  const wasPrinting = useRef(false);
  useEffect(() => {
    if (wasPrinting.current && !printing) printButton.current?.focus();
    wasPrinting.current = printing;
  }, [printing]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || printing) return;
      const target = e.target as HTMLElement | null;
      if (e.key === '/' && !isEditable(target) && !bulkOpen) {
        e.preventDefault();
        textRef.current?.focus({ cursor: 'all' });
        return;
      }
      if (e.key === 'Escape' && detailId !== null && !bulkOpen) {
        if (target?.getAttribute?.('aria-expanded') === 'true') return; // a dropdown closes first
        if (target?.closest?.('.ant-modal')) return; // a dialog (saved filters) closes first
        if (isEditable(target) && target?.closest('.disc-detail')) {
          target.blur();
          return;
        }
        setDetailId(null);
        return;
      }
      if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && (target === document.body || target === null)) {
        const count = loader.total ?? 0;
        if (count === 0) return;
        e.preventDefault();
        setSelectedIndex((cur) => {
          const c = cur ?? -1;
          return e.key === 'ArrowDown' ? Math.min(count - 1, c + 1) : Math.max(0, c - 1);
        });
        (document.querySelector('[data-testid="disc-table"]') as HTMLElement | null)?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [detailId, bulkOpen, loader, printing]);

  const closeBulk = useCallback(() => setBulkOpen(false), []);
  const onBulkDone = useCallback(
    (updated: number, undoId: number | null) => {
      setBulkOpen(false);
      clearChecked();
      setSkipped(null);
      if (undoId !== null) setUndoable({ id: undoId, updated });
      else void message.success(t('bulk.done', { n: formatCount(updated, lang) }));
      reload();
    },
    [t, lang, reload, clearChecked],
  );

  const undo = async () => {
    if (undoable === null) return;
    setUndoing(true);
    try {
      const res = await commands.undoReviewChange(undoable.id);
      setUndoable(null);
      void message.success(t('undo.done', { count: res.restored.length, n: formatCount(res.restored.length, lang) }));
      setSkipped(res.skipped.length > 0 ? res.skipped : null);
      setDetailGen((n) => n + 1);
      reload();
    } catch (e) {
      setUndoable(null);
      showError(e);
    } finally {
      setUndoing(false);
    }
  };

  // ---- the header box: every loaded row, or none
  const loadedRows = useMemo(() => loader.loadedRows(), [loader, version]); // eslint-disable-line react-hooks/exhaustive-deps
  const header = headerState(checked, loadedRows);
  const onCheckAll = useCallback(() => {
    setChecked((cur) => clickHeader(cur, loader.loadedRows()));
    anchor.current = null;
  }, [loader]);
  const checkedIds = useMemo(() => new Set(checked.keys()), [checked]);
  const selection = useMemo(
    () => (canReview ? { checked: checkedIds, header, onCheck, onCheckAll } : undefined),
    [canReview, checkedIds, header, onCheck, onCheckAll],
  );
  const checkedRows = useMemo(() => [...checked.values()], [checked]);

  // ---- export
  const [exporting, setExporting] = useState<ExportFormat | null>(null);
  const [exported, setExported] = useState<ExportResult | null>(null);
  const doExport = async (format: ExportFormat) => {
    setExporting(format);
    setExported(null);
    try {
      const res = await commands.exportDiscrepancies(filter, format, lang);
      setExported(res);
    } catch (e) {
      showError(e);
    } finally {
      setExporting(null);
    }
  };
  const copyPath = (path: string) => {
    const done = () => void message.success(t('common:actions.copied'));
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(path).then(done, () => undefined);
    }
  };

  // ---- render
  return (
    <div className="disc-page" data-testid="disc-page">
      <FilterBar
        form={form}
        setForm={setForm}
        accounts={accounts}
        reviewers={reviewers}
        onReset={onReset}
        syncToken={syncToken}
        textRef={textRef}
        sort={sort}
        savedScope={savedScope}
        onApplySaved={onApplySaved}
      />

      <div className="disc-toolbar">
        <span data-testid="disc-total" data-total={total ?? undefined} aria-live="polite">
          {total === null ? (
            <>
              <Spin size="small" /> {t('toolbar.counting')}
            </>
          ) : (
            t('toolbar.total', { n: formatCount(total, lang) })
          )}
        </span>
        {total !== null && total > 0 && atStake && atStake.length > 0 && (
          <span data-testid="disc-at-stake" className="disc-at-stake">
            {t('toolbar.at_stake', {
              amounts: atStake.map((a) => formatMoney(a.at_stake, a.currency, lang)).join(' · '),
            })}
          </span>
        )}
        <Tooltip title={t('common:actions.refresh')}>
          <Button size="small" type="text" icon={<ReloadOutlined />} aria-label={t('common:actions.refresh')} data-testid="disc-refresh" onClick={reload} />
        </Tooltip>
        {checked.size > 0 && (
          <span className="disc-selection" data-testid="selection-count" data-count={checked.size}>
            {t('select.count', { n: formatCount(checked.size, lang) })}
            <Button size="small" type="link" data-testid="selection-clear" onClick={clearChecked}>
              {t('select.clear')}
            </Button>
          </span>
        )}
        <Typography.Text type="secondary" className="disc-hint">
          {t(canReview ? 'toolbar.keys_hint_select' : 'toolbar.keys_hint')}
        </Typography.Text>
        <span className="disc-spacer" />
        <ColumnChooser prefs={prefs} onChange={setPrefs} />
        {canExport && (
          <Space>
            <Button
              icon={<FileTextOutlined />}
              data-testid="disc-export-csv"
              loading={exporting === 'csv'}
              disabled={exporting !== null}
              onClick={() => void doExport('csv')}
            >
              {t('export.csv')}
            </Button>
            <Button
              icon={<FileExcelOutlined />}
              data-testid="disc-export-xlsx"
              loading={exporting === 'xlsx'}
              disabled={exporting !== null}
              onClick={() => void doExport('xlsx')}
            >
              {t('export.xlsx')}
            </Button>
            <Button
              ref={printButton}
              icon={<PrinterOutlined />}
              data-testid="print-report"
              disabled={printing || total === 0}
              onClick={() => setPrinting(true)}
            >
              {t('print.button')}
            </Button>
          </Space>
        )}
        {canReview && (
          <Button
            danger
            icon={<CheckSquareOutlined />}
            data-testid="disc-bulk-resolve"
            disabled={!total && checked.size === 0}
            onClick={() => setBulkOpen(true)}
          >
            {checked.size > 0
              ? t('bulk.open_selected', { n: formatCount(checked.size, lang) })
              : t('bulk.open', { n: formatCount(total ?? 0, lang) })}
          </Button>
        )}
      </div>

      {undoable && (
        <Alert
          type="success"
          showIcon
          className="disc-undo-bar"
          data-testid="undo-bar"
          message={t('undo.updated', { count: undoable.updated, n: formatCount(undoable.updated, lang) })}
          action={
            <Button size="small" data-testid="undo-bulk" loading={undoing} onClick={() => void undo()}>
              {t('undo.action', { s: UNDO_SECONDS })}
            </Button>
          }
        />
      )}
      {skipped && (
        <Alert
          type="warning"
          showIcon
          closable
          onClose={() => setSkipped(null)}
          className="disc-undo-bar"
          data-testid="undo-skipped"
          message={t('undo.skipped', { count: skipped.length, n: formatCount(skipped.length, lang) })}
          description={skipped.map((id) => `#${id}`).join(', ')}
        />
      )}
      {exporting && (
        <Alert
          type="info"
          showIcon
          icon={<Spin size="small" />}
          data-testid="disc-export-progress"
          message={t('export.running', { n: formatCount(total ?? 0, lang), format: exporting.toUpperCase() })}
        />
      )}
      {exported && (
        <Alert
          type="success"
          showIcon
          closable
          onClose={() => setExported(null)}
          message={t('export.done', { n: formatCount(exported.rows, lang) })}
          description={
            <Space wrap>
              <span className="disc-export-path" data-testid="disc-export-path">
                {exported.path}
              </span>
              <Button size="small" icon={<CopyOutlined />} data-testid="disc-export-copy" onClick={() => copyPath(exported.path)}>
                {t('common:actions.copy')}
              </Button>
            </Space>
          }
        />
      )}
      {loader.error !== null && (
        <ErrorAlert
          error={loader.error}
          data-testid="disc-load-error"
          onRetry={() => {
            loader.retry();
            if (loader.total === null) void loader.ensureRange(0, BLOCK_SIZE - 1);
          }}
        />
      )}

      <div className="disc-body" ref={bodyRef}>
        <div className="disc-table-wrap">
          {total === 0 ? (
            <Empty data-testid="disc-empty" description={t('table.empty')} style={{ marginTop: 48 }} />
          ) : (
            <DiscrepancyTable
              loader={loader}
              version={version}
              viewKey={viewKey}
              total={total}
              sort={sort}
              onSort={onSort}
              selectedIndex={selectedIndex}
              onSelect={setSelectedIndex}
              onOpen={openIndex}
              lang={lang}
              prefs={prefs}
              onResizeColumn={onResizeColumn}
              selection={selection}
            />
          )}
        </div>
        {detailId !== null && (
          <div className="disc-detail-wrap" style={{ width: paneWidth }} data-testid="disc-detail-wrap">
            <span
              className="disc-detail-resize"
              data-testid="disc-detail-resize"
              role="separator"
              aria-orientation="vertical"
              aria-label={t('table.resize_detail')}
              onPointerDown={startDetailResize}
              onDoubleClick={() => setPrefs({ ...prefs, detailWidth: undefined })}
            />
          <DetailPane
            key={detailGen}
            id={detailId}
            onClose={closeDetail}
            onUpdated={onUpdated}
            reviewers={reviewers}
            canReview={canReview}
            lang={lang}
            username={me?.username ?? null}
          />
          </div>
        )}
      </div>

      {printing && (
        <PrintReport
          filter={filter}
          sort={sort}
          accounts={accounts}
          lang={lang}
          workspace={workspace}
          user={user}
          onClose={closePrint}
        />
      )}

      {canReview && (
        <BulkResolveDialog
          open={bulkOpen}
          total={total}
          selected={checkedRows}
          filter={filter}
          lang={lang}
          onClose={closeBulk}
          onDone={onBulkDone}
          onStale={reload}
          undoSeconds={UNDO_SECONDS}
        />
      )}
    </div>
  );
}
