import { afterEach, describe, expect, it } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { makeMe, renderWithSession } from '../../test-utils';
import type { AuditEntry, AuditVerification } from '../../types';
import { clearMocks, fakeBackend, fill, findReady, lastCall } from '../orders/fixtures';
import AuditPage, { prettyDetails } from './AuditPage';

afterEach(() => clearMocks());

function entry(seq: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    seq,
    at: '2026-03-15T01:00:00Z',
    actor: 'admin',
    action: 'login',
    target: 'user admin',
    outcome: 'ok',
    details: '{}',
    prev_hash: 'p'.repeat(64),
    hash: 'h'.repeat(64),
    ...over,
  };
}

const ENTRIES = [
  entry(120, { action: 'refund.approve', actor: 'wang.approver', target: 'refund 11', details: '{"note":"ok","refund_no":"RF-1"}' }),
  entry(119, { action: 'refund.approve', actor: 'li.support', target: 'refund 12', outcome: 'denied', details: '{"reason":"own request"}' }),
  entry(118, { action: 'login.failed', actor: 'mallory', outcome: 'failed' }),
];

function setup(verify: () => AuditVerification) {
  const calls = fakeBackend({
    audit_entries: (a) => ({
      total: 120,
      entries: a.action === 'refund.' ? ENTRIES.slice(0, 2) : ENTRIES,
    }),
    audit_verify: verify,
  });
  renderWithSession(<AuditPage />, { me: makeMe() });
  return calls;
}

describe('AuditPage', () => {
  it('pages on the server and filters by action and actor', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup(() => ({ entries: 0, head_seq: 0, head_hash: '', problems: [] }));
    const table = await screen.findByTestId('audit-table');
    await waitFor(() => expect(table).toHaveAttribute('data-total', '120'));
    expect(lastCall(calls, 'audit_entries')?.args).toEqual({ limit: 50, offset: 0, action: null, actor: null });
    expect(within(table).getByTestId('audit-row-119')).toHaveAttribute('data-outcome', 'denied');
    expect(within(table).getByTestId('audit-row-119')).toHaveTextContent('Denied');
    expect(within(table).getByTestId('audit-row-118')).toHaveTextContent('Failed');

    await u.click(within(table).getByTitle('2'));
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toEqual({ limit: 50, offset: 50, action: null, actor: null }),
    );

    await fill(u, screen.getByTestId('audit-filter-action'), 'refund.');
    await fill(u, screen.getByTestId('audit-filter-actor'), 'wang.approver');
    await u.keyboard('{Enter}');
    await waitFor(() =>
      expect(lastCall(calls, 'audit_entries')?.args).toEqual({
        limit: 50,
        offset: 0,
        action: 'refund.',
        actor: 'wang.approver',
      }),
    );
  });

  it('shows the details of an entry expanded as JSON', async () => {
    const u = userEvent.setup({ delay: null });
    setup(() => ({ entries: 0, head_seq: 0, head_hash: '', problems: [] }));
    const row = await screen.findByTestId('audit-row-120');
    await u.click(within(row).getByRole('button'));
    const details = await screen.findByTestId('audit-details-120');
    expect(details.textContent).toBe(prettyDetails('{"note":"ok","refund_no":"RF-1"}'));
    expect(details.textContent).toContain('"refund_no": "RF-1"');
  });

  it('verifies an intact chain', async () => {
    const u = userEvent.setup({ delay: null });
    const calls = setup(() => ({ entries: 120, head_seq: 120, head_hash: 'ab'.repeat(32), problems: [] }));
    await u.click(await findReady('audit-verify'));
    const result = await screen.findByTestId('audit-verify-result');
    expect(result).toHaveAttribute('data-ok', 'true');
    expect(result).toHaveTextContent('The audit chain is intact: 120 entries verified.');
    expect(lastCall(calls, 'audit_verify')?.args).toEqual({});
  });

  it('shows where a broken chain breaks', async () => {
    const u = userEvent.setup({ delay: null });
    setup(() => ({
      entries: 120,
      head_seq: 120,
      head_hash: 'cd'.repeat(32),
      problems: [
        { seq: 119, reason: 'hash mismatch: the entry was changed after it was written' },
        { seq: 120, reason: 'prev_hash does not match entry 119' },
      ],
    }));
    await u.click(await findReady('audit-verify'));
    const result = await screen.findByTestId('audit-verify-result');
    expect(result).toHaveAttribute('data-ok', 'false');
    expect(result).toHaveAttribute('data-break', '119');
    expect(result).toHaveTextContent('The audit chain is broken at entry #119 (2 problem(s)).');
    expect(within(result).getByTestId('audit-problem-119')).toHaveTextContent(
      'Entry #119: hash mismatch: the entry was changed after it was written',
    );
    // The broken rows are marked in the table.
    expect(within(screen.getByTestId('audit-row-119')).getByText('119')).toHaveClass('ant-tag-red');
  });
});
