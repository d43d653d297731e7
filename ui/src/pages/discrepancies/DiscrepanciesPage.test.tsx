import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { call } from '../../api';
import { makeMe, renderWithSession } from '../../test-utils';
import type { Filter } from '../../types';
import DiscrepanciesPage from './DiscrepanciesPage';
import { ROW_HEIGHT } from './DiscrepancyTable';
import { DEFAULT_FILTER, fakeBackend, makeLine, makeOrder, makeRecord } from './testBackend';
import { DEFAULT_FORM, DEFAULT_SORT } from './filters';
import { filterOf, loadSavedFilters, storageKey, storeSavedFilters, upsertFilter } from './savedFilters';
import type { FakeBackend } from './testBackend';

vi.mock('../../api', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../api')>();
  return { ...orig, call: vi.fn() };
});

const mockedCall = vi.mocked(call);


// jsdom has no layout: give the table's scroll element a real viewport size so the
// virtualizer computes a real window (its default observer reads clientHeight/clientWidth).
const VIEWPORT = 600;
const clientHeight = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
const clientWidth = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth');
const scrollTo = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'scrollTo');
const scrollHeight = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollHeight');
beforeAll(() => {
  // the scrollable height is the spacer's height (all rows), as in a browser
  Object.defineProperty(HTMLElement.prototype, 'scrollHeight', {
    configurable: true,
    get(this: HTMLElement) {
      if (this.dataset?.testid !== 'disc-table') return 0;
      const inner = this.firstElementChild as HTMLElement | null;
      return inner ? parseInt(inner.style.height || '0', 10) : 0;
    },
  });
  // jsdom has no Element.scrollTo: scroll like a browser would (set scrollTop, fire scroll).
  Object.defineProperty(HTMLElement.prototype, 'scrollTo', {
    configurable: true,
    writable: true,
    value(this: HTMLElement, opts?: ScrollToOptions) {
      if (opts && typeof opts.top === 'number') this.scrollTop = opts.top;
      setTimeout(() => this.dispatchEvent(new Event('scroll')), 0); // browsers fire it later too
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.dataset?.testid === 'disc-table' ? VIEWPORT : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', {
    configurable: true,
    get(this: HTMLElement) {
      return this.dataset?.testid === 'disc-table' ? 1200 : 0;
    },
  });
});
afterAll(() => {
  delete (HTMLElement.prototype as { scrollHeight?: unknown }).scrollHeight;
  void scrollHeight;
  if (scrollTo) Object.defineProperty(HTMLElement.prototype, 'scrollTo', scrollTo);
  else delete (HTMLElement.prototype as { scrollTo?: unknown }).scrollTo;
  if (clientHeight) Object.defineProperty(HTMLElement.prototype, 'clientHeight', clientHeight);
  if (clientWidth) Object.defineProperty(HTMLElement.prototype, 'clientWidth', clientWidth);
});

let be: FakeBackend;
beforeEach(() => {
  window.sessionStorage.clear();
  window.location.hash = '';
  be = fakeBackend(100_000);
  mockedCall.mockReset();
  mockedCall.mockImplementation(((cmd: string, args?: Record<string, unknown>) => be.handle(cmd, args)) as typeof call);
});
afterEach(() => {
  window.location.hash = '';
});

function callsOf(cmd: string): Record<string, unknown>[] {
  return mockedCall.mock.calls.filter((c) => c[0] === cmd).map((c) => c[1] as Record<string, unknown>);
}

function listOffsets(): number[] {
  return callsOf('list_discrepancies').map((a) => a.offset as number);
}

async function renderPage(session?: Parameters<typeof renderWithSession>[1]) {
  const utils = renderWithSession(<DiscrepanciesPage />, session);
  await waitFor(() => expect(screen.getByTestId('disc-total')).toHaveAttribute('data-total', '100000'));
  await screen.findByTestId('disc-row-1');
  return utils;
}

/** The bulk dialog knows the count and the amounts (its confirm button is enabled). */
async function bulkReady(): Promise<HTMLElement> {
  const text = await screen.findByTestId('disc-bulk-text');
  await waitFor(() => expect(text).toHaveAttribute('data-ready', 'true'));
  return text;
}

function renderedRows(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('.disc-row[data-index]'));
}

/** Picks an option of an antd Select by its plain-text label. */
async function pickOption(testId: string, label: string) {
  const root = screen.getByTestId(testId);
  const selector = root.querySelector('.ant-select-selector') ?? root;
  fireEvent.mouseDown(selector);
  const option = await waitFor(() => {
    const el = document.querySelector<HTMLElement>(`.ant-select-item-option[title="${label}"]`);
    if (!el) throw new Error(`option ${label} not shown`);
    return el;
  });
  fireEvent.click(option);
}

