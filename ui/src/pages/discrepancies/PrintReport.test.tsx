// The print / PDF report of the Discrepancies screen: what it reads, what it shows, when it
// prints, and how it is cancelled.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { call } from '../../api';
import { setBusinessTimeZone } from '../../format';
import { renderWithSession } from '../../test-utils';
import type { Filter } from '../../types';
import DiscrepanciesPage from './DiscrepanciesPage';
import { PRINT_BLOCK, PRINT_MAX_ROWS } from './printData';
import { PRINTING_CLASS } from './PrintReport';
import { DEFAULT_FILTER, fakeBackend } from './testBackend';
import type { FakeBackend } from './testBackend';

vi.mock('../../api', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../../api')>();
  return { ...orig, call: vi.fn() };
});

const mockedCall = vi.mocked(call);


let be: FakeBackend;
let print: ReturnType<typeof vi.spyOn>;
/** How many report rows were in the document each time window.print was called. */
let rowsAtPrint: number[];

function setup(total: number) {
  be = fakeBackend(total);
  mockedCall.mockReset();
  mockedCall.mockImplementation(((cmd: string, args?: Record<string, unknown>) => be.handle(cmd, args)) as typeof call);
}

beforeEach(() => {
  window.sessionStorage.clear();
  window.location.hash = '';
  setup(1_200);
  rowsAtPrint = [];
  print = vi.spyOn(window, 'print').mockImplementation(() => {
    rowsAtPrint.push(document.querySelectorAll('[data-testid="print-row"]').length);
  });
  setBusinessTimeZone('Asia/Shanghai');
});
afterEach(() => {
  print.mockRestore();
  setBusinessTimeZone(null);
  window.location.hash = '';
});

function callsOf(cmd: string): Record<string, unknown>[] {
  return mockedCall.mock.calls.filter((c) => c[0] === cmd).map((c) => c[1] as Record<string, unknown>);
}

/** The report's list calls (the table reads blocks of 200, the report blocks of PRINT_BLOCK). */
function reportListCalls(): Record<string, unknown>[] {
  return callsOf('list_discrepancies').filter((a) => a.limit !== 200);
}

async function renderPage(session?: Parameters<typeof renderWithSession>[1], total = '1200') {
  const utils = renderWithSession(<DiscrepanciesPage />, session);
  await waitFor(() => expect(screen.getByTestId('disc-total')).toHaveAttribute('data-total', total));
  return utils;
}

async function openReport(timeout = 5_000): Promise<HTMLElement> {
  fireEvent.click(screen.getByTestId('print-report'));
  const view = await screen.findByTestId('print-view');
  await waitFor(() => expect(print).toHaveBeenCalledTimes(1), { timeout });
  return view;
}

