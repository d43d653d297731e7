import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import SettlementsPage from './SettlementsPage';
import { groupByDay } from './settlementUi';
import { renderWithSession } from '../../test-utils';
import { setLanguage } from '../../i18n';
import type {
  BankAccountInfo,
  FindingOut,
  FundFlow,
  LinkOut,
  Payout,
  PayoutDetailOut,
  PayoutOut,
  SettlementReport,
} from '../../types';

const BANKS: BankAccountInfo[] = [
  { name: 'cmb-main', currency: 'CNY', accounts: ['alipay-main', 'wechat-main'] },
  { name: 'chase-usd', currency: 'USD', accounts: ['stripe-us'] },
];

function payout(over: Partial<Payout>): Payout {
  return {
    provider: 'alipay',
    account: 'alipay-main',
    payout_id: 'P-1',
    amount: 100_00,
    currency: 'CNY',
    created_at: '2026-03-13T02:00:00Z',
    arrival_date: '2026-03-13',
    trace_id: null,
    automatic: false,
    status: 'paid',
    ...over,
  };
}

const P1: PayoutOut = {
  id: 11,
  payout: payout({ payout_id: '2026031320001', amount: 1_234_50, arrival_date: '2026-03-13' }),
  arrival: 'arrived',
  composition: null,
};
const P2: PayoutOut = {
  id: 12,
  payout: payout({ payout_id: '2026031420002', amount: 500_00, arrival_date: '2026-03-14', account: 'wechat-main', provider: 'wechat' }),
  arrival: 'suggested',
  composition: null,
};
const P3: PayoutOut = {
  id: 13,
  payout: payout({ payout_id: '2026031420003', amount: 300_00, arrival_date: '2026-03-14' }),
  arrival: 'suggested',
  composition: null,
};
const P4: PayoutOut = {
  id: 14,
  payout: payout({ payout_id: 'po_1Nabc', provider: 'stripe', account: 'alipay-main', amount: 9_000, arrival_date: '2026-03-12', automatic: true }),
  arrival: 'not_arrived',
  composition: { items: 3, payments: 10_000, refunds: -500, fees: -500, disputes: 0, other: 0, total: 9_000 },
};

function link(id: number | null, over: Partial<LinkOut> = {}): LinkOut {
  return {
    id,
    rule: 'grouped_payouts',
    confidence: 72,
    state: 'suggested',
    currency: 'CNY',
    payout_total: 800_00,
    bank_total: 800_00,
    payout_ids: [12, 13],
    bank_line_ids: [31],
    evidence: ['2 payouts sum to bank line 31 (800.00 CNY)', 'only subset that fits'],
    decided_by: null,
    decided_at: null,
    note: null,
    ...over,
  };
}

const FINDING: FindingOut = {
  id: 5,
  class: 'bank_credit_without_payout',
  class_en: 'Bank credit without payout',
  class_zh: '银行长款',
  explain_en: 'The bank received money that no payout from a provider explains.',
  explain_zh: '银行收到一笔款项，但没有任何渠道提现能对应。',
  date: '2026-03-14',
  currency: 'CNY',
  expected: null,
  actual: 77_00,
  detail: 'bank line 40 (77.00 CNY) from 支付宝 is explained by no payout',
  payout_ids: [],
  bank_line_ids: [40],
  review_state: null,
  review_note: null,
};

function report(over: Partial<SettlementReport> = {}): SettlementReport {
  return {
    bank_account: 'cmb-main',
    as_of: '2026-03-14',
    dry_run: false,
    run_id: 3,
    payouts: [P1, P2, P3, P4],
    bank_lines: 4,
    links: [link(20, { rule: 'reference', confidence: 100, state: 'booked', payout_ids: [11], bank_line_ids: [30] })],
    suggestions: [link(21)],
    findings: [FINDING],
    counts: { bank_credit_without_payout: 1 },
    arrivals: { arrived: 1, suggested: 2, not_arrived: 1 },
    balances: [
      { account: 'alipay-main', date: '2026-03-13', currency: 'CNY', opening: 0, movements: 500_00, closing: 500_00 },
      { account: 'alipay-main', date: '2026-03-14', currency: 'CNY', opening: 500_00, movements: -200_00, closing: 300_00 },
    ],
    trade_checks: [
      { account: 'alipay-main', from: '2026-03-08', to: '2026-03-14', trade_days: 2, matched: 27, pending: 5, findings: 1 },
    ],
    search: { searches: 2, worst_steps: 40, exhausted: 0, ambiguous: 0 },
    seconds: 0.12,
    ...over,
  };
}

