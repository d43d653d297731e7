import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import DashboardPage, { buildChartOption, chartDrillDown } from './DashboardPage';
import { makeMe, renderWithSession } from '../test-utils';
import { setLanguage } from '../i18n';
import { formatDate, formatDateTime } from '../format';
import type { AttentionKey, Dashboard } from '../types';

const DASH: Dashboard = {
  accounts: [
    {
      account: 'alipay-main',
      provider: 'alipay',
      currency: 'CNY',
      last_run: {
        id: 9,
        account: 'alipay-main',
        provider: 'alipay',
        bill_date: '2026-03-14',
        statement_id: 4,
        statement_sha256: 'cd'.repeat(32),
        started_by: 'finance',
        started_at: '2026-03-15T00:30:00Z',
        finished_at: '2026-03-15T00:30:05Z',
        counts: { matched: 412, amount_mismatch: 2, order_only: 1 },
        totals_json: { discrepancy_abs: { CNY: 35880 }, matched: 412, discrepancies: 3 },
      },
      open: 3,
      counts: { amount_mismatch: 2, order_only: 1 },
      // What is open now (a part of the run's CNY 358.80 was resolved since) and a currency
      // mismatch at stake in EUR.
      open_amounts: { CNY: 123456, EUR: 94347 },
    },
    {
      account: 'stripe-jp',
      provider: 'stripe',
      currency: 'JPY',
      last_run: null,
      open: 0,
      counts: {},
      open_amounts: {},
    },
  ],
  daily: [
    { date: '2026-03-13', discrepancies: 1, open: 0, unmatched: { CNY: 990, JPY: 0 } },
    { date: '2026-03-14', discrepancies: 3, open: 3, unmatched: { CNY: 35880, JPY: 1200 } },
  ],
  attention: {
    open_discrepancies: 12345,
    overdue_discrepancies: 2,
    refunds_awaiting_approval: 4,
    refunds_needing_attention: 1,
    keys: [
      {
        account: 'wechat-main',
        purpose: 'wechat_platform_cert',
        version: 2,
        code: 'expires_soon',
        message:
          'version 2 (5157F09EFDC096DE15EBE81A47057A72) expires on 2026-03-24, 9 days from now, and nothing replaces it yet; refresh the platform certificates',
        serial: '5157F09EFDC096DE15EBE81A47057A72',
        at: '2026-03-24T00:00:00Z',
        expires_at: '2026-03-24T00:00:00Z',
      },
    ],
  },
};

function backend(dash: Dashboard) {
  const calls: { cmd: string; args: unknown }[] = [];
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === 'dashboard') return dash;
      throw { kind: 'bad_input', message: `unexpected ${cmd}` };
    },
    { shouldMockEvents: true },
  );
  return calls;
}

beforeEach(async () => {
  window.history.replaceState(null, '', '/');
  await setLanguage('en');
});
afterEach(() => clearMocks());

