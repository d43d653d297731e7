import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { emit } from '@tauri-apps/api/event';
import { renderWithSession } from '../../test-utils';
import type { Me, OrderDetail, RefundRecord } from '../../types';
import OrdersPage from './OrdersPage';
import { WHOSE_KEY } from './RecentRefunds';
import { clearMocks, fakeBackend, fill, lastCall, makeDetail, makeOrder, makeRefund, SUPPORT } from './fixtures';
import type { RecordedCall } from './fixtures';

afterEach(() => {
  clearMocks();
  window.sessionStorage.clear();
});

const LIMITS = { support_limit: '500.00', admin_limit: null, daily_count: 20 };

function setup(detail: OrderDetail, requestResult?: (args: Record<string, unknown>) => RefundRecord) {
  const calls = fakeBackend({
    search_orders: () => [detail.order],
    order_detail: (a) =>
      a.queryProvider
        ? {
            ...detail,
            provider_payment: { state: 'paid', provider_status: 'TRADE_SUCCESS', amount: detail.paid, error: null },
            provider_refunds: [
              {
                refund_no: 'MR-1',
                state: 'succeeded',
                provider_status: 'REFUND_SUCCESS',
                provider_refund_id: 'P-1',
                amount: 2000,
                error: null,
              },
            ],
          }
        : detail,
    refund_limits: () => LIMITS,
    request_refund: (a) => {
      if (!requestResult) throw { kind: 'io', message: 'not expected' };
      return requestResult(a);
    },
  });
  renderWithSession(<OrdersPage />, { me: SUPPORT });
  return calls;
}

async function searchAndOpen(user: ReturnType<typeof userEvent.setup>, orderNo: string) {
  const box = screen.getByTestId('order-search');
  await fill(user, box, orderNo);
  await user.keyboard('{Enter}');
  await screen.findByTestId(`order-row-${orderNo}`);
  return screen.findByTestId('order-refundable');
}

function requests(calls: RecordedCall[]) {
  return calls.filter((c) => c.cmd === 'request_refund');
}

