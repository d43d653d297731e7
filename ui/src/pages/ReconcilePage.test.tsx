import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import ReconcilePage, { applyRunEvent } from './ReconcilePage';
import { makeAppInfo, renderWithSession } from '../test-utils';
import { setLanguage } from '../i18n';
import type { RunBatch, RunEvent, RunRecord, RunReport } from '../types';

function report(account: string, matched: number, counts: Record<string, number>, abs: Record<string, number>): RunReport {
  const discrepancies = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    run_id: 7,
    dry_run: false,
    account,
    provider: 'alipay',
    date: '2026-03-14',
    statement: {
      file: `${account}-2026-03-14.csv`,
      format: 'alipay_csv',
      sha256: 'ab'.repeat(32),
      lines: matched + discrepancies,
      statement_id: 3,
      no_activity: false,
      unchanged: false,
      superseded: null,
    },
    counts: { matched, ...counts },
    totals: {
      statement_gross: {},
      statement_fees: {},
      statement_net: {},
      discrepancy_abs: abs,
      matched,
      discrepancies,
    },
    discrepancies: [],
    carry_overs_closed: [],
    matched_notes: [],
    timings_ms: {},
  };
}

const RUN: RunRecord = {
  id: 41,
  account: 'alipay-main',
  provider: 'alipay',
  bill_date: '2026-03-13',
  statement_id: 2,
  statement_sha256: '3f2a9c0d11223344556677889900aabbccddeeff00112233445566778899b71e',
  started_by: 'finance',
  started_at: '2026-03-14T00:30:00Z',
  finished_at: '2026-03-14T00:30:04Z',
  counts: { matched: 120, amount_mismatch: 2, provider_only: 1 },
  totals_json: null,
};

interface Ctl {
  calls: { cmd: string; args: unknown }[];
  finish: (b: RunBatch) => void;
}

function backend(): Ctl {
  const ctl: Ctl = { calls: [], finish: () => {} };
  mockIPC(
    (cmd, args) => {
      ctl.calls.push({ cmd, args });
      switch (cmd) {
        case 'runs':
          return [RUN];
        case 'start_reconcile':
          return new Promise<RunBatch>((resolve) => {
            ctl.finish = resolve;
          });
        case 'cancel_reconcile':
          return true;
        default:
          throw { kind: 'bad_input', message: `unexpected ${cmd}` };
      }
    },
    { shouldMockEvents: true },
  );
  return ctl;
}

async function fire(ev: RunEvent) {
  await act(async () => {
    await emit('run-event', ev);
  });
}

beforeEach(async () => {
  await setLanguage('en');
});
afterEach(() => clearMocks());