describe('DashboardPage', () => {
  it('renders a card per account and the attention counts', async () => {
    const calls = backend(DASH);
    renderWithSession(<DashboardPage />);

    const ali = await screen.findByTestId('dashboard-account-alipay-main');
    expect(calls[0]).toEqual({ cmd: 'dashboard', args: { days: 30 } });
    expect(ali).toHaveAttribute('data-state', 'done');
    expect(ali).toHaveTextContent('Alipay');
    expect(ali).toHaveTextContent('412');
    expect(ali).toHaveTextContent('Mar 14, 2026');
    expect(ali).toHaveTextContent('by finance');
    // At stake is what the open discrepancies hold now, each currency on its own line; not
    // the last run's total.
    expect(screen.getByTestId('dashboard-at-stake-alipay-main-CNY')).toHaveTextContent('CN¥1,234.56');
    expect(screen.getByTestId('dashboard-at-stake-alipay-main-EUR')).toHaveTextContent('€943.47');
    expect(screen.getByTestId('dashboard-class-alipay-main-amount_mismatch')).toHaveTextContent('Amount mismatch: 2');
    expect(screen.getByTestId('dashboard-class-alipay-main-order_only')).toHaveTextContent('Order only (short): 1');
    expect(screen.queryByTestId('dashboard-class-alipay-main-matched')).toBeNull();

    const jp = screen.getByTestId('dashboard-account-stripe-jp');
    expect(jp).toHaveAttribute('data-state', 'never');
    expect(jp).toHaveTextContent('Never run');

    const open = screen.getByTestId('attention-open');
    expect(open).toHaveAttribute('data-count', '12345');
    // Counts have thousands separators.
    expect(open).toHaveTextContent('12,345 open discrepancies');
    expect(open).toHaveTextContent('2 overdue');
    const appr = screen.getByTestId('attention-approvals');
    expect(appr).toHaveAttribute('data-count', '4');
    expect(appr).toHaveTextContent('4 refunds awaiting approval');
    expect(appr).toHaveTextContent('1 refund needs attention');
    const keys = screen.getByTestId('attention-keys');
    expect(keys).toHaveAttribute('data-count', '1');
    const key = within(keys).getByTestId('attention-key-wechat-main-wechat_platform_cert');
    expect(key).toHaveAttribute('data-code', 'expires_soon');
    expect(key).toHaveTextContent(
      `Version 2 (serial 5157F09EFDC096DE15EBE81A47057A72) expires on ${formatDate('2026-03-24T00:00:00Z', 'en')} and nothing replaces it yet. Refresh the platform certificates`,
    );
    expect(key).not.toHaveTextContent('9 days from now');
    expect(screen.getByTestId('dashboard-chart')).toBeInTheDocument();
  });

  it('words key warnings by code, with the provider error of a failed download and the backend text as fallback', async () => {
    const error = 'provider: HTTP 401 SIGN_ERROR: signature verification failed';
    const keys: AttentionKey[] = [
      {
        account: 'wechat-main',
        purpose: 'wechat_platform_cert',
        version: 3,
        code: 'refresh_failed',
        message: `the last certificate download (2026-03-14 07:30 UTC) failed: ${error}`,
        serial: null,
        at: '2026-03-14T07:30:00Z',
        expires_at: '2026-09-01T00:00:00Z',
      },
      {
        account: 'stripe-jp',
        purpose: 'stripe_secret_key',
        version: null,
        code: 'no_active',
        message: 'no active version: stripe_secret_key of stripe-jp is not usable',
        serial: null,
        at: null,
        expires_at: null,
      },
      {
        account: 'alipay-main',
        purpose: 'alipay_app_key',
        version: 1,
        code: 'brand_new' as never,
        message: 'something the UI has no words for yet',
        serial: null,
        at: null,
        expires_at: null,
      },
    ];
    backend({ ...DASH, attention: { ...DASH.attention, keys } });
    renderWithSession(<DashboardPage />);
    const failed = await screen.findByTestId('attention-key-wechat-main-wechat_platform_cert');
    expect(failed).toHaveTextContent('WeChat platform certificate v3');
    expect(failed).toHaveTextContent(
      `The platform certificate download of ${formatDateTime('2026-03-14T07:30:00Z', 'en')} failed.`,
    );
    expect(failed).toHaveTextContent(error);
    const none = screen.getByTestId('attention-key-stripe-jp-stripe_secret_key');
    expect(none).toHaveTextContent('No active version: this key is not used until a version is activated.');
    expect(none).not.toHaveTextContent(/ v\d|vnull/);
    expect(screen.getByTestId('attention-key-alipay-main-alipay_app_key')).toHaveTextContent(
      'something the UI has no words for yet',
    );
  });

  it('words key warnings in Chinese', async () => {
    await setLanguage('zh');
    backend(DASH);
    renderWithSession(<DashboardPage />, { lang: 'zh' });
    expect(await screen.findByTestId('attention-key-wechat-main-wechat_platform_cert')).toHaveTextContent(
      `版本 2（序列号 5157F09EFDC096DE15EBE81A47057A72）将于 ${formatDate('2026-03-24T00:00:00Z', 'zh')} 到期，且尚无接替的版本。请更新平台证书`,
    );
  });

  it('navigates from attention items', async () => {
    backend(DASH);
    const user = userEvent.setup();
    renderWithSession(<DashboardPage />);
    await user.click(await screen.findByTestId('attention-open'));
    // The link opens exactly what the count counts: open and investigating.
    expect(window.location.hash).toBe('#/discrepancies?states=open%2Cinvestigating');
    await user.click(screen.getByTestId('attention-approvals'));
    expect(window.location.hash).toBe('#/approvals');
    await user.click(screen.getByTestId('attention-keys'));
    expect(window.location.hash).toBe('#/keys');
    await user.click(screen.getByTestId('dashboard-class-alipay-main-order_only'));
    expect(window.location.hash).toBe('#/discrepancies?account=alipay-main&classes=order_only');
  });

  it('sends support users to orders and hides what they cannot open', async () => {
    backend(DASH);
    const user = userEvent.setup();
    renderWithSession(<DashboardPage />, {
      me: makeMe('support', ['support'], ['discrepancy_view', 'order_view']),
    });
    await user.click(await screen.findByTestId('attention-approvals'));
    expect(window.location.hash).toBe('#/orders');
    await user.click(screen.getByTestId('attention-keys'));
    expect(window.location.hash).toBe('#/orders');
  });

  it('still shows every attention item to finance, without links it may not follow', async () => {
    backend(DASH);
    const user = userEvent.setup();
    renderWithSession(<DashboardPage />, {
      me: makeMe('finance', ['finance'], ['discrepancy_view', 'reconcile_run']),
    });
    await user.click(await screen.findByTestId('attention-approvals'));
    await user.click(screen.getByTestId('attention-keys'));
    expect(window.location.hash).toBe('');
    expect(screen.getByTestId('attention-approvals')).toHaveAttribute('data-count', '4');
  });

  it('refreshes when a run finishes and shows running accounts', async () => {
    const calls = backend(DASH);
    renderWithSession(<DashboardPage />);
    await screen.findByTestId('dashboard-account-alipay-main');
    expect(calls.filter((c) => c.cmd === 'dashboard')).toHaveLength(1);

    await act(async () => {
      await emit('run-event', { kind: 'stage', batch: 1, account: 'stripe-jp', stage: 'match', done: 1, total: 2 });
    });
    expect(screen.getByTestId('dashboard-account-stripe-jp')).toHaveAttribute('data-state', 'running');
    expect(screen.getByTestId('dashboard-account-stripe-jp')).toHaveTextContent('Running: Match');

    await act(async () => {
      await emit('run-event', { kind: 'finished', batch: 1, cancelled: false });
    });
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'dashboard')).toHaveLength(2));
    expect(screen.getByTestId('dashboard-account-stripe-jp')).toHaveAttribute('data-state', 'never');
  });

  it('shows the error and what to do when the dashboard cannot load', async () => {
    mockIPC(() => {
      throw { kind: 'store', message: 'The app database is unreachable.' };
    });
    renderWithSession(<DashboardPage />);
    const alert = await screen.findByTestId('error-alert');
    expect(alert).toHaveTextContent('Database problem');
    expect(alert).toHaveTextContent('The app database is unreachable.');
  });
});