describe('DiscrepanciesPage table', () => {
  it('asks for the first block with the exact command and args, and shows the total', async () => {
    await renderPage();
    expect(callsOf('list_discrepancies')[0]).toEqual({
      filter: DEFAULT_FILTER,
      sort: 'date_desc',
      limit: 200,
      offset: 0,
    });
    expect(screen.getByTestId('disc-total')).toHaveTextContent('100,000 matching');
    // Beside it, what the view puts at stake, each currency on its own.
    expect(await screen.findByTestId('disc-at-stake')).toHaveTextContent('at stake CN¥123,456.78 · $987.65');
    expect(callsOf('discrepancy_totals')[0]).toEqual({ filter: DEFAULT_FILTER });
  });

  it('renders only a window of rows out of 100,000', async () => {
    await renderPage();
    const rows = renderedRows();
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60); // ~17 visible + overscan, not 100,000
    expect(screen.getByTestId('disc-row-1')).toBeInTheDocument();
    expect(screen.queryByTestId('disc-row-500')).toBeNull();
    // the spacer makes the scrollbar as tall as all rows
    const inner = document.querySelector<HTMLElement>('.disc-inner');
    expect(parseInt(inner?.style.height ?? '0', 10)).toBeGreaterThanOrEqual(100_000 * ROW_HEIGHT);
    // formatted money, the difference in red
    const diff = within(screen.getByTestId('disc-row-1')).getByText('-CN¥1.00');
    expect(diff).toHaveClass('disc-diff-nonzero');
  });

  it('scrolling to row 50,000 loads only the blocks under the window, with skeletons meanwhile', async () => {
    await renderPage();
    const held: (() => void)[] = [];
    const base = be.handle;
    // hold every block after the first until the test looked at the skeletons
    be.handle = (cmd, args) =>
      cmd === 'list_discrepancies' && (args?.offset as number) > 0
        ? new Promise((resolve) => held.push(() => resolve(base(cmd, args))))
        : base(cmd, args);
    const scroller = screen.getByTestId('disc-table');
    await act(async () => {
      scroller.scrollTop = 50_000 * ROW_HEIGHT;
      fireEvent.scroll(scroller);
    });
    await waitFor(() => expect(listOffsets()).toContain(50_000));
    // skeleton rows while the block is loading
    expect(document.querySelectorAll('.disc-skeleton').length).toBeGreaterThan(0);
    const offsets = listOffsets();
    expect(offsets.filter((o) => o > 0).sort((a, b) => a - b)).toEqual([49_800, 50_000]);
    expect(offsets.some((o) => o > 0 && o < 49_800)).toBe(false);
    // release every pending answer
    be.handle = base;
    await act(async () => {
      held.forEach((release) => release());
    });
    expect(await screen.findByTestId('disc-row-50001')).toBeInTheDocument();
    expect(document.querySelectorAll('.disc-skeleton').length).toBe(0);
  });

  it('scrolling far loads rows 50,001.. and no earlier blocks', async () => {
    await renderPage();
    const scroller = screen.getByTestId('disc-table');
    await act(async () => {
      scroller.scrollTop = 50_000 * ROW_HEIGHT;
      fireEvent.scroll(scroller);
    });
    await screen.findByTestId('disc-row-50001');
    const offsets = listOffsets();
    expect(new Set(offsets)).toEqual(new Set([0, 49_800, 50_000]));
    expect(offsets.length).toBe(3); // each block exactly once
    expect(renderedRows().length).toBeLessThan(60);
  });

  it('scrolling on from the first block asks for the next one after its last row (keyset, not offset)', async () => {
    await renderPage();
    const scroller = screen.getByTestId('disc-table');
    await act(async () => {
      scroller.scrollTop = 195 * ROW_HEIGHT;
      fireEvent.scroll(scroller);
    });
    expect(await screen.findByTestId('disc-row-201')).toBeInTheDocument();
    expect(callsOf('list_discrepancies')[1]).toEqual({
      filter: DEFAULT_FILTER,
      sort: 'date_desc',
      limit: 200,
      offset: 200,
      after: { key: 199, id: 200 },
    });
  });

  it('a filter change (text + Enter) resets the cache and reloads from offset 0', async () => {
    await renderPage();
    mockedCall.mockClear();
    const input = screen.getByTestId('disc-filter-text');
    await userEvent.type(input, 'ORD-7{Enter}');
    await waitFor(() => expect(screen.getByTestId('disc-total')).toHaveAttribute('data-total', '3'));
    expect(callsOf('list_discrepancies')).toEqual([
      { filter: { ...DEFAULT_FILTER, text: 'ORD-7' }, sort: 'date_desc', limit: 200, offset: 0 },
    ]);
  });

  it('clicking a sortable header sorts on the server', async () => {
    await renderPage();
    mockedCall.mockClear();
    fireEvent.click(screen.getByTestId('disc-sort-difference'));
    await waitFor(() => expect(callsOf('list_discrepancies').length).toBe(1));
    expect(callsOf('list_discrepancies')[0]).toMatchObject({ sort: 'amount_desc', offset: 0 });
    fireEvent.click(screen.getByTestId('disc-sort-difference'));
    await waitFor(() => expect(callsOf('list_discrepancies').length).toBe(2));
    expect(callsOf('list_discrepancies')[1]).toMatchObject({ sort: 'amount_asc', offset: 0 });
    fireEvent.click(screen.getByTestId('disc-sort-due'));
    await waitFor(() => expect(callsOf('list_discrepancies').length).toBe(3));
    expect(callsOf('list_discrepancies')[2]).toMatchObject({ sort: 'due_asc' });
  });

  it('takes the filter from a link (#/discrepancies?account=…&classes=…)', async () => {
    window.location.hash = '#/discrepancies?account=alipay-main&classes=order_only,provider_only&states=open';
    await renderPage();
    expect(callsOf('list_discrepancies')[0].filter).toEqual({
      ...DEFAULT_FILTER,
      account: 'alipay-main',
      classes: ['order_only', 'provider_only'],
      states: ['open'],
    });
  });

  it('the minimum amount is sent in minor units of the account currency', async () => {
    window.location.hash = '#/discrepancies?account=stripe-us';
    await renderPage();
    mockedCall.mockClear();
    const min = screen.getByTestId('disc-filter-min');
    await userEvent.type(min, '12.3x{Enter}');
    expect(await screen.findByTestId('disc-filter-min-error')).toHaveTextContent('Min. difference');
    expect(callsOf('list_discrepancies')).toEqual([]);
    await userEvent.clear(min);
    await userEvent.type(min, '12.30{Enter}');
    await waitFor(() => expect(callsOf('list_discrepancies').length).toBe(1));
    expect(callsOf('list_discrepancies')[0].filter).toMatchObject({ account: 'stripe-us', min_abs_difference: 1230 });
  });
});