const FLOW: FundFlow = {
  provider: 'stripe',
  account: 'alipay-main',
  flow_id: 'txn_1',
  source_id: 'ch_1',
  order_no: 'ORDER-7781',
  payout_id: 'po_1Nabc',
  kind: 'payment',
  booked_at: '2026-03-10T08:00:00Z',
  currency: 'CNY',
  gross: 10_000,
  fee: 500,
  net: 9_500,
  balance_after: null,
  description: 'charge',
  line: 1,
};

interface Ctl {
  calls: { cmd: string; args: Record<string, unknown> }[];
  suggestions: LinkOut[];
  /** The stored findings once a review changed them. */
  findings?: FindingOut[];
}

function backend(over: { findings?: FindingOut[] } = {}): Ctl {
  const ctl: Ctl = { calls: [], suggestions: [link(21)] };
  mockIPC((cmd, args) => {
    ctl.calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
    const a = (args ?? {}) as Record<string, unknown>;
    switch (cmd) {
      case 'settlement_bank_accounts':
        return BANKS;
      case 'settlement_links':
        return ctl.suggestions;
      case 'settlement_findings':
        return ctl.findings ?? over.findings ?? [FINDING];
      case 'settlement_finding_review': {
        const f = { ...FINDING, review_state: a.resolved ? 'resolved' : 'open', review_note: (a.note as string | null) ?? null };
        ctl.findings = [f];
        return f;
      }
      case 'settlement_run':
        // A dry run stores nothing: its links and findings have no ids.
        return a.dryRun === true
          ? report({ dry_run: true, run_id: null, suggestions: [link(null)], findings: [{ ...FINDING, id: null }] })
          : report();
      case 'settlement_decide': {
        const decided = ctl.suggestions.find((l) => l.id === a.id);
        if (!decided) throw { kind: 'bad_input', code: 'not_found', message: `no settlement suggestion ${String(a.id)}` };
        ctl.suggestions = ctl.suggestions.filter((l) => l.id !== a.id);
        return { ...decided, state: a.accept ? 'accepted' : 'rejected', note: a.note ?? null, decided_by: 'finance' };
      }
      case 'settlement_payout': {
        const detail: PayoutDetailOut = {
          payout: { id: 14, payout: P4.payout },
          flows: [FLOW],
          links: [link(22, { rule: 'amount_date', confidence: 85, state: 'booked', payout_ids: [14], bank_line_ids: [33] })],
          bank_lines: [
            {
              id: 33,
              bank_account: 'cmb-main',
              file_name: 'cmb-2026-03.xlsx',
              line: {
                booking_date: '2026-03-13',
                value_date: null,
                amount: 9_000,
                currency: 'CNY',
                counterparty: 'STRIPE PAYMENTS',
                references: ['REF-99'],
                text: 'STRIPE TRANSFER',
                line: 7,
              },
            },
          ],
        };
        return detail;
      }
      default:
        throw { kind: 'bad_input', message: `unexpected ${cmd}` };
    }
  });
  return ctl;
}

beforeEach(async () => {
  await setLanguage('en');
});
afterEach(() => clearMocks());

async function runSettlement(user: ReturnType<typeof userEvent.setup>) {
  await waitFor(() => expect(screen.getByTestId('settle-bank')).toHaveTextContent('cmb-main (CNY)'));
  await user.click(screen.getByTestId('settle-run'));
  return screen.findByTestId('settle-summary');
}