describe('OrdersPage', () => {
  it('searches on Enter, opens the only match and shows what is refundable', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup(makeDetail());
    const refundable = await searchAndOpen(user, 'ORD-1001');

    expect(lastCall(calls, 'search_orders')?.args).toEqual({ text: 'ORD-1001', limit: 50 });
    expect(lastCall(calls, 'order_detail')?.args).toEqual({ key: 'ORD-1001', queryProvider: false });
    await waitFor(() => expect(refundable).toHaveAttribute('data-minor', '10000'));
    const detail = screen.getByTestId('order-detail');
    expect(within(detail).getByText('CN¥100.00')).toBeInTheDocument();
    expect(within(detail).getByText('Refunded outside Paydesk')).toBeInTheDocument();
    expect(within(detail).getByTestId('mirror-refund-row-MR-1')).toBeInTheDocument();
    expect(screen.queryByTestId('provider-view')).not.toBeInTheDocument();

    // "Check with the provider" asks the backend to query it.
    await user.click(screen.getByTestId('order-query-provider'));
    await screen.findByTestId('provider-view');
    expect(lastCall(calls, 'order_detail')?.args).toEqual({ key: 'ORD-1001', queryProvider: true });
    expect(screen.getByText('TRADE_SUCCESS')).toBeInTheDocument();
  });

  it('refuses an amount over the refundable one before sending, then sends a valid request', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup(makeDetail(), (a) =>
      makeRefund({
        amount: 3050,
        reason: String(a.reason),
        state: 'awaiting_approval',
        approval_reason: '30.50 CNY is over the support limit of 20.00 CNY per refund',
      }),
    );
    await searchAndOpen(user, 'ORD-1001');
    await user.click(screen.getByTestId('refund-open'));

    await waitFor(() => expect(screen.getByTestId('refund-limit')).toHaveTextContent('CN¥500.00'));
    expect(lastCall(calls, 'refund_limits')?.args).toEqual({});
    expect(screen.getByText(/wait until another user with approval rights approves them/)).toBeInTheDocument();

    const amount = screen.getByTestId('refund-amount');
    const reason = screen.getByTestId('refund-reason');
    await fill(user, amount, '150');
    await fill(user, reason, 'damaged');
    await user.click(screen.getByTestId('refund-submit'));
    expect(await screen.findByText('Amount: at most CN¥100.00 can be refunded on this order.')).toBeInTheDocument();

    await user.clear(amount);
    await fill(user, amount, '10.001');
    await user.click(screen.getByTestId('refund-submit'));
    expect(
      await screen.findByText('Amount: enter a number like 12.30, with at most 2 decimal places for CNY.'),
    ).toBeInTheDocument();

    await user.clear(amount);
    await fill(user, amount, '0');
    await user.click(screen.getByTestId('refund-submit'));
    expect(await screen.findByText('Amount: the refund must be more than zero.')).toBeInTheDocument();

    await user.clear(amount);
    await fill(user, amount, '30.5');
    await user.clear(reason);
    await user.click(screen.getByTestId('refund-submit'));
    expect(await screen.findByText('Reason: say why this order is refunded.')).toBeInTheDocument();
    expect(requests(calls)).toHaveLength(0);

    await fill(user, reason, 'damaged');
    await user.keyboard('{Enter}');
    const result = await screen.findByTestId('refund-result');
    expect(requests(calls)).toHaveLength(1);
    expect(requests(calls)[0].args).toEqual({
      order: 'ORD-1001',
      amount: '30.50',
      reason: 'damaged',
      account: 'alipay-main',
    });
    expect(result).toHaveAttribute('data-state', 'awaiting_approval');
    expect(result).toHaveTextContent('Above your limit: it waits for approval by another user before it is sent.');
    expect(result).toHaveTextContent('over the support limit');
    // The new refund is listed on the order.
    expect(await screen.findByTestId('refund-row-RF20260315AAAA1111')).toHaveAttribute('data-state', 'awaiting_approval');
  });

  it('the refund dialog follows the refund it sent until it succeeds', async () => {
    const user = userEvent.setup({ delay: null });
    const requested = makeRefund({ amount: 1000, state: 'requested' });
    setup(makeDetail(), () => requested);
    await searchAndOpen(user, 'ORD-1001');
    await user.click(screen.getByTestId('refund-open'));
    await fill(user, screen.getByTestId('refund-amount'), '10');
    await fill(user, screen.getByTestId('refund-reason'), 'damaged');
    await user.click(screen.getByTestId('refund-submit'));
    const result = await screen.findByTestId('refund-result');
    expect(result).toHaveAttribute('data-state', 'requested');

    // Another refund's news leaves the dialog alone; this one's moves it on.
    await act(async () => {
      await emit('refund-updated', makeRefund({ id: 99, refund_no: 'RF-OTHER', state: 'failed' }));
    });
    expect(screen.getByTestId('refund-result')).toHaveAttribute('data-state', 'requested');
    await act(async () => {
      await emit('refund-updated', { ...requested, state: 'sending' });
    });
    await waitFor(() => expect(screen.getByTestId('refund-result')).toHaveAttribute('data-state', 'sending'));
    await act(async () => {
      await emit('refund-updated', { ...requested, state: 'succeeded', updated_at: '2026-03-15T01:00:05Z' });
    });
    await waitFor(() => expect(screen.getByTestId('refund-result')).toHaveAttribute('data-state', 'succeeded'));
  });

  it('knows JPY has no decimals and fills the full amount', async () => {
    const user = userEvent.setup({ delay: null });
    const detail = makeDetail({
      order: makeOrder({ order_no: 'JP-77', provider: 'stripe', amount: 5000, currency: 'JPY' }),
      account: 'stripe-jp',
      refunded_outside_paydesk: 0,
      mirror_refunds: [],
      refundable: 5000,
    });
    const calls = setup(detail, (a) =>
      makeRefund({ order_no: 'JP-77', currency: 'JPY', amount: Number(a.amount), state: 'succeeded', refund_no: 'RFJP1' }),
    );
    await searchAndOpen(user, 'JP-77');
    await user.click(screen.getByTestId('refund-open'));
    // The support limit "500.00" applies as ¥500 to a JPY order.
    await waitFor(() => expect(screen.getByTestId('refund-limit')).toHaveTextContent('¥500'));

    const amount = screen.getByTestId('refund-amount');
    await fill(user, amount, '12.5');
    await fill(user, screen.getByTestId('refund-reason'), 'late delivery');
    await user.click(screen.getByTestId('refund-submit'));
    expect(await screen.findByText('Amount: JPY has no decimals; enter a whole number like 500.')).toBeInTheDocument();
    expect(requests(calls)).toHaveLength(0);

    await user.click(screen.getByTestId('refund-full'));
    expect(amount).toHaveValue('5000');
    await user.clear(amount);
    await fill(user, amount, '1200');
    await user.click(screen.getByTestId('refund-submit'));
    const result = await screen.findByTestId('refund-result');
    expect(requests(calls)[0].args).toEqual({ order: 'JP-77', amount: '1200', reason: 'late delivery', account: 'stripe-jp' });
    expect(result).toHaveAttribute('data-state', 'succeeded');
    expect(result).toHaveTextContent('Refund succeeded.');
  });

  it('shows the backend refusal inside the dialog', async () => {
    const user = userEvent.setup({ delay: null });
    setup(makeDetail(), () => {
      throw { kind: 'bad_input', message: 'refund of 90.00 CNY exceeds the refundable amount of 80.00 CNY' };
    });
    await searchAndOpen(user, 'ORD-1001');
    await user.click(screen.getByTestId('refund-open'));
    await fill(user, screen.getByTestId('refund-amount'), '90');
    await fill(user, screen.getByTestId('refund-reason'), 'duplicate');
    await user.click(screen.getByTestId('refund-submit'));
    const err = await screen.findByTestId('refund-error');
    expect(err).toHaveTextContent('exceeds the refundable amount of 80.00 CNY');
    expect(err).toHaveTextContent('Please check your input');
  });

  it('updates a refund row live on refund-updated', async () => {
    const user = userEvent.setup({ delay: null });
    const sending = makeRefund({ state: 'sending' });
    let current = makeDetail({ paydesk_refunds: [sending], in_flight: 3050, refundable: 6950 });
    const calls = fakeBackend({
      search_orders: () => [current.order],
      order_detail: () => current,
      refund_limits: () => LIMITS,
    });
    renderWithSession(<OrdersPage />, { me: SUPPORT });
    await searchAndOpen(user, 'ORD-1001');
    const row = await screen.findByTestId('refund-row-RF20260315AAAA1111');
    expect(row).toHaveAttribute('data-state', 'sending');
    expect(within(row).getByText('Sending')).toBeInTheDocument();

    const done = { ...sending, state: 'succeeded' as const, updated_at: '2026-03-15T01:00:05Z' };
    current = { ...current, paydesk_refunds: [done], in_flight: 0, refunded_by_paydesk: 3050 };
    await act(async () => {
      await emit('refund-updated', done);
    });
    await waitFor(() =>
      expect(screen.getByTestId('refund-row-RF20260315AAAA1111')).toHaveAttribute('data-state', 'succeeded'),
    );
    expect(within(screen.getByTestId('refund-row-RF20260315AAAA1111')).getByText('Succeeded')).toBeInTheDocument();
    // The amounts are re-read quietly (without asking the provider).
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'order_detail').length).toBe(2));
    expect(lastCall(calls, 'order_detail')?.args).toEqual({ key: 'ORD-1001', queryProvider: false });

    // Another order's refund does not touch this one.
    await act(async () => {
      await emit('refund-updated', makeRefund({ id: 99, refund_no: 'RF-OTHER', order_no: 'ORD-2', state: 'failed' }));
    });
    expect(screen.queryByTestId('refund-row-RF-OTHER')).not.toBeInTheDocument();
  });

  describe('while the search is empty', () => {
    const mineOld = makeRefund({ id: 1, refund_no: 'RF-MINE-1', order_no: 'ORD-1001', requested_by: SUPPORT.username, state: 'succeeded' });
    const theirs = makeRefund({ id: 2, refund_no: 'RF-TEAM-2', order_no: 'ORD-2002', requested_by: 'zhang.support', state: 'succeeded' });
    const mineNew = makeRefund({ id: 3, refund_no: 'RF-MINE-3', order_no: 'ORD-3003', requested_by: SUPPORT.username, state: 'sending' });

    function landing(refunds: RefundRecord[], me: Me = SUPPORT) {
      const calls = fakeBackend({
        // Not in order: the list sorts itself newest first.
        refunds: () => refunds,
        search_orders: (a) => [makeOrder({ order_no: String(a.text) })],
        order_detail: (a) => makeDetail({ order: makeOrder({ order_no: String(a.key) }) }),
        refund_limits: () => LIMITS,
      });
      renderWithSession(<OrdersPage />, { me });
      return calls;
    }

    const shownRefunds = (card: HTMLElement) =>
      within(card)
        .queryAllByTestId(/^recent-refund-RF/)
        .map((row) => row.getAttribute('data-testid')!.replace('recent-refund-RF-', ''));

    it('shows my recent refunds, newest first, then the team\'s, and follows them live', async () => {
      const user = userEvent.setup({ delay: null });
      const calls = landing([mineOld, theirs, mineNew]);
      const card = await screen.findByTestId('recent-refunds');
      expect(card).toHaveAttribute('data-whose', 'mine');
      await waitFor(() => expect(shownRefunds(card)).toEqual(['MINE-3', 'MINE-1']));
      expect(lastCall(calls, 'refunds')?.args).toEqual({ states: null, limit: 200 });
      const newest = screen.getByTestId('recent-refund-RF-MINE-3');
      expect(newest).toHaveAttribute('data-state', 'sending');
      expect(newest).toHaveTextContent('ORD-3003');
      expect(newest).toHaveTextContent('CN¥30.50');
      expect(newest).toHaveTextContent('Yours');
      expect(screen.queryByTestId('recent-refund-RF-TEAM-2')).toBeNull();

      await user.click(screen.getByTestId('recent-refunds-team'));
      await waitFor(() => expect(shownRefunds(card)).toEqual(['MINE-3', 'TEAM-2', 'MINE-1']));
      expect(card).toHaveAttribute('data-whose', 'team');
      expect(screen.getByTestId('recent-refund-RF-TEAM-2')).toHaveTextContent('zhang.support');
      expect(screen.getByTestId('recent-refund-RF-TEAM-2')).not.toHaveTextContent('Yours');

      // Live: the refund in flight succeeds, and a colleague's new one comes first.
      await act(async () => {
        await emit('refund-updated', { ...mineNew, state: 'succeeded', updated_at: '2026-03-15T01:00:05Z' });
        await emit('refund-updated', makeRefund({ id: 4, refund_no: 'RF-TEAM-4', requested_by: 'zhang.support', state: 'requested' }));
      });
      await waitFor(() => expect(screen.getByTestId('recent-refund-RF-MINE-3')).toHaveAttribute('data-state', 'succeeded'));
      expect(shownRefunds(card)).toEqual(['TEAM-4', 'MINE-3', 'TEAM-2', 'MINE-1']);

      // Mine again: only the signed-in user's.
      await user.click(screen.getByTestId('recent-refunds-mine'));
      await waitFor(() => expect(shownRefunds(card)).toEqual(['MINE-3', 'MINE-1']));
    });

    it('opens a refund\'s order the way a search does, and an emptied search comes back to the refunds', async () => {
      const user = userEvent.setup({ delay: null });
      const calls = landing([mineOld, mineNew]);
      await user.click(await screen.findByTestId('open-order-RF-MINE-1'));

      expect(await screen.findByTestId('order-row-ORD-1001')).toBeInTheDocument();
      const refundable = await screen.findByTestId('order-refundable');
      expect(refundable).toBeInTheDocument();
      expect(lastCall(calls, 'search_orders')?.args).toEqual({ text: 'ORD-1001', limit: 50 });
      expect(lastCall(calls, 'order_detail')?.args).toEqual({ key: 'ORD-1001', queryProvider: false });
      expect(calls.filter((c) => c.cmd === 'search_orders')).toHaveLength(1);
      expect(screen.getByTestId('order-search')).toHaveValue('ORD-1001');
      expect(screen.queryByTestId('recent-refunds')).toBeNull();

      // Emptying the box goes back to the refunds (read again).
      await user.clear(screen.getByTestId('order-search'));
      expect(await screen.findByTestId('recent-refunds')).toBeInTheDocument();
      expect(screen.queryByTestId('order-detail')).toBeNull();
      expect(screen.queryByTestId('order-row-ORD-1001')).toBeNull();
      await waitFor(() => expect(calls.filter((c) => c.cmd === 'refunds')).toHaveLength(2));

      // A click on the row opens its order too.
      await user.click(await screen.findByTestId('recent-refund-RF-MINE-3'));
      expect(await screen.findByTestId('order-row-ORD-3003')).toBeInTheDocument();
      expect(lastCall(calls, 'search_orders')?.args).toEqual({ text: 'ORD-3003', limit: 50 });
    });

    it('offers the team\'s when none is mine, and says when there are no refunds at all', async () => {
      const user = userEvent.setup({ delay: null });
      landing([theirs]);
      const empty = await screen.findByTestId('recent-refunds-empty');
      expect(empty).toHaveTextContent('None of the latest refunds was requested by you.');
      await user.click(screen.getByTestId('recent-refunds-show-team'));
      expect(await screen.findByTestId('recent-refund-RF-TEAM-2')).toBeInTheDocument();
      // The choice stays for the session.
      expect(window.sessionStorage.getItem(WHOSE_KEY)).toBe('team');

      cleanup();
      clearMocks();
      landing([]);
      expect(await screen.findByTestId('recent-refunds-empty')).toHaveTextContent('No refunds yet.');
      expect(screen.getByTestId('recent-refunds')).toHaveAttribute('data-whose', 'team');
    });

    it('shows the team\'s refunds, without Mine, to those who do not request refunds', async () => {
      landing([mineOld, theirs], { username: 'fin', roles: ['finance'], permissions: ['order_view'] });
      const card = await screen.findByTestId('recent-refunds');
      await waitFor(() => expect(shownRefunds(card)).toEqual(['TEAM-2', 'MINE-1']));
      expect(screen.queryByTestId('recent-refunds-whose')).toBeNull();
    });
  });

  it('hides the refund button from users who may not refund', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = fakeBackend({
      search_orders: () => [makeOrder()],
      order_detail: () => makeDetail(),
    });
    renderWithSession(<OrdersPage />, {
      me: { username: 'fin', roles: ['finance'], permissions: ['order_view'] },
    });
    await searchAndOpen(user, 'ORD-1001');
    expect(screen.queryByTestId('refund-open')).not.toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'refund_limits')).toBe(false);
  });
});