describe('DiscrepanciesPage keyboard', () => {
  it('↓ moves the selection, Enter opens the detail, Esc closes it, / focuses the search', async () => {
    await renderPage();
    const grid = screen.getByTestId('disc-table');
    fireEvent.click(screen.getByTestId('disc-row-1'));
    expect(screen.getByTestId('disc-row-1')).toHaveAttribute('aria-selected', 'true');
    await screen.findByTestId('disc-detail');
    await waitFor(() => expect(callsOf('discrepancy_detail')).toEqual([{ id: 1 }]));

    fireEvent.keyDown(grid, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('disc-detail')).toBeNull());

    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    expect(screen.getByTestId('disc-row-3')).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('disc-row-1')).toHaveAttribute('aria-selected', 'false');
    fireEvent.keyDown(grid, { key: 'ArrowUp' });
    expect(screen.getByTestId('disc-row-2')).toHaveAttribute('aria-selected', 'true');

    fireEvent.keyDown(grid, { key: 'Enter' });
    const detail = await screen.findByTestId('disc-detail');
    await waitFor(() => expect(within(detail).getByText('Discrepancy #2')).toBeInTheDocument());

    // with the detail open it follows the selection
    fireEvent.keyDown(grid, { key: 'ArrowDown' });
    await waitFor(() => expect(callsOf('discrepancy_detail').at(-1)).toEqual({ id: 3 }));

    fireEvent.keyDown(document.body, { key: '/' });
    expect(document.activeElement).toBe(screen.getByTestId('disc-filter-text'));
  });

  it('↓ past the visible window scrolls the virtualizer', async () => {
    await renderPage();
    const grid = screen.getByTestId('disc-table');
    fireEvent.click(screen.getByTestId('disc-row-1'));
    fireEvent.keyDown(grid, { key: 'Escape' });
    for (let i = 0; i < 30; i++) fireEvent.keyDown(grid, { key: 'ArrowDown' });
    const row = await screen.findByTestId('disc-row-31');
    expect(row).toHaveAttribute('aria-selected', 'true');
    expect(grid.scrollTop).toBeGreaterThan(0);
  });
});

describe('DiscrepanciesPage detail', () => {
  it('shows our order and the provider line side by side and highlights the fields that differ', async () => {
    be.detail = (id) => ({
      record: makeRecord(id - 1),
      history: [
        {
          discrepancy_id: id,
          at: '2026-03-15T02:00:00Z',
          actor: 'alice',
          field: 'state',
          old_value: 'open',
          new_value: 'investigating',
        },
        {
          discrepancy_id: id,
          at: '2026-03-15T03:00:00Z',
          actor: 'alice',
          field: 'note',
          old_value: null,
          new_value: 'Asked Alipay support',
        },
      ],
      order: makeOrder({ order_no: 'ORD-1', amount: 10000 }),
      statement_line: makeLine({ merchant_order_no: 'ORD-1', gross: 9900 }),
    });
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-row-1'));
    const detail = await screen.findByTestId('disc-detail');
    const amount = await within(detail).findByTestId('disc-cmp-amount');
    expect(amount).toHaveAttribute('data-differs', 'true');
    expect(amount).toHaveClass('disc-differs');
    expect(within(amount).getByText('CN¥100.00')).toBeInTheDocument();
    expect(within(amount).getByText('CN¥99.00')).toBeInTheDocument();
    expect(within(detail).getByTestId('disc-cmp-currency')).toHaveAttribute('data-differs', 'false');
    expect(within(detail).getByTestId('disc-cmp-order_no')).toHaveAttribute('data-differs', 'false');
    expect(within(detail).getByTestId('disc-cmp-txn_id')).toHaveAttribute('data-differs', 'false');
    expect(within(detail).getByTestId('disc-cmp-fee')).toHaveTextContent('CN¥0.59 (0.594)');
    expect(within(detail).getByTestId('disc-evidence')).toHaveTextContent('alipay-2026-03-14.csv:6');
    expect(within(detail).getByTestId('disc-explanation')).toHaveTextContent('amounts differ');
    expect(within(detail).getByTestId('disc-state')).toHaveAttribute('data-state', 'open');
    const history = within(detail).getByTestId('disc-history');
    expect(history).toHaveTextContent('State: Open → Investigating');
    expect(history).toHaveTextContent('Asked Alipay support');
  });

  it('resolving sends update_discrepancy with the ReviewChange and updates the row in place', async () => {
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-row-1'));
    const detail = await screen.findByTestId('disc-detail');
    await within(detail).findByTestId('disc-resolve');
    const listCalls = callsOf('list_discrepancies').length;

    // without a resolution: a clear message, nothing sent
    fireEvent.click(within(detail).getByTestId('disc-resolve'));
    expect(within(detail).getByTestId('disc-form-error')).toHaveTextContent('Choose a resolution');
    expect(callsOf('update_discrepancy')).toEqual([]);

    await pickOption('disc-resolution', 'Written off');
    await userEvent.type(within(detail).getByTestId('disc-note'), 'Bank confirmed');
    fireEvent.click(within(detail).getByTestId('disc-resolve'));
    await waitFor(() =>
      expect(callsOf('update_discrepancy')).toEqual([
        { id: 1, change: { state: 'resolved', resolution: 'written_off', note: 'Bank confirmed' } },
      ]),
    );
    await waitFor(() => expect(screen.getByTestId('disc-row-1')).toHaveAttribute('data-state', 'resolved'));
    expect(within(screen.getByTestId('disc-row-1')).getByText('Resolved')).toBeInTheDocument();
    await waitFor(() => expect(within(detail).getByTestId('disc-state')).toHaveAttribute('data-state', 'resolved'));
    // the table was not reloaded
    expect(callsOf('list_discrepancies').length).toBe(listCalls);
  });

  it('saving sends only what changed (assignee, state, note)', async () => {
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-row-1'));
    const detail = await screen.findByTestId('disc-detail');
    await within(detail).findByTestId('disc-save');
    await pickOption('disc-assignee', 'bob');
    await pickOption('disc-set-state', 'Investigating');
    fireEvent.click(within(detail).getByTestId('disc-save'));
    await waitFor(() =>
      expect(callsOf('update_discrepancy')).toEqual([{ id: 1, change: { state: 'investigating', assignee: 'bob' } }]),
    );
    await waitFor(() => expect(screen.getByTestId('disc-row-1')).toHaveAttribute('data-state', 'investigating'));
    expect(within(screen.getByTestId('disc-row-1')).getByText('bob')).toBeInTheDocument();
  });
});

