// Test fixtures and a recording fake backend for the orders/keys/admin page tests.
import { expect } from 'vitest';
import { configure, screen, waitFor } from '@testing-library/react';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { Me, Order, OrderDetail, RefundRecord } from '../../types';

// antd pages render slowly in jsdom on a busy machine; give findBy*/waitFor more time.
configure({ asyncUtilTimeout: 5000 });

export interface RecordedCall {
  cmd: string;
  args: Record<string, unknown>;
}

export type Handler = (args: Record<string, unknown>, calls: RecordedCall[]) => unknown;

/**
 * Installs mockIPC (with events) answering from `handlers`; a handler may throw an AppError
 * ({kind, message}) to reject. Unknown commands reject with `io`. Returns the call log.
 */
export function fakeBackend(handlers: Record<string, Handler>): RecordedCall[] {
  const calls: RecordedCall[] = [];
  mockIPC(
    async (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      const h = handlers[cmd];
      if (!h) throw { kind: 'io', message: `unexpected command ${cmd}` };
      return h(a, calls);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

export { clearMocks };

/** The commands called, in order, leaving out the ones in `ignore`. */
export function commands(calls: RecordedCall[], ignore: string[] = []): string[] {
  return calls.map((c) => c.cmd).filter((c) => !ignore.includes(c));
}

export function lastCall(calls: RecordedCall[], cmd: string): RecordedCall | undefined {
  return [...calls].reverse().find((c) => c.cmd === cmd);
}

export const SUPPORT: Me = { username: 'li.support', roles: ['support'], permissions: ['order_view', 'refund_request'] };
export const APPROVER: Me = {
  username: 'wang.approver',
  roles: ['approver'],
  permissions: ['order_view', 'refund_approve'],
};

export function makeOrder(over: Partial<Order> = {}): Order {
  return {
    order_no: 'ORD-1001',
    provider: 'alipay',
    provider_txn_id: '2026031422001400001',
    amount: 12000,
    currency: 'CNY',
    status: 'paid',
    created_at: '2026-03-14T02:00:00Z',
    paid_at: '2026-03-14T02:01:00Z',
    customer_ref: 'li.na@example.com',
    ...over,
  };
}

export function makeRefund(over: Partial<RefundRecord> = {}): RefundRecord {
  return {
    id: 7,
    refund_no: 'RF20260315AAAA1111',
    provider: 'alipay',
    account: 'alipay-main',
    order_no: 'ORD-1001',
    provider_txn_id: '2026031422001400001',
    order_total: 12000,
    amount: 3050,
    currency: 'CNY',
    reason: 'damaged',
    state: 'sending',
    requested_by: 'li.support',
    requested_at: '2026-03-15T01:00:00Z',
    approval_reason: null,
    decided_by: null,
    decided_at: null,
    decision_note: null,
    provider_refund_id: null,
    provider_status: null,
    failure_reason: null,
    attempts: 1,
    last_error: null,
    refunded_at: null,
    updated_at: '2026-03-15T01:00:00Z',
    ...over,
  };
}

export function makeDetail(over: Partial<OrderDetail> = {}): OrderDetail {
  const order = over.order ?? makeOrder();
  return {
    order,
    account: 'alipay-main',
    paid: order.amount,
    currency: order.currency,
    mirror_refunds: [
      {
        refund_no: 'MR-1',
        order_no: order.order_no,
        provider: order.provider,
        amount: 2000,
        currency: order.currency,
        refunded_at: '2026-03-14T05:00:00Z',
        provider_refund_id: 'P-1',
        origin: 'mirror',
      },
    ],
    paydesk_refunds: [],
    refunded_outside_paydesk: 2000,
    refunded_by_paydesk: 0,
    in_flight: 0,
    refundable: order.amount - 2000,
    provider_payment: null,
    provider_refunds: [],
    ...over,
  };
}

/** Replaces an input's text in one step (much faster than typing key by key under antd). */
export async function fill(
  user: { clear(el: Element): Promise<void>; click(el: Element): Promise<void>; paste(t: string): Promise<void> },
  el: HTMLElement,
  text: string,
): Promise<void> {
  await user.clear(el);
  if (text !== '') {
    await user.click(el);
    await user.paste(text);
  }
}

/** Finds an element by test id once no antd loading overlay (which blocks clicks) is left. */
export async function findReady(testId: string): Promise<HTMLElement> {
  const el = await screen.findByTestId(testId);
  await waitFor(() => expect(document.querySelector('.ant-spin-blur')).toBeNull());
  return el;
}