describe('buildChartOption', () => {
  it('has bars per day and an at-stake line per currency in major units, each on its own axis', () => {
    const opt = buildChartOption(DASH, 'en', {
      discrepancies: 'D',
      open: 'O',
      unmatched: (c) => `U ${c}`,
      count: 'n',
      amount: 'a',
    });
    const series = opt.series as { name: string; type: string; data: number[]; yAxisIndex?: number }[];
    expect(series.map((s) => [s.name, s.type])).toEqual([
      ['D', 'bar'],
      ['O', 'bar'],
      ['U CNY', 'line'],
      ['U JPY', 'line'],
    ]);
    expect(series[0].data).toEqual([1, 3]);
    expect(series[2].data).toEqual([9.9, 358.8]);
    expect(series[2].yAxisIndex).toBe(1);
    expect(series[3].data).toEqual([0, 1200]);
    expect(series[3].yAxisIndex).toBe(2);
    const axes = opt.yAxis as { name: string; position: string; offset?: number }[];
    expect(axes.map((a) => [a.name, a.position])).toEqual([
      ['n', 'left'],
      ['CNY', 'right'],
      ['JPY', 'right'],
    ]);
    expect(axes[2].offset).toBeGreaterThan(axes[1].offset ?? 0);
    expect((opt.grid as { containLabel: boolean }).containLabel).toBe(true);
    expect((opt.xAxis as { data: string[] }).data).toEqual(['03-13', '03-14']);
  });
});

describe('chartDrillDown', () => {
  it('opens the clicked day: still-open bar → open and investigating, the others → every state', () => {
    expect(chartDrillDown(DASH, { seriesName: 'Still open', dataIndex: 1 }, 'Still open')).toEqual({
      date_from: '2026-03-14',
      date_to: '2026-03-14',
      states: 'open,investigating',
    });
    expect(chartDrillDown(DASH, { seriesName: 'Discrepancies found', dataIndex: 0 }, 'Still open')).toEqual({
      date_from: '2026-03-13',
      date_to: '2026-03-13',
      states: 'open,investigating,resolved',
    });
    expect(chartDrillDown(DASH, { seriesName: 'Still open', dataIndex: 7 }, 'Still open')).toBeNull();
    expect(chartDrillDown(DASH, {}, 'Still open')).toBeNull();
  });
});
