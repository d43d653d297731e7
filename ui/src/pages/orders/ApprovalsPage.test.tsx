import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { emit } from '@tauri-apps/api/event';
import { renderWithSession } from '../../test-utils';
import type { RefundRecord } from '../../types';
import ApprovalsPage from './ApprovalsPage';
import { APPROVAL_POLL_MS } from '../../hooks/useApprovalQueue';
import { APPROVER, clearMocks, fakeBackend, fill, findReady, lastCall, makeRefund } from './fixtures';

afterEach(() => clearMocks());

const waiting = makeRefund({
  id: 11,
  refund_no: 'RF-WAIT-11',
  order_no: 'ORD-2001',
  amount: 80000,
  order_total: 100000,
  state: 'awaiting_approval',
  requested_by: 'li.support',
  reason: 'customer returned the goods',
  approval_reason: '800.00 CNY is over the support limit of 500.00 CNY per refund',
  requested_at: new Date(Date.now() - 3 * 3600_000).toISOString(),
});
const mine = makeRefund({
  id: 12,
  refund_no: 'RF-MINE-12',
  order_no: 'ORD-2002',
  amount: 60000,
  state: 'awaiting_approval',
  requested_by: 'wang.approver',
  reason: 'goodwill',
});
const done = makeRefund({ id: 5, refund_no: 'RF-DONE-5', state: 'succeeded' });

function setup(decide: (a: Record<string, unknown>) => RefundRecord) {
  const calls = fakeBackend({
    refunds: (a) => (a.states === null ? [waiting, mine, done] : [waiting, mine]),
    decide_refund: (a) => decide(a),
    refund_detail: (a) => ({
      refund: [waiting, mine, done].find((r) => r.id === a.id),
      events: [{ at: '2026-03-15T01:00:00Z', actor: 'li.support', from_state: null, to_state: 'awaiting_approval', note: null }],
    }),
  });
  renderWithSession(<ApprovalsPage />, { me: APPROVER });
  return calls;
}

