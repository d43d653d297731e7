import { beforeEach, describe, expect, it, vi } from 'vitest';
import { call } from './api';
import * as commands from './commands';

vi.mock('./api', async (importOriginal) => {
  const orig = await importOriginal<typeof import('./api')>();
  return { ...orig, call: vi.fn(() => Promise.resolve(null)) };
});

const mockedCall = vi.mocked(call);

describe('commands', () => {
  beforeEach(() => mockedCall.mockClear());

  it('passes the argument keys the backend takes (camelCase where Tauri maps them)', async () => {
    await commands.orderDetail('O-1', true);
    await commands.keysActivate('acct', 'stripe_secret_key', 2, 24);
    await commands.keysRetire('acct', 'stripe_secret_key', 1, 0);
    await commands.startReconcile(null, '2024-01-02');
    await commands.requestRefund('O-1', '1.00', 'dup', null);
    await commands.refunds(['awaiting_approval'], 50);
    await commands.cancelReconcile();
    await commands.settlementRun('cmb-main', '2026-03-14', true);
    await commands.settlementLinks('cmb-main', 'suggested');
    await commands.settlementDecide(21, false, 'not these');
    await commands.bankImport('cmb-main', '/tmp/s.xml');
    await commands.fundflowImport('alipay-main', '/tmp/f.csv');
    expect(mockedCall.mock.calls).toEqual([
      ['order_detail', { key: 'O-1', queryProvider: true }],
      ['keys_activate', { account: 'acct', purpose: 'stripe_secret_key', version: 2, graceHours: 24 }],
      ['keys_retire', { account: 'acct', purpose: 'stripe_secret_key', version: 1, graceHours: 0 }],
      ['start_reconcile', { accounts: null, date: '2024-01-02' }],
      ['request_refund', { order: 'O-1', amount: '1.00', reason: 'dup', account: null }],
      ['refunds', { states: ['awaiting_approval'], limit: 50 }],
      ['cancel_reconcile'],
      ['settlement_run', { bank: 'cmb-main', date: '2026-03-14', dryRun: true }],
      ['settlement_links', { bank: 'cmb-main', linkState: 'suggested' }],
      ['settlement_decide', { id: 21, accept: false, note: 'not these' }],
      ['bank_import', { bank: 'cmb-main', path: '/tmp/s.xml' }],
      ['fundflow_import', { account: 'alipay-main', path: '/tmp/f.csv' }],
    ]);
  });

  it('sends the chosen ids and the undo id as the review commands take them', async () => {
    await commands.bulkUpdateDiscrepanciesByIds([3, 5], { state: 'investigating' });
    await commands.undoReviewChange(12);
    expect(mockedCall.mock.calls).toEqual([
      ['bulk_update_discrepancies_by_ids', { ids: [3, 5], change: { state: 'investigating' } }],
      ['undo_review_change', { undoId: 12 }],
    ]);
  });
});
