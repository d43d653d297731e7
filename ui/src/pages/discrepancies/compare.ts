// Side-by-side rows of our order and the provider's statement line for the detail pane.
import type { DiscrepancyDetail, Lang } from '../../types';
import { currencyExponent, formatDateTime, formatMoney } from '../../format';

export type CompareField =
  | 'order_no'
  | 'txn_id'
  | 'amount'
  | 'currency'
  | 'status'
  | 'time'
  | 'kind'
  | 'fee'
  | 'net';

export interface CompareRow {
  field: CompareField;
  ours: string | null;
  theirs: string | null;
  differs: boolean;
}

/** Fee in thousandths of a minor unit rounded to minor units, half away from zero. */
export function milliToMinor(milli: number): number {
  const q = Math.trunc(milli / 1000);
  const r = milli - q * 1000;
  if (Math.abs(r) >= 500) return q + Math.sign(milli);
  return q;
}

/** Exact decimal text of a fee in thousandths of a minor unit ("0.01234" for 1234 milli-fen). */
export function milliToDecimalString(milli: number, currency: string): string {
  const exp = currencyExponent(currency) + 3;
  const neg = milli < 0;
  const digits = String(Math.abs(Math.trunc(milli))).padStart(exp + 1, '0');
  const int = digits.slice(0, digits.length - exp);
  const frac = digits.slice(digits.length - exp).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

export function formatFee(milli: number, currency: string, lang: Lang): string {
  const rounded = formatMoney(milliToMinor(milli), currency, lang);
  if (milli % 1000 === 0) return rounded;
  return `${rounded} (${milliToDecimalString(milli, currency)})`;
}

interface Labels {
  orderStatus: (status: string) => string;
  lineKind: (kind: string) => string;
}

/**
 * The rows shown in the comparison. A field is marked as differing only when both sides
 * exist and disagree (a missing side is shown as such, not as a difference in every row).
 */
export function compareRows(d: DiscrepancyDetail, lang: Lang, labels: Labels): CompareRow[] {
  const o = d.order;
  const l = d.statement_line;
  const both = o !== null && l !== null;
  const cls = d.record.class;
  const rows: CompareRow[] = [];

  rows.push({
    field: 'order_no',
    ours: o ? o.order_no : null,
    theirs: l ? l.merchant_order_no : null,
    differs: both && l.merchant_order_no !== null && l.merchant_order_no !== o.order_no,
  });
  rows.push({
    field: 'txn_id',
    ours: o ? o.provider_txn_id : null,
    theirs: l ? l.provider_txn_id : null,
    differs: both && o.provider_txn_id !== null && o.provider_txn_id !== l.provider_txn_id,
  });
  rows.push({
    field: 'amount',
    ours: o ? formatMoney(o.amount, o.currency, lang) : null,
    theirs: l ? formatMoney(l.gross, l.currency, lang) : null,
    differs: both && (o.currency !== l.currency || (l.kind === 'payment' && o.amount !== l.gross)),
  });
  rows.push({
    field: 'currency',
    ours: o ? o.currency : null,
    theirs: l ? l.currency : null,
    differs: both && o.currency !== l.currency,
  });
  rows.push({
    field: 'status',
    ours: o ? labels.orderStatus(o.status) : null,
    theirs: l ? l.provider_status : null,
    differs: both && cls === 'status_mismatch',
  });
  rows.push({
    field: 'time',
    ours: o ? formatDateTime(o.paid_at ?? o.created_at, lang) : null,
    theirs: l ? formatDateTime(l.provider_time, lang) : null,
    differs: both && cls === 'timing_difference',
  });
  rows.push({
    field: 'kind',
    ours: null,
    theirs: l ? labels.lineKind(l.kind) : null,
    differs: false,
  });
  rows.push({
    field: 'fee',
    ours: null,
    theirs: l ? formatFee(l.fee_milli, l.currency, lang) : null,
    differs: both && cls === 'fee_variance',
  });
  rows.push({
    field: 'net',
    ours: null,
    theirs: l ? formatMoney(l.net, l.currency, lang) : null,
    differs: false,
  });
  return rows;
}