describe('DiscrepanciesPage bulk resolve and export', () => {
  it('bulk resolve confirms the exact shown total and sends it as expected', async () => {
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-bulk-resolve'));
    const text = await screen.findByTestId('disc-bulk-text');
    expect(text).toHaveTextContent('all 100,000 discrepancies');
    expect(text).toHaveTextContent('Not an issue');
    await pickOption('disc-bulk-resolution', 'Written off');
    await userEvent.type(screen.getByTestId('disc-bulk-note'), 'Month-end write-off');
    fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
    await waitFor(() =>
      expect(callsOf('bulk_update_discrepancies')).toEqual([
        {
          filter: DEFAULT_FILTER,
          change: { state: 'resolved', resolution: 'written_off', note: 'Month-end write-off' },
          expected: 100_000,
        },
      ]),
    );
  });

  it('after a bulk resolve the open view and its count refresh at once', async () => {
    be.overrides.bulk_update_discrepancies = async () => {
      be.total = 0; // everything that matched is resolved now
      return { updated: 100_000 };
    };
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-bulk-resolve'));
    await bulkReady();
    fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
    await waitFor(() => expect(screen.getByTestId('disc-total')).toHaveAttribute('data-total', '0'));
    expect(await screen.findByTestId('disc-empty')).toBeInTheDocument();
  });

  it('shows the backend message when the count changed', async () => {
    be.overrides.bulk_update_discrepancies = () => {
      throw { kind: 'bad_input', message: 'The filter now matches 100,001 discrepancies, not 100,000.' };
    };
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-bulk-resolve'));
    await bulkReady();
    fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
    const problem = await screen.findByTestId('disc-bulk-problem');
    expect(problem).toHaveTextContent('The filter now matches 100,001 discrepancies, not 100,000.');
    expect(callsOf('bulk_update_discrepancies')[0]).toMatchObject({ expected: 100_000 });
  });

  it('exports the current filter and shows the written path', async () => {
    await renderPage();
    let finish: (() => void) | null = null;
    be.overrides.export_discrepancies = (args) =>
      new Promise((resolve) => {
        finish = () => resolve({ path: `/ws/exports/discrepancies.${args?.format}`, rows: 100_000 });
      });
    fireEvent.click(screen.getByTestId('disc-export-xlsx'));
    expect(await screen.findByTestId('disc-export-progress')).toBeInTheDocument();
    expect(callsOf('export_discrepancies')).toEqual([{ filter: DEFAULT_FILTER, format: 'xlsx', lang: 'en' }]);
    await act(async () => {
      finish?.();
    });
    expect(await screen.findByTestId('disc-export-path')).toHaveTextContent('/ws/exports/discrepancies.xlsx');
    expect(screen.queryByTestId('disc-export-progress')).toBeNull();
  });

  it('hides review and export controls without the permissions', async () => {
    await renderPage({ me: makeMe('viewer', ['support'], ['discrepancy_view']) });
    expect(screen.queryByTestId('disc-bulk-resolve')).toBeNull();
    expect(screen.queryByTestId('disc-export-csv')).toBeNull();
    fireEvent.click(screen.getByTestId('disc-row-1'));
    const detail = await screen.findByTestId('disc-detail');
    await within(detail).findByTestId('disc-compare');
    expect(within(detail).queryByTestId('disc-resolve')).toBeNull();
    expect(within(detail).queryByTestId('disc-note')).toBeNull();
  });
});