describe('print report', () => {
  it('shows the totals per currency, the count per class and every row, then prints once', async () => {
    await renderPage({ me: { username: 'amy', roles: ['finance'], permissions: ['discrepancy_view', 'report_export'] } });
    const view = await openReport();
    // Printed only once everything was in the page.
    expect(rowsAtPrint).toEqual([1_200]);
    expect(view).toHaveAttribute('data-phase', 'ready');
    expect(document.body).toHaveClass(PRINTING_CLASS);

    // The rows: read in blocks, each right after the last row of the one before.
    expect(reportListCalls()).toEqual([
      { filter: DEFAULT_FILTER, sort: 'date_desc', limit: PRINT_BLOCK, offset: 0 },
      { filter: DEFAULT_FILTER, sort: 'date_desc', limit: PRINT_BLOCK, offset: 500, after: { key: 499, id: 500 } },
      { filter: DEFAULT_FILTER, sort: 'date_desc', limit: PRINT_BLOCK, offset: 1000, after: { key: 999, id: 1000 } },
    ]);
    const rows = within(view).getAllByTestId('print-row');
    expect(rows).toHaveLength(1_200);
    const first = rows[0];
    expect(first).toHaveAttribute('data-id', '1');
    expect(Array.from(first.querySelectorAll('td')).map((c) => c.textContent)).toEqual([
      'ORD-1',
      'Amount mismatch',
      'CN¥99.00',
      'CN¥100.00',
      '-CN¥1.00',
      'Open',
      'Unassigned',
    ]);

    // The totals per currency, each in its own currency (never added together).
    const totals = within(view).getAllByTestId('print-total');
    expect(totals.map((r) => r.dataset.currency)).toEqual(['CNY', 'USD']);
    expect(totals[0]).toHaveTextContent('CNY900CN¥123,456.78');
    expect(totals[1]).toHaveTextContent('USD300$987.65');
    expect(within(view).getByTestId('print-totals')).not.toHaveTextContent('124,444');

    // The count per class (one totals call per class the filter admits; none-found classes left out).
    const classes = within(view).getAllByTestId('print-class');
    expect(classes.map((r) => r.dataset.class)).toEqual(['amount_mismatch']);
    expect(classes[0]).toHaveTextContent('Amount mismatch1,200CN¥123,456.78 · $987.65');
    const perClass = callsOf('discrepancy_totals').filter((a) => (a.filter as Filter).classes?.length === 1);
    expect(perClass.map((a) => (a.filter as Filter).classes?.[0])).toContain('provider_only');
    expect(perClass.every((a) => (a.filter as Filter).states?.join() === 'open,investigating')).toBe(true);

    // The header: workspace, the filter, who printed it and when (in the business timezone).
    expect(within(view).getByTestId('print-workspace')).toHaveTextContent('/tmp/demo-workspace');
    expect(within(view).getByTestId('print-account')).toHaveTextContent('All accounts');
    expect(within(view).getByTestId('print-dates')).toHaveTextContent('All dates');
    expect(within(view).getByTestId('print-filters')).toHaveTextContent('State: Open, Investigating · All classes');
    expect(within(view).getByTestId('print-printed')).toHaveTextContent(/^by amy, .+GMT\+8$/);
    expect(screen.queryByTestId('print-cap')).toBeNull();

    // Closing: back to the screen (printing prints the app again).
    fireEvent.click(screen.getByTestId('print-close'));
    expect(screen.queryByTestId('print-view')).toBeNull();
    expect(document.body).not.toHaveClass(PRINTING_CLASS);
    expect(print).toHaveBeenCalledTimes(1);
  });

  it('prints the filter of the screen: its account, bill date and sort', async () => {
    window.location.hash = '#/discrepancies?account=stripe-us&date_from=2026-03-14&date_to=2026-03-14&states=open&min=1230&sort=amount_desc';
    await renderPage();
    const view = await openReport();
    const filter = { ...DEFAULT_FILTER, account: 'stripe-us', date_from: '2026-03-14', date_to: '2026-03-14', states: ['open'], min_abs_difference: 1230 };
    expect(reportListCalls()[0]).toEqual({ filter, sort: 'amount_desc', limit: PRINT_BLOCK, offset: 0 });
    expect(callsOf('discrepancy_totals')).toContainEqual({ filter });
    expect(within(view).getByTestId('print-account')).toHaveTextContent('stripe-us');
    expect(within(view).getByTestId('print-dates')).toHaveTextContent(/^Mar 14, 2026$/);
    expect(within(view).getByTestId('print-filters')).toHaveTextContent('State: Open · All classes · Min. difference: $12.30');
  });

  it('says so when more rows match than it prints, and points to CSV/XLSX', async () => {
    setup(100_000);
    await renderPage(undefined, '100000');
    // 5,000 rows take a while to lay out in jsdom on a busy machine.
    const view = await openReport(25_000);
    expect(reportListCalls()).toHaveLength(PRINT_MAX_ROWS / PRINT_BLOCK);
    expect(reportListCalls().at(-1)).toMatchObject({ offset: 4_500, limit: 500, after: { id: 4_500 } });
    expect(within(view).getAllByTestId('print-row')).toHaveLength(PRINT_MAX_ROWS);
    expect(rowsAtPrint).toEqual([PRINT_MAX_ROWS]);
    const cap = within(view).getByTestId('print-cap');
    expect(cap).toHaveTextContent('The filter matches 100,000 discrepancies: this report lists the first 5,000');
    expect(cap).toHaveTextContent('Export CSV or Excel for the full list.');
    // The totals still cover everything the filter matches.
    expect(within(view).getAllByTestId('print-class')[0]).toHaveTextContent('100,000');
  }, 30_000);

  it('shows its progress and stops reading when Esc cancels it', async () => {
    setup(100_000);
    await renderPage(undefined, '100000');
    // The report's second block does not answer until told.
    let answer: (() => void) | null = null;
    const list = be.handle;
    be.handle = (cmd, args) => {
      if (cmd === 'list_discrepancies' && args?.limit === PRINT_BLOCK && args?.offset === 500) {
        return new Promise((resolve) => {
          answer = () => resolve(list(cmd, args));
        });
      }
      return list(cmd, args);
    };
    fireEvent.click(screen.getByTestId('print-report'));
    const progress = await screen.findByTestId('print-progress-text');
    await waitFor(() => expect(progress).toHaveTextContent('Preparing 500 of 5,000…'));
    expect(screen.getByTestId('print-close')).toHaveTextContent('Cancel (Esc)');

    fireEvent.keyDown(document, { key: 'Escape' });
    expect(screen.queryByTestId('print-view')).toBeNull();
    expect(document.body).not.toHaveClass(PRINTING_CLASS);
    const asked = reportListCalls().length;
    await act(async () => {
      answer?.();
      await new Promise((r) => setTimeout(r, 20));
    });
    expect(reportListCalls()).toHaveLength(asked);
    expect(print).not.toHaveBeenCalled();
    // The screen is as it was, and can print again.
    expect(screen.getByTestId('print-report')).not.toBeDisabled();
    expect(screen.getByTestId('print-report')).toHaveFocus();
  });

  it('shows a failure with the error notice and reads again on retry', async () => {
    await renderPage();
    let fail = true;
    be.overrides.list_discrepancies = (args) => {
      if (fail && args?.limit === PRINT_BLOCK) throw { kind: 'storage', message: 'database is locked' };
      delete be.overrides.list_discrepancies;
      return be.handle('list_discrepancies', args);
    };
    fireEvent.click(screen.getByTestId('print-report'));
    const error = await screen.findByTestId('print-error');
    expect(error).toHaveTextContent('database is locked');
    expect(print).not.toHaveBeenCalled();
    fail = false;
    fireEvent.click(within(error).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(print).toHaveBeenCalledTimes(1));
    expect(screen.getAllByTestId('print-row')).toHaveLength(1_200);
  });

  it('is offered only with the export permission', async () => {
    await renderPage({ me: { username: 'viewer', roles: ['support'], permissions: ['discrepancy_view'] } });
    expect(screen.queryByTestId('print-report')).toBeNull();
  });

  it('is in Chinese, with the labels of the table', async () => {
    const { default: i18n } = await import('../../i18n');
    await act(async () => {
      await i18n.changeLanguage('zh');
    });
    try {
      await renderPage({ lang: 'zh' });
      expect(screen.getByTestId('print-report')).toHaveTextContent('打印 / PDF');
      const view = await openReport();
      expect(view).toHaveTextContent('差异报告');
      expect(view).toHaveTextContent('按币种合计');
      expect(view).toHaveTextContent('按差异类型统计');
      expect(view).not.toHaveTextContent('差错');
      expect(within(view).getByTestId('print-account')).toHaveTextContent('全部账户');
      expect(within(view).getByTestId('print-dates')).toHaveTextContent('全部日期');
      expect(within(view).getByTestId('print-filters')).toHaveTextContent('状态：待处理、调查中');
      const first = within(view).getAllByTestId('print-row')[0];
      expect(Array.from(first.querySelectorAll('td')).map((c) => c.textContent)).toEqual([
        'ORD-1',
        '金额不符',
        '¥99.00',
        '¥100.00',
        '-¥1.00',
        '待处理',
        '未分配',
      ]);
      const head = within(view).getByTestId('print-rows').querySelector('thead');
      expect(head).toHaveTextContent('商户订单号差异类型渠道金额我方金额差额状态处理人');
      expect(within(view).getAllByTestId('print-class')[0]).toHaveTextContent('金额不符');
    } finally {
      await act(async () => {
        await i18n.changeLanguage('en');
      });
    }
  });
});