describe('ApprovalsPage', () => {
  it('lists the queue and the recent refunds', async () => {
    const calls = setup(() => waiting);
    const approve = await screen.findByTestId('approve-11');
    expect(approve).toBeInTheDocument();
    expect(screen.getByTestId('reject-11')).toBeInTheDocument();
    const queueRow = screen.getByTestId('queue-row-11');
    expect(queueRow).toHaveTextContent('li.support');
    expect(queueRow).toHaveTextContent('ORD-2001');
    expect(queueRow).toHaveTextContent('CN¥800.00');
    expect(queueRow).toHaveTextContent('customer returned the goods');
    expect(queueRow).toHaveTextContent('3 h');
    expect(screen.getByTestId('queue-row-12')).toHaveTextContent('Yours');
    expect(screen.getByTestId('approval-row-5')).toHaveAttribute('data-state', 'succeeded');
    expect(screen.getByTestId('approval-row-11')).toHaveAttribute('data-state', 'awaiting_approval');
    const refundCalls = calls.filter((c) => c.cmd === 'refunds').map((c) => c.args);
    expect(refundCalls).toContainEqual({ states: ['awaiting_approval'], limit: 500 });
    expect(refundCalls).toContainEqual({ states: null, limit: 200 });
  });

  it('approves with a note through decide_refund and moves the refund out of the queue', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup((a) => ({
      ...waiting,
      state: 'requested',
      decided_by: 'wang.approver',
      decision_note: String(a.note),
      updated_at: new Date().toISOString(),
    }));
    await user.click(await findReady('approve-11'));
    expect(await screen.findByText('Approve refund RF-WAIT-11 of CN¥800.00?')).toBeInTheDocument();
    await fill(user, screen.getByTestId('approval-note'), 'checked the return slip');
    await user.click(screen.getByTestId('approval-confirm'));

    await waitFor(() => expect(screen.queryByTestId('queue-row-11')).not.toBeInTheDocument());
    expect(lastCall(calls, 'decide_refund')?.args).toEqual({ id: 11, approve: true, note: 'checked the return slip' });
    expect(screen.getByTestId('approval-row-11')).toHaveAttribute('data-state', 'requested');
  });

  it('rejects without a note as null', async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup(() => ({ ...waiting, state: 'rejected', updated_at: new Date().toISOString() }));
    await user.click(await findReady('reject-11'));
    await user.click(await screen.findByTestId('approval-confirm'));
    await waitFor(() => expect(lastCall(calls, 'decide_refund')?.args).toEqual({ id: 11, approve: false, note: null }));
    await waitFor(() => expect(screen.getByTestId('approval-row-11')).toHaveAttribute('data-state', 'rejected'));
  });

  it("offers no decision on one's own request, with the reason", async () => {
    const user = userEvent.setup({ delay: null });
    const calls = setup(() => mine);
    await findReady('approve-11');
    expect(screen.getByTestId('approve-12')).toBeDisabled();
    expect(screen.getByTestId('reject-12')).toBeDisabled();
    expect(screen.getByTestId('approve-11')).toBeEnabled();
    await user.hover(screen.getByTestId('approve-12').parentElement as HTMLElement);
    expect(await screen.findByText('You requested this refund: another approver decides on it.')).toBeInTheDocument();
    expect(calls.some((c) => c.cmd === 'decide_refund')).toBe(false);
  });

  it("shows the backend's refusal in the dialog", async () => {
    const user = userEvent.setup({ delay: null });
    setup(() => {
      throw {
        kind: 'bad_input',
        message: 'refund 11 was decided meanwhile by zhao.approver (approved)',
      };
    });
    await user.click(await findReady('approve-11'));
    await user.click(await screen.findByTestId('approval-confirm'));
    const err = await screen.findByTestId('approval-error');
    expect(err).toHaveTextContent('refund 11 was decided meanwhile by zhao.approver');
    // Still listed as waiting.
    expect(screen.getByTestId('queue-row-11')).toBeInTheDocument();
  });

  it('shows a request made in another console or from the command line without a reload', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const fresh = makeRefund({ id: 21, refund_no: 'RF-CLI-21', state: 'awaiting_approval', requested_by: 'zhao.support' });
      let queue = [waiting];
      fakeBackend({ refunds: (a) => (a.states === null ? [...queue, done] : queue) });
      renderWithSession(<ApprovalsPage />, { me: APPROVER });
      await screen.findByTestId('queue-row-11');
      expect(screen.queryByTestId('queue-row-21')).toBeNull();
      queue = [waiting, fresh];
      await act(async () => {
        await vi.advanceTimersByTimeAsync(APPROVAL_POLL_MS + 100);
      });
      expect(await screen.findByTestId('queue-row-21')).toHaveTextContent('zhao.support');
    } finally {
      vi.useRealTimers();
    }
  });

  it('follows refund-updated events live', async () => {
    setup(() => waiting);
    await screen.findByTestId('approval-row-5');
    await act(async () => {
      await emit('refund-updated', { ...waiting, state: 'succeeded', updated_at: new Date().toISOString() });
    });
    await waitFor(() => expect(screen.getByTestId('approval-row-11')).toHaveAttribute('data-state', 'succeeded'));
    expect(screen.queryByTestId('queue-row-11')).not.toBeInTheDocument();
    expect(within(screen.getByTestId('approval-row-11')).getByText('Succeeded')).toBeInTheDocument();

    // A new refund waiting for approval appears in the queue and the list.
    const fresh = makeRefund({ id: 30, refund_no: 'RF-NEW-30', state: 'awaiting_approval', requested_by: 'zhao.support' });
    await act(async () => {
      await emit('refund-updated', fresh);
    });
    expect(await screen.findByTestId('queue-row-30')).toBeInTheDocument();
    expect(screen.getByTestId('approval-row-30')).toHaveAttribute('data-state', 'awaiting_approval');
  });
});