describe('DiscrepanciesPage columns', () => {
  afterEach(() => window.localStorage.clear());

  function header(key: string): HTMLElement | null {
    return document.querySelector<HTMLElement>(`[role="columnheader"][data-col="${key}"]`);
  }

  it('freezes the check boxes, order no and class on the left and the difference on the right', async () => {
    await renderPage();
    const headers = Array.from(document.querySelectorAll<HTMLElement>('[role="columnheader"]'));
    expect(headers.map((h) => h.dataset.col).slice(0, 3)).toEqual(['select', 'order_no', 'class']);
    expect(headers.at(-1)?.dataset.col).toBe('difference');
    expect(header('select')).toHaveStyle({ position: 'sticky', left: '0px' });
    expect(header('order_no')).toHaveStyle({ position: 'sticky', left: '40px' });
    expect(header('difference')).toHaveStyle({ position: 'sticky', right: '0px' });
    expect(header('account')?.style.position).toBe('');
    const cell = within(screen.getByTestId('disc-row-1')).getByText('ORD-1').closest<HTMLElement>('[role="gridcell"]');
    expect(cell).toHaveStyle({ position: 'sticky', left: '40px' });
  });

  it('has no check box column without the review permission', async () => {
    await renderPage({ me: makeMe('viewer', ['support'], ['discrepancy_view']) });
    const headers = Array.from(document.querySelectorAll<HTMLElement>('[role="columnheader"]'));
    expect(headers.map((h) => h.dataset.col).slice(0, 2)).toEqual(['order_no', 'class']);
    expect(screen.queryByTestId('select-all')).toBeNull();
    expect(screen.queryAllByTestId('row-check')).toEqual([]);
  });

  it('hides a column from the chooser and remembers it for the user; reset shows it again', async () => {
    await renderPage({ me: makeMe('amy') });
    expect(header('assignee')).not.toBeNull();
    fireEvent.click(screen.getByTestId('disc-columns'));
    const box = await screen.findByTestId('disc-column-assignee');
    fireEvent.click(box);
    await waitFor(() => expect(header('assignee')).toBeNull());
    expect(JSON.parse(window.localStorage.getItem('paydesk.discrepancies.columns.amy') ?? '{}').hidden).toEqual(['assignee']);
    // Frozen columns are not offered.
    expect(screen.queryByTestId('disc-column-order_no')).toBeNull();
    fireEvent.click(screen.getByTestId('disc-columns-reset'));
    await waitFor(() => expect(header('assignee')).not.toBeNull());
  });

  it('resizes a column by dragging its header edge and fits it again on a double click', async () => {
    await renderPage({ me: makeMe('amy') });
    const template = () => (document.querySelector('.disc-header') as HTMLElement).style.gridTemplateColumns;
    const before = template();
    const handle = screen.getByTestId('disc-resize-account');
    fireEvent.pointerDown(handle, { clientX: 500 });
    fireEvent.pointerMove(window, { clientX: 640 });
    fireEvent.pointerUp(window, { clientX: 640 });
    await waitFor(() => expect(template()).not.toBe(before));
    const saved = JSON.parse(window.localStorage.getItem('paydesk.discrepancies.columns.amy') ?? '{}');
    expect(saved.widths.account).toBeGreaterThan(140);
    fireEvent.doubleClick(handle);
    await waitFor(() => expect(template()).toBe(before));
  });
});

describe('DiscrepanciesPage amounts', () => {
  it('shows each amount in its own currency and a currency mismatch as not comparable', async () => {
    const mismatch = makeRecord(0, {
      class: 'currency_mismatch',
      currency: 'EUR',
      provider_currency: 'EUR',
      local_currency: 'USD',
      provider_amount: 94347,
      local_amount: 94347,
      difference: 0,
      amount_at_stake: 94347,
    });
    be.overrides.list_discrepancies = async () => ({
      total: 1,
      discrepancies: [mismatch],
      first: { key: 0, id: 1 },
      last: { key: 0, id: 1 },
    });
    be.detail = () => ({ record: mismatch, history: [], order: null, statement_line: null });
    renderWithSession(<DiscrepanciesPage />);
    const row = await screen.findByTestId('disc-row-1');
    expect(within(row).getByText('€943.47')).toBeInTheDocument();
    expect(within(row).getByText('$943.47')).toBeInTheDocument();
    expect(within(row).getByText('Not comparable')).toHaveAttribute('data-comparable', 'false');
    expect(row).not.toHaveTextContent('€0.00');
    fireEvent.click(row);
    const detail = await screen.findByTestId('disc-detail');
    const difference = await within(detail).findByTestId('disc-detail-difference');
    expect(difference).toHaveTextContent('Not comparable');
    expect(detail).toHaveTextContent('€943.47');
    expect(detail).toHaveTextContent('$943.47');
  });
});

describe('DiscrepanciesPage in Chinese', () => {
  it('shows the count, classes, states and money in Chinese', async () => {
    const { default: i18n } = await import('../../i18n');
    await act(async () => {
      await i18n.changeLanguage('zh');
    });
    try {
      renderWithSession(<DiscrepanciesPage />, { lang: 'zh' });
      await waitFor(() => expect(screen.getByTestId('disc-total')).toHaveTextContent('共 100,000 条'));
      const row = await screen.findByTestId('disc-row-1');
      expect(within(row).getByText('金额不符')).toBeInTheDocument();
      expect(within(row).getByText('待处理')).toBeInTheDocument();
      expect(within(row).getByText('-¥1.00')).toBeInTheDocument();
      expect(screen.getByTestId('disc-sort-difference')).toHaveTextContent('差额');
      // The explanation in Chinese too.
      fireEvent.click(row);
      expect(await screen.findByTestId('disc-explanation')).toHaveTextContent('双方都有这笔支付，但金额不同。');
    } finally {
      await act(async () => {
        await i18n.changeLanguage('en');
      });
    }
  });
});

