import { afterEach, describe, expect, it } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { emit } from '@tauri-apps/api/event';
import { renderWithSession } from '../../test-utils';
import type { OrderDetail, RefundRecord } from '../../types';
import OrdersPage from './OrdersPage';
import { clearMocks, fakeBackend, fill, lastCall, makeDetail, makeOrder, makeRefund, SUPPORT } from './fixtures';
import type { RecordedCall } from './fixtures';

afterEach(() => clearMocks());

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

  it('lands on the recent refunds, the team\'s or only mine, and opens one\'s order', async () => {
    const user = userEvent.setup({ delay: null });
    const mine = makeRefund({ id: 1, refund_no: 'RF-MINE', order_no: 'ORD-1001', requested_by: SUPPORT.username, state: 'sending' });
    const theirs = makeRefund({ id: 2, refund_no: 'RF-TEAM', order_no: 'ORD-2002', requested_by: 'zhang.support', state: 'succeeded' });
    const calls = fakeBackend({
      refunds: () => [mine, theirs],
      order_detail: () => makeDetail(),
      refund_limits: () => LIMITS,
    });
    renderWithSession(<OrdersPage />, { me: SUPPORT });
    const recent = await screen.findByTestId('recent-refunds');
    expect(await within(recent).findByTestId('recent-refund-RF-TEAM')).toHaveTextContent('zhang.support');
    expect(within(recent).getByTestId('recent-refund-RF-MINE')).toHaveTextContent('You');
    expect(lastCall(calls, 'refunds')?.args).toEqual({ states: null, limit: 30 });

    // Live: the refund in flight succeeds.
    await act(async () => {
      await emit('refund-updated', { ...mine, state: 'succeeded', updated_at: '2026-03-15T01:00:05Z' });
    });
    await waitFor(() => expect(within(screen.getByTestId('recent-refund-RF-MINE')).getByText('Succeeded')).toBeInTheDocument());

    await user.click(within(recent).getByText('Mine'));
    await waitFor(() => expect(screen.queryByTestId('recent-refund-RF-TEAM')).toBeNull());
    await user.click(screen.getByTestId('recent-refund-RF-MINE'));
    await waitFor(() => expect(lastCall(calls, 'order_detail')?.args).toEqual({ key: 'ORD-1001', queryProvider: false }));
    expect(screen.queryByTestId('recent-refunds')).toBeNull();
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