describe('SettlementsPage', () => {
  it('runs settlement and shows the payouts by day with their status and amounts', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<SettlementsPage />);

    expect(await screen.findByTestId('settle-empty')).toBeInTheDocument();
    expect(screen.getByTestId('settle-date')).toHaveValue('2026-03-14');
    const summary = await runSettlement(user);
    expect(ctl.calls.find((c) => c.cmd === 'settlement_run')?.args).toEqual({ bank: 'cmb-main', date: '2026-03-14', dryRun: false });
    expect(summary).toHaveAttribute('data-run-id', '3');
    expect(screen.getByTestId('settle-arrivals-suggested')).toHaveAttribute('data-count', '2');
    // The trade bills against the fund flows, per provider account.
    const tradeCheck = screen.getByTestId('settle-trade-check-alipay-main');
    expect(tradeCheck).toHaveTextContent('alipay-main: 27 agree, 1 differ, 5 pending (2 of');
    expect(tradeCheck).toHaveAttribute('data-findings', '1');

    // Newest day first; the 14th holds two payouts, summed.
    const table = screen.getByTestId('payouts-table');
    const days = within(table)
      .getAllByTestId(/^payout-day-/)
      .map((d) => d.getAttribute('data-testid'));
    expect(days).toEqual(['payout-day-2026-03-14', 'payout-day-2026-03-13', 'payout-day-2026-03-12']);
    expect(screen.getByTestId('payout-day-2026-03-14')).toHaveTextContent('2 payouts · CN¥800.00');
    expect(screen.getByTestId('payout-amount-11')).toHaveTextContent('CN¥1,234.50');
    expect(screen.getByTestId('payout-arrival-11')).toHaveTextContent('Arrived');
    expect(screen.getByTestId('payout-arrival-12')).toHaveTextContent('Suggested');
    expect(screen.getByTestId('payout-arrival-14')).toHaveTextContent('Not arrived');
    // After a run the stored lists are read again.
    await waitFor(() => expect(ctl.calls.filter((c) => c.cmd === 'settlement_links')).toHaveLength(2));
    expect(ctl.calls.find((c) => c.cmd === 'settlement_links')?.args).toEqual({ bank: 'cmb-main', linkState: 'suggested' });
  });

  it('opens a payout: composition, movements with their orders, and the bank line beside it', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<SettlementsPage />);
    await runSettlement(user);

    await user.click(screen.getByTestId('payout-open-14'));
    const drawer = await screen.findByTestId('payout-drawer-14');
    expect(ctl.calls.find((c) => c.cmd === 'settlement_payout')?.args).toEqual({ id: 14 });
    expect(within(drawer).getByTestId('composition-payments')).toHaveTextContent('CN¥100.00');
    expect(within(drawer).getByTestId('composition-refunds')).toHaveTextContent('-CN¥5.00');
    expect(within(drawer).getByTestId('composition-total')).toHaveTextContent('CN¥90.00');
    expect(within(drawer).getByTestId('composition-check')).toHaveAttribute('data-ok', 'true');
    const movements = await within(drawer).findByTestId('payout-movements');
    expect(movements).toHaveTextContent('ORDER-7781');
    expect(movements).toHaveTextContent('Payment');
    const line = within(drawer).getByTestId('payout-bank-line-33');
    expect(line).toHaveTextContent('STRIPE PAYMENTS');
    expect(line).toHaveTextContent('Line 7 of cmb-2026-03.xlsx');
    expect(within(drawer).getByTestId('payout-bank')).toHaveTextContent('Amount and date · confidence 85 · Booked');
  });

  it('accepts a suggestion and refreshes the list', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<SettlementsPage />);
    await runSettlement(user);

    await user.click(screen.getByTestId('settle-tab-suggestions'));
    const card = await screen.findByTestId('suggestion-21');
    expect(card).toHaveTextContent('Several payouts in one credit');
    expect(card).toHaveTextContent('Confidence 72%');
    expect(card).toHaveTextContent('2026031420002 + 2026031420003');
    expect(screen.getByTestId('suggestion-evidence-21')).toHaveTextContent('only subset that fits');

    await user.click(screen.getByTestId('suggestion-accept-21'));
    await waitFor(() => expect(screen.getByTestId('suggestions-empty')).toBeInTheDocument());
    expect(ctl.calls.find((c) => c.cmd === 'settlement_decide')?.args).toEqual({ id: 21, accept: true, note: null });
    // The list was read again after the decision (mount, after the run, after the decision).
    expect(ctl.calls.filter((c) => c.cmd === 'settlement_links')).toHaveLength(3);
  });

  it('rejecting asks for a note first, then sends it', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<SettlementsPage />);
    await waitFor(() => expect(ctl.calls.some((c) => c.cmd === 'settlement_links')).toBe(true));

    await user.click(screen.getByTestId('settle-tab-suggestions'));
    await user.click(await screen.findByTestId('suggestion-reject-21'));
    await user.click(await screen.findByTestId('suggestion-reject-confirm'));
    expect(screen.getByTestId('suggestion-note-required')).toHaveTextContent('Write a note saying why.');
    expect(ctl.calls.some((c) => c.cmd === 'settlement_decide')).toBe(false);

    await user.type(screen.getByTestId('suggestion-reject-note'), 'two separate refunds, not these payouts');
    await user.click(screen.getByTestId('suggestion-reject-confirm'));
    await waitFor(() => expect(screen.getByTestId('suggestions-empty')).toBeInTheDocument());
    expect(ctl.calls.find((c) => c.cmd === 'settlement_decide')?.args).toEqual({
      id: 21,
      accept: false,
      note: 'two separate refunds, not these payouts',
    });
  });

  it('resolves a finding with a note, and the list shows it resolved', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<SettlementsPage />);
    await waitFor(() => expect(ctl.calls.some((c) => c.cmd === 'settlement_findings')).toBe(true));

    await user.click(screen.getByTestId('settle-tab-findings'));
    await user.click(await screen.findByTestId('finding-resolve-5'));
    await user.type(await screen.findByTestId('finding-review-note'), 'bank confirms the credit is a supplier refund');
    await user.click(screen.getByTestId('finding-review-ok'));
    await waitFor(() => expect(screen.getByTestId('finding-review-5')).toHaveTextContent('Resolved'));
    expect(screen.getByTestId('finding-review-5')).toHaveTextContent('bank confirms the credit is a supplier refund');
    expect(ctl.calls.find((c) => c.cmd === 'settlement_finding_review')?.args).toEqual({
      id: 5,
      resolved: true,
      note: 'bank confirms the credit is a supplier refund',
    });
    // A resolved finding can be reopened.
    expect(screen.getByTestId('finding-reopen-5')).toBeInTheDocument();
  });

  it('a dry run saves nothing and its suggestions cannot be decided', async () => {
    const ctl = backend();
    const user = userEvent.setup();
    renderWithSession(<SettlementsPage />);
    await waitFor(() => expect(screen.getByTestId('settle-bank')).toHaveTextContent('cmb-main'));
    await user.click(screen.getByTestId('settle-dry-run'));
    const summary = await runSettlement(user);
    expect(summary).toHaveAttribute('data-dry-run', 'true');
    expect(ctl.calls.find((c) => c.cmd === 'settlement_run')?.args).toEqual({ bank: 'cmb-main', date: '2026-03-14', dryRun: true });
    await user.click(screen.getByTestId('settle-tab-suggestions'));
    // The report's own suggestion is shown, without an id: it cannot be decided. The stored
    // list is not re-read.
    expect(await screen.findByTestId('suggestion-dry')).toHaveTextContent('Confidence 72%');
    expect(screen.getByTestId('suggestion-accept-dry')).toBeDisabled();
    expect(screen.getByTestId('suggestion-reject-dry')).toBeDisabled();
    expect(screen.queryByTestId('suggestion-21')).toBeNull();
    expect(ctl.calls.filter((c) => c.cmd === 'settlement_links')).toHaveLength(1);
    expect(screen.getByText(/A dry run saves nothing/)).toBeInTheDocument();
  });

  it('names the finding classes in English and in Chinese', async () => {
    backend();
    const user = userEvent.setup();
    const view = renderWithSession(<SettlementsPage />);
    await user.click(await screen.findByTestId('settle-tab-findings'));
    const tag = await screen.findByTestId('finding-class-bank_credit_without_payout');
    expect(tag).toHaveTextContent('Bank credit without payout');
    expect(screen.getByTestId('finding-explain')).toHaveTextContent('no payout from a provider explains');
    expect(screen.getByTestId('settle-tab-findings')).toHaveTextContent('Findings');
    view.unmount();

    await setLanguage('zh');
    renderWithSession(<SettlementsPage />, { lang: 'zh' });
    await user.click(await screen.findByTestId('settle-tab-findings'));
    const zh = await screen.findByTestId('finding-class-bank_credit_without_payout');
    expect(zh).toHaveTextContent('银行长款');
    expect(screen.getByTestId('finding-explain')).toHaveTextContent('没有任何渠道提现能对应');
    expect(screen.getByTestId('settle-tab-findings')).toHaveTextContent('差异');
    expect(screen.getByTestId('finding-count-bank_credit_without_payout')).toHaveTextContent('银行长款: 1');
  });

  it('says what to do when paydesk.toml has no bank account', async () => {
    mockIPC((cmd) => (cmd === 'settlement_bank_accounts' ? [] : null));
    renderWithSession(<SettlementsPage />);
    expect(await screen.findByTestId('settle-no-banks')).toHaveTextContent('[[bank_accounts]]');
    expect(screen.getByTestId('settle-run')).toBeDisabled();
  });
});

describe('groupByDay', () => {
  it('groups by arrival day, newest first, with sums per currency', () => {
    const usd: PayoutOut = { ...P1, id: 99, payout: { ...P1.payout, currency: 'USD', amount: 250 } };
    const days = groupByDay([P1, P2, P3, usd]);
    expect(days.map((d) => d.date)).toEqual(['2026-03-14', '2026-03-13']);
    expect(days[0].payouts.map((p) => p.id)).toEqual([13, 12]);
    expect(days[0].totals).toEqual({ CNY: 800_00 });
    expect(days[1].totals).toEqual({ CNY: 1_234_50, USD: 250 });
  });
});
