// A fake backend for the Discrepancies tests: answers the commands from API.md.
import type { DiscrepancyDetail, DiscrepancyRecord, Filter, HistoryEntry, Order, PageCursor, StatementLine } from '../../types';

export function makeRecord(i: number, over: Partial<DiscrepancyRecord> = {}): DiscrepancyRecord {
  const id = i + 1;
  return {
    id,
    account: 'alipay-main',
    provider: 'alipay',
    bill_date: '2026-03-14',
    key: `k${id}`,
    class: 'amount_mismatch',
    rule: 'merchant_order_no',
    order_no: `ORD-${id}`,
    provider_txn_id: `2026031422001${id}`,
    refund_no: null,
    currency: 'CNY',
    provider_amount: 9900,
    local_amount: 10000,
    difference: -100,
    provider_currency: 'CNY',
    local_currency: 'CNY',
    amount_at_stake: 100,
    provider_time: '2026-03-14T02:00:00Z',
    local_time: '2026-03-14T01:59:00Z',
    evidence_file: 'alipay-2026-03-14.csv',
    evidence_line: id + 5,
    explanation: 'Both sides have the payment, but the amounts differ.',
    explanation_zh: '双方都有这笔支付，但金额不同。',
    state: 'open',
    resolution: null,
    note: null,
    assignee: null,
    due_at: '2999-01-01T00:00:00Z',
    created_at: '2026-03-15T01:00:00Z',
    updated_at: '2026-03-15T01:00:00Z',
    first_run_id: 1,
    last_run_id: 1,
    present: true,
    ...over,
  };
}

export function makeOrder(over: Partial<Order> = {}): Order {
  return {
    order_no: 'ORD-1',
    provider: 'alipay',
    provider_txn_id: '20260314220011',
    amount: 10000,
    currency: 'CNY',
    status: 'paid',
    created_at: '2026-03-14T01:58:00Z',
    paid_at: '2026-03-14T01:59:00Z',
    customer_ref: null,
    ...over,
  };
}

export function makeLine(over: Partial<StatementLine> = {}): StatementLine {
  return {
    provider: 'alipay',
    account: 'alipay-main',
    provider_txn_id: '20260314220011',
    merchant_order_no: 'ORD-1',
    kind: 'payment',
    gross: 9900,
    fee_milli: 59400,
    net: 9841,
    currency: 'CNY',
    provider_time: '2026-03-14T02:00:00Z',
    provider_refund_id: null,
    merchant_refund_no: null,
    provider_status: 'TRADE_SUCCESS',
    source: { file: 'alipay-2026-03-14.csv', line: 6 },
    fee_base: null,
    payment_intent_id: null,
    presentment: null,
    ...over,
  };
}

export interface FakeBackend {
  total: number;
  /** The records as each undoable change found them, by undo id (the fake's undo puts them back). */
  undo: Map<number, DiscrepancyRecord[]>;
  handle: (cmd: string, args?: Record<string, unknown>) => Promise<unknown>;
  history: HistoryEntry[];
  detail?: (id: number) => DiscrepancyDetail;
  overrides: Record<string, (args?: Record<string, unknown>) => unknown>;
}

/** list_discrepancies answers `total` records (generated on the fly), whatever the filter. */
export function fakeBackend(total: number): FakeBackend {
  const changed = new Map<number, DiscrepancyRecord>();
  const current = (id: number) => changed.get(id) ?? makeRecord(id - 1);
  let nextUndo = 41;
  const be: FakeBackend = {
    total,
    undo: new Map(),
    history: [],
    overrides: {},
    handle: async (cmd, args) => {
      if (be.overrides[cmd]) return be.overrides[cmd](args);
      switch (cmd) {
        case 'reviewers':
          return ['alice', 'bob'];
        case 'list_discrepancies': {
          const limit = args?.limit as number;
          const f = args?.filter as Filter;
          const n = f.text ? Math.min(be.total, 3) : be.total;
          // Row i has id i + 1 and sort key i; a cursor names a row by them.
          const after = args?.after as PageCursor | undefined;
          const before = args?.before as PageCursor | undefined;
          let start = args?.offset as number;
          let end = start + limit;
          if (after) [start, end] = [after.id, after.id + limit];
          if (before) [start, end] = [Math.max(0, before.id - 1 - limit), before.id - 1];
          const out: DiscrepancyRecord[] = [];
          for (let i = start; i < Math.min(n, end); i++) out.push(changed.get(i + 1) ?? makeRecord(i));
          const cursor = (r: DiscrepancyRecord | undefined) => (r ? { key: r.id - 1, id: r.id } : null);
          return { total: n, discrepancies: out, first: cursor(out[0]), last: cursor(out[out.length - 1]) };
        }
        case 'discrepancy_totals': {
          // Two currencies: never added together, the larger amount first. Every generated
          // record is an amount mismatch: a filter of other classes only has none.
          const f = args?.filter as Filter;
          const classes = f.classes ?? [];
          if (classes.length > 0 && !classes.includes('amount_mismatch')) return [];
          const n = f.text ? Math.min(be.total, 3) : be.total;
          return [
            { currency: 'CNY', count: n - Math.floor(n / 4), at_stake: 123_456_78 },
            { currency: 'USD', count: Math.floor(n / 4), at_stake: 987_65 },
          ];
        }
        case 'discrepancy_detail': {
          const id = args?.id as number;
          if (be.detail) return be.detail(id);
          return {
            record: changed.get(id) ?? makeRecord(id - 1),
            history: be.history,
            order: makeOrder({ order_no: `ORD-${id}` }),
            statement_line: makeLine({ merchant_order_no: `ORD-${id}` }),
          };
        }
        case 'update_discrepancy': {
          const id = args?.id as number;
          const change = args?.change as Partial<DiscrepancyRecord>;
          const undoId = nextUndo++;
          be.undo.set(undoId, [current(id)]);
          const rec = { ...current(id), ...change };
          changed.set(id, rec);
          return { record: rec, undo_id: undoId };
        }
        case 'bulk_update_discrepancies':
          return { updated: args?.expected, undo_id: nextUndo++ };
        case 'bulk_update_discrepancies_by_ids': {
          const ids = args?.ids as number[];
          const change = args?.change as Partial<DiscrepancyRecord>;
          const undoId = nextUndo++;
          be.undo.set(undoId, ids.map(current));
          for (const id of ids) changed.set(id, { ...current(id), ...change });
          return { updated: ids.length, undo_id: undoId };
        }
        case 'undo_review_change': {
          const before = be.undo.get(args?.undoId as number);
          if (!before) throw { kind: 'bad_input', code: 'not_found', message: 'no review change to undo' };
          be.undo.delete(args?.undoId as number);
          for (const r of before) changed.set(r.id, r);
          return { restored: before.map((r) => r.id), skipped: [] };
        }
        case 'export_discrepancies':
          return { path: `/ws/exports/discrepancies.${args?.format}`, rows: be.total };
        default:
          throw { kind: 'bad_input', message: `unexpected command ${cmd}` };
      }
    },
  };
  return be;
}

/** The API filter of the page's default form (what `toApiFilter(DEFAULT_FORM)` gives). */
export const DEFAULT_FILTER: Filter = {
  account: null,
  provider: null,
  date_from: null,
  date_to: null,
  classes: [],
  states: ['open', 'investigating'],
  assignee: null,
  min_abs_difference: null,
  run_id: null,
  text: null,
  include_gone: false,
};