describe('ReconcilePage', () => {
  it('starts a run for all accounts and shows live progress per account', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<ReconcilePage />, { appInfo: makeAppInfo({ schedule: '07:30' }) });

    // History and schedule.
    const table = await screen.findByTestId('runs-table');
    await waitFor(() => expect(within(table).getByText('alipay-main')).toBeInTheDocument());
    expect(within(table).getByText('3f2a9c0d…b71e')).toBeInTheDocument();
    expect(screen.getByTestId('run-row-discrepancies-41')).toHaveTextContent('3');
    expect(screen.getByTestId('reconcile-schedule')).toHaveTextContent('every day at 07:30');

    // Defaults: all accounts, yesterday from app_info.
    expect(screen.getByTestId('reconcile-account')).toHaveTextContent('All accounts');
    expect(screen.getByTestId('reconcile-date')).toHaveValue('2026-03-14');
    expect(screen.getByTestId('reconcile-date').tagName).toBe('INPUT');
    expect(screen.getByTestId('reconcile-cancel')).toBeDisabled();

    await user.click(screen.getByTestId('reconcile-start'));
    await waitFor(() => expect(ctl.calls.some((c) => c.cmd === 'start_reconcile')).toBe(true));
    expect(ctl.calls.find((c) => c.cmd === 'start_reconcile')?.args).toEqual({ accounts: null, date: '2026-03-14' });
    expect(screen.getByTestId('reconcile-cancel')).toBeEnabled();

    await fire({ kind: 'started', batch: 1, accounts: ['alipay-main', 'wechat-main'], date: '2026-03-14', trigger: 'manual' });
    const ali = screen.getByTestId('run-progress-alipay-main');
    expect(ali).toHaveAttribute('data-state', 'running');
    expect(ali).toHaveAttribute('data-stage', '');
    expect(ali).toHaveTextContent('Waiting');

    await fire({ kind: 'stage', batch: 1, account: 'alipay-main', stage: 'parse', done: 40, total: 200 });
    expect(ali).toHaveAttribute('data-stage', 'parse');
    expect(ali).toHaveTextContent('40 / 200');
    // download and verify finished, parse in progress.
    expect(ali.querySelectorAll('.ant-steps-item-finish')).toHaveLength(2);
    expect(ali.querySelector('.ant-steps-item-process')).toHaveTextContent('Parse');

    await fire({ kind: 'stage', batch: 1, account: 'wechat-main', stage: 'download', done: 0, total: null });
    await fire({ kind: 'account_failed', batch: 1, account: 'wechat-main', message: 'The statement signature does not verify.' });
    const wx = screen.getByTestId('run-progress-wechat-main');
    expect(wx).toHaveAttribute('data-state', 'failed');
    expect(wx).toHaveTextContent('The statement signature does not verify.');

    const rep = report('alipay-main', 195, { amount_mismatch: 3, order_only: 2 }, { CNY: 12345 });
    rep.matched_notes = [
      {
        line_no: 4,
        order_no: 'ORD-7',
        refund_no: null,
        rule: 'merchant_order_no',
        text: 'matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%',
        text_zh: '按 订单金额 100.00 匹配；手续费 0.54，按 应结订单金额 90.00 × 0.60%',
      },
    ];
    await fire({ kind: 'stage', batch: 1, account: 'alipay-main', stage: 'save', done: 1, total: 1 });
    await fire({ kind: 'account_done', batch: 1, account: 'alipay-main', report: rep });
    expect(ali).toHaveAttribute('data-state', 'done');
    expect(ali).toHaveAttribute('data-stage', 'save');
    expect(screen.queryByTestId('run-finished')).toBeNull();

    await fire({ kind: 'finished', batch: 1, cancelled: false });
    const fin = screen.getByTestId('run-finished');
    expect(fin).toHaveTextContent('1 of 2 accounts done');
    expect(fin).toHaveTextContent('195 matched, 5 discrepancies');
    expect(fin).toHaveTextContent('1 account failed');
    expect(fin).toHaveTextContent('CN¥123.45 at stake');
    expect(screen.getByTestId('run-finished-class-amount_mismatch')).toHaveTextContent('Amount mismatch: 3');
    // What a line matched on, when it is not its amount by order number.
    const notes = screen.getByTestId('run-finished-matched-notes');
    expect(notes).toHaveTextContent('1 line matched on another basis');
    expect(notes).toHaveTextContent('alipay-main · ORD-7: matched on 订单金额 100.00; fee 0.54 on 应结订单金额 90.00 at 0.60%');

    await act(async () => {
      ctl.finish({ reports: [rep], failures: [{ account: 'wechat-main', message: 'The statement signature does not verify.' }], cancelled: false });
    });
    await waitFor(() => expect(screen.getByTestId('reconcile-cancel')).toBeDisabled());

    // The discrepancies link navigates with the account and the day.
    await user.click(screen.getByTestId('run-finished-open-alipay-main'));
    expect(window.location.hash).toBe('#/discrepancies?account=alipay-main&date_from=2026-03-14&date_to=2026-03-14');
  });

  it('shows a day without activity as a grey result, not a failure', async () => {
    backend();
    const user = userEvent.setup();
    renderWithSession(<ReconcilePage />, { appInfo: makeAppInfo({ schedule: '07:30' }) });
    await screen.findByTestId('runs-table');
    await user.click(screen.getByTestId('reconcile-start'));
    await fire({ kind: 'started', batch: 2, accounts: ['alipay-main', 'wechat-main'], date: '2026-03-14', trigger: 'manual' });
    const quiet = report('wechat-main', 0, {}, {});
    quiet.statement.no_activity = true;
    quiet.statement.file = 'no-activity-2026-03-14';
    await fire({ kind: 'account_done', batch: 2, account: 'wechat-main', report: quiet });
    await fire({ kind: 'account_done', batch: 2, account: 'alipay-main', report: report('alipay-main', 10, {}, {}) });
    await fire({ kind: 'finished', batch: 2, cancelled: false });

    const wx = screen.getByTestId('run-progress-wechat-main');
    expect(wx).toHaveAttribute('data-state', 'done');
    expect(wx).toHaveAttribute('data-no-activity', 'true');
    expect(screen.getByTestId('run-no-activity-wechat-main')).toHaveTextContent('No transactions that day');
    expect(screen.getByTestId('run-progress-alipay-main')).toHaveAttribute('data-no-activity', 'false');
    const fin = screen.getByTestId('run-finished');
    expect(fin).toHaveTextContent('2 of 2 accounts done');
    expect(fin).toHaveTextContent('1 account had no transactions');
    expect(fin).not.toHaveTextContent('failed');
    expect(fin.className).toContain('ant-alert-success');
  });

  it('starts one account, cancels, and marks unfinished accounts cancelled', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<ReconcilePage />);
    expect(screen.getByTestId('reconcile-schedule')).toHaveTextContent('No automatic schedule');

    // Pick one account in the Select (the e2e suite clicks the option by its title).
    await user.click(screen.getByTestId('reconcile-account').querySelector('.ant-select-selector')!);
    const option = await waitFor(() => {
      const el = document.querySelector('.ant-select-item-option[title="stripe-us"]');
      expect(el).not.toBeNull();
      return el as HTMLElement;
    });
    await user.click(option);
    await user.click(screen.getByTestId('reconcile-start'));
    await waitFor(() =>
      expect(ctl.calls.find((c) => c.cmd === 'start_reconcile')?.args).toEqual({ accounts: ['stripe-us'], date: '2026-03-14' }),
    );

    await fire({ kind: 'started', batch: 2, accounts: ['stripe-us'], date: '2026-03-14', trigger: 'manual' });
    await fire({ kind: 'stage', batch: 2, account: 'stripe-us', stage: 'download', done: 3, total: null });
    await user.click(screen.getByTestId('reconcile-cancel'));
    await waitFor(() => expect(ctl.calls.some((c) => c.cmd === 'cancel_reconcile')).toBe(true));
    await fire({ kind: 'finished', batch: 2, cancelled: true });

    expect(screen.getByTestId('run-progress-stripe-us')).toHaveAttribute('data-state', 'cancelled');
    expect(screen.getByTestId('run-progress-stripe-us')).toHaveAttribute('data-stage', 'download');
    expect(screen.getByTestId('run-finished')).toHaveAttribute('data-cancelled', 'true');
    expect(screen.getByTestId('run-finished')).toHaveTextContent('cancelled');
  });

  it('follows a scheduled run it did not start', async () => {
    backend();
    renderWithSession(<ReconcilePage />);
    await fire({ kind: 'started', batch: 3, accounts: ['alipay-main'], date: '2026-03-14', trigger: 'schedule' });
    expect(screen.getByText('Scheduled run')).toBeInTheDocument();
    expect(screen.getByTestId('run-progress-alipay-main')).toHaveAttribute('data-state', 'running');
  });
});

describe('applyRunEvent', () => {
  it('adopts a batch seen mid-way and ignores nothing', () => {
    let s = applyRunEvent(null, { kind: 'stage', batch: 9, account: 'a', stage: 'match', done: 5, total: 10 });
    expect(s?.byAccount.a).toMatchObject({ stage: 'match', done: 5, total: 10, state: 'running' });
    s = applyRunEvent(s, { kind: 'finished', batch: 9, cancelled: false });
    expect(s?.finished).toBe(true);
    // An account still running when a batch ends without cancel did not finish: failed.
    expect(s?.byAccount.a.state).toBe('failed');
  });
});