describe('DiscrepanciesPage saved filters', () => {
  // renderWithSession: admin in /tmp/demo-workspace unless told otherwise
  const MINE = { workspace: '/tmp/demo-workspace', user: 'admin' };
  beforeEach(() => window.localStorage.clear());
  afterEach(() => window.localStorage.clear());

  function savedOptions(): string[] {
    return Array.from(document.querySelectorAll<HTMLElement>('.ant-select-item-option')).map((o) => o.title);
  }

  async function openSavedList() {
    const root = screen.getByTestId('disc-saved-filters');
    fireEvent.mouseDown(root.querySelector('.ant-select-selector') ?? root);
    await waitFor(() => expect(savedOptions()).toContain('Save current filter…'));
  }

  async function saveAs(name: string) {
    await pickOption('disc-saved-filters', 'Save current filter…');
    const input = await screen.findByTestId('disc-saved-name');
    fireEvent.change(input, { target: { value: name } });
    fireEvent.click(screen.getByTestId('disc-saved-submit'));
  }

  it('saves the current filter under a name and applying it sends the same filter again', async () => {
    await renderPage();
    await pickOption('disc-filter-account', 'alipay-main');
    await userEvent.type(screen.getByTestId('disc-filter-text'), 'ORD-7{Enter}');
    const saved = { ...DEFAULT_FILTER, account: 'alipay-main', text: 'ORD-7' };
    await waitFor(() => expect(callsOf('list_discrepancies').at(-1)?.filter).toEqual(saved));

    await saveAs('  Alipay ORD-7  ');
    expect(loadSavedFilters(MINE).map((f) => f.name)).toEqual(['Alipay ORD-7']);
    // the select names the filter shown
    expect(screen.getByTestId('disc-saved-filters')).toHaveTextContent('Alipay ORD-7');

    fireEvent.click(screen.getByTestId('disc-filter-reset'));
    await waitFor(() => expect(callsOf('list_discrepancies').at(-1)?.filter).toEqual(DEFAULT_FILTER));
    expect(screen.getByTestId('disc-saved-filters')).not.toHaveTextContent('Alipay ORD-7');

    mockedCall.mockClear();
    await pickOption('disc-saved-filters', 'Alipay ORD-7');
    await waitFor(() => expect(callsOf('list_discrepancies').length).toBe(1));
    expect(callsOf('list_discrepancies')[0]).toEqual({ filter: saved, sort: 'date_desc', limit: 200, offset: 0 });
    // the typed text follows the applied filter
    expect(screen.getByTestId('disc-filter-text')).toHaveValue('ORD-7');
  });

  it('keeps the sort with the filter', async () => {
    storeSavedFilters(MINE, upsertFilter([], 'Biggest first', { ...DEFAULT_FORM, states: ['open'] }, 'amount_desc'));
    await renderPage();
    mockedCall.mockClear();
    await pickOption('disc-saved-filters', 'Biggest first');
    await waitFor(() => expect(callsOf('list_discrepancies').length).toBe(1));
    expect(callsOf('list_discrepancies')[0]).toEqual({
      filter: { ...DEFAULT_FILTER, states: ['open'] },
      sort: 'amount_desc',
      limit: 200,
      offset: 0,
    });
  });

  it('validates the name and says before replacing a filter of the same name', async () => {
    storeSavedFilters(MINE, upsertFilter([], 'Mine', DEFAULT_FORM, DEFAULT_SORT));
    await renderPage();
    await pickOption('disc-filter-account', 'stripe-us');

    await saveAs('   ');
    expect(await screen.findByTestId('disc-saved-name-error')).toHaveTextContent('Enter a name.');
    expect(screen.getByTestId('disc-saved-dialog')).toBeInTheDocument();

    const input = screen.getByTestId('disc-saved-name');
    fireEvent.change(input, { target: { value: 'x'.repeat(61) } });
    expect(screen.getByTestId('disc-saved-name-error')).toHaveTextContent('at most 60 characters');
    expect(screen.getByTestId('disc-saved-submit')).toBeDisabled();
    fireEvent.keyDown(input, { key: 'Enter', code: 'Enter', keyCode: 13 });
    expect(loadSavedFilters(MINE).map((f) => filterOf(f).form.account)).toEqual([null]);

    fireEvent.change(input, { target: { value: ' Mine ' } });
    expect(screen.getByTestId('disc-saved-overwrite')).toHaveTextContent('“Mine” exists: saving replaces it');
    expect(screen.getByTestId('disc-saved-submit')).toHaveTextContent('Replace');
    fireEvent.click(screen.getByTestId('disc-saved-submit'));
    await waitFor(() => expect(loadSavedFilters(MINE).map((f) => filterOf(f).form.account)).toEqual(['stripe-us']));
    expect(loadSavedFilters(MINE).map((f) => f.name)).toEqual(['Mine']);
  });

  it('shows only the signed-in user\'s filters of this workspace', async () => {
    storeSavedFilters(MINE, upsertFilter([], 'Mine', DEFAULT_FORM, DEFAULT_SORT));
    storeSavedFilters({ ...MINE, user: 'bob' }, upsertFilter([], 'Bob\'s', DEFAULT_FORM, DEFAULT_SORT));
    storeSavedFilters({ ...MINE, workspace: '/tmp/other' }, upsertFilter([], 'Other workspace', DEFAULT_FORM, DEFAULT_SORT));
    await renderPage();
    await openSavedList();
    expect(savedOptions()).toEqual(['Mine', 'Save current filter…', 'Delete saved filters…']);
  });

  it('ignores a corrupt stored value and saves over it', async () => {
    window.localStorage.setItem(storageKey(MINE), '{"version":1,"filters":[{"name":');
    await renderPage();
    await openSavedList();
    expect(savedOptions()).toEqual(['Save current filter…']);
    fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' });
    await saveAs('Fresh');
    await waitFor(() => expect(loadSavedFilters(MINE).map((f) => f.name)).toEqual(['Fresh']));
  });

  it('deletes a saved filter', async () => {
    let list = upsertFilter([], 'Keep', DEFAULT_FORM, DEFAULT_SORT);
    list = upsertFilter(list, 'Drop', { ...DEFAULT_FORM, account: 'alipay-main' }, DEFAULT_SORT);
    storeSavedFilters(MINE, list);
    await renderPage();
    await pickOption('disc-saved-filters', 'Delete saved filters…');
    fireEvent.click(await screen.findByRole('button', { name: 'Delete saved filter Drop' }));
    expect(loadSavedFilters(MINE).map((f) => f.name)).toEqual(['Keep']);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await openSavedList();
    expect(savedOptions()).not.toContain('Drop');
    expect(savedOptions()).toContain('Keep');
  });
});

describe('DiscrepanciesPage row selection and undo', () => {
  const rowCheck = (id: number) => within(screen.getByTestId(`disc-row-${id}`)).getByTestId('row-check');
  const checkedIds = () =>
    Array.from(document.querySelectorAll<HTMLElement>('.disc-row[data-checked="true"]')).map((r) =>
      Number(r.dataset.testid?.replace('disc-row-', '')),
    );

  it('a click checks one row without opening it; shift-click checks the range from the last clicked', async () => {
    await renderPage();
    fireEvent.click(rowCheck(3));
    expect(checkedIds()).toEqual([3]);
    expect(rowCheck(3)).toBeChecked();
    expect(screen.getByTestId('selection-count')).toHaveAttribute('data-count', '1');
    expect(screen.queryByTestId('disc-detail')).toBeNull();

    fireEvent.click(rowCheck(7), { shiftKey: true });
    expect(checkedIds()).toEqual([3, 4, 5, 6, 7]);
    expect(screen.getByTestId('selection-count')).toHaveTextContent('5 checked');
    // A shift-click on a checked row unchecks the range back to the last clicked one.
    fireEvent.click(rowCheck(5), { shiftKey: true });
    expect(checkedIds()).toEqual([3, 4]);
    // A plain click toggles.
    fireEvent.click(rowCheck(3));
    expect(checkedIds()).toEqual([4]);
    expect(screen.getByTestId('select-all')).toHaveAttribute('data-state', 'some');
  });

  it('Space checks the row the arrow keys are on, and the arrows still move', async () => {
    await renderPage();
    const table = screen.getByTestId('disc-table');
    fireEvent.keyDown(table, { key: 'ArrowDown' });
    fireEvent.keyDown(table, { key: ' ' });
    expect(checkedIds()).toEqual([1]);
    fireEvent.keyDown(table, { key: 'ArrowDown' });
    fireEvent.keyDown(table, { key: 'ArrowDown' });
    await waitFor(() => expect(screen.getByTestId('disc-row-3')).toHaveAttribute('aria-selected', 'true'));
    fireEvent.keyDown(table, { key: ' ' });
    expect(checkedIds()).toEqual([1, 3]);
    fireEvent.keyDown(table, { key: ' ' });
    expect(checkedIds()).toEqual([1]);
  });

  it('the header box checks every loaded row, then clears', async () => {
    await renderPage();
    const all = screen.getByTestId('select-all');
    expect(all).toHaveAttribute('data-state', 'none');
    fireEvent.click(all);
    expect(all).toHaveAttribute('data-state', 'all');
    // The first block (200 rows) is what is loaded.
    expect(screen.getByTestId('selection-count')).toHaveAttribute('data-count', '200');
    expect(rowCheck(1)).toBeChecked();
    fireEvent.click(all);
    expect(screen.queryByTestId('selection-count')).toBeNull();
    expect(rowCheck(1)).not.toBeChecked();
    // The clear button clears too.
    fireEvent.click(rowCheck(2));
    fireEvent.click(screen.getByTestId('selection-clear'));
    expect(checkedIds()).toEqual([]);
  });

  it('the checked rows are cleared when the filter changes', async () => {
    await renderPage();
    fireEvent.click(rowCheck(1));
    fireEvent.click(rowCheck(2));
    expect(screen.getByTestId('selection-count')).toHaveAttribute('data-count', '2');
    await userEvent.type(screen.getByTestId('disc-filter-text'), 'ORD{Enter}');
    await waitFor(() => expect(screen.getByTestId('disc-total')).toHaveAttribute('data-total', '3'));
    expect(screen.queryByTestId('selection-count')).toBeNull();
    await screen.findByTestId('disc-row-1');
    expect(checkedIds()).toEqual([]);
    expect(screen.getByTestId('disc-bulk-resolve')).toHaveTextContent('Resolve all 3 matching');
  });

  it('resolves the checked rows by id, stating their count and amount; undo puts them back', async () => {
    await renderPage();
    fireEvent.click(rowCheck(1));
    fireEvent.click(rowCheck(4), { shiftKey: true });
    const bulk = screen.getByTestId('disc-bulk-resolve');
    expect(bulk).toHaveTextContent('Resolve 4 selected');
    fireEvent.click(bulk);
    const text = await bulkReady();
    expect(text).toHaveAttribute('data-scope', 'selected');
    // Four rows of CN¥1.00 at stake each.
    expect(text).toHaveTextContent('the 4 selected discrepancies, CN¥4.00 at stake, as “Not an issue”');
    fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
    await waitFor(() =>
      expect(callsOf('bulk_update_discrepancies_by_ids')).toEqual([
        { ids: [1, 2, 3, 4], change: { state: 'resolved', resolution: 'not_an_issue' } },
      ]),
    );
    expect(callsOf('bulk_update_discrepancies')).toEqual([]);
    const bar = await screen.findByTestId('undo-bar');
    expect(bar).toHaveTextContent('Updated 4 discrepancies');
    await waitFor(() => expect(screen.getByTestId('disc-row-2')).toHaveAttribute('data-state', 'resolved'));
    // Done: nothing is checked any more.
    expect(screen.queryByTestId('selection-count')).toBeNull();

    fireEvent.click(screen.getByTestId('undo-bulk'));
    await waitFor(() => expect(callsOf('undo_review_change')).toHaveLength(1));
    const undoId = callsOf('undo_review_change')[0].undoId as number;
    expect(typeof undoId).toBe('number');
    await waitFor(() => expect(screen.getByTestId('disc-row-2')).toHaveAttribute('data-state', 'open'));
    for (const id of [1, 3, 4]) expect(screen.getByTestId(`disc-row-${id}`)).toHaveAttribute('data-state', 'open');
    expect(screen.queryByTestId('undo-bar')).toBeNull();
    expect(screen.queryByTestId('undo-skipped')).toBeNull();
  });

  it('can still resolve all matching with rows checked; that confirmation states the count and the amount per currency', async () => {
    await renderPage();
    fireEvent.click(rowCheck(1));
    fireEvent.click(screen.getByTestId('disc-bulk-resolve'));
    await bulkReady();
    fireEvent.click(screen.getByTestId('disc-bulk-scope-all'));
    const text = screen.getByTestId('disc-bulk-text');
    expect(text).toHaveAttribute('data-scope', 'all');
    expect(text).toHaveTextContent(
      'all 100,000 discrepancies matching the current filters, CN¥123,456.78 · $987.65 at stake, as “Not an issue”',
    );
    expect(screen.getByTestId('disc-bulk-confirm')).toHaveTextContent('Resolve 100,000');
    fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
    await waitFor(() => expect(callsOf('bulk_update_discrepancies')).toHaveLength(1));
    expect(callsOf('bulk_update_discrepancies')[0]).toMatchObject({ expected: 100_000 });
    expect(callsOf('bulk_update_discrepancies_by_ids')).toEqual([]);
    expect(await screen.findByTestId('undo-bar')).toHaveTextContent('Updated 100,000 discrepancies');
  });

  it('says which rows the undo left alone because they changed since', async () => {
    be.overrides.undo_review_change = () => ({ restored: [1], skipped: [2] });
    await renderPage();
    fireEvent.click(rowCheck(1));
    fireEvent.click(rowCheck(2));
    fireEvent.click(screen.getByTestId('disc-bulk-resolve'));
    await bulkReady();
    fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
    fireEvent.click(await screen.findByTestId('undo-bulk'));
    const skipped = await screen.findByTestId('undo-skipped');
    expect(skipped).toHaveTextContent('1 discrepancy was changed since and was left as it is');
    expect(skipped).toHaveTextContent('#2');
  });

  it('a single change from the details pane can be undone, and the pane shows the result', async () => {
    await renderPage();
    fireEvent.click(screen.getByTestId('disc-row-1'));
    const detail = await screen.findByTestId('disc-detail');
    await within(detail).findByTestId('disc-save');
    await pickOption('disc-set-state', 'Investigating');
    fireEvent.click(within(detail).getByTestId('disc-save'));
    expect(await screen.findByTestId('undo-bar')).toHaveTextContent('Updated 1 discrepancy');
    await waitFor(() => expect(screen.getByTestId('disc-row-1')).toHaveAttribute('data-state', 'investigating'));
    const details = callsOf('discrepancy_detail').length;
    fireEvent.click(screen.getByTestId('undo-bulk'));
    await waitFor(() => expect(screen.getByTestId('disc-row-1')).toHaveAttribute('data-state', 'open'));
    await waitFor(() => expect(callsOf('discrepancy_detail').length).toBeGreaterThan(details));
    await waitFor(() => expect(within(screen.getByTestId('disc-detail')).getByTestId('disc-state')).toHaveAttribute('data-state', 'open'));
  });

  it('offers the undo for 30 seconds only', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await renderPage();
      fireEvent.click(rowCheck(1));
      fireEvent.click(screen.getByTestId('disc-bulk-resolve'));
      await bulkReady();
      fireEvent.click(screen.getByTestId('disc-bulk-confirm'));
      await screen.findByTestId('undo-bar');
      act(() => {
        vi.advanceTimersByTime(29_000);
      });
      expect(screen.getByTestId('undo-bar')).toBeInTheDocument();
      act(() => {
        vi.advanceTimersByTime(1_500);
      });
      expect(screen.queryByTestId('undo-bar')).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
