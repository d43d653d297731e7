// Pure helpers of the Settlements screen: payouts grouped by day, per-currency sums, the
// class names in the UI's language, the balance chart's option.
import type { EChartsOption } from '../../components/Chart';
import { formatMoney, minorToMajorNumber } from '../../format';
import type { Arrival, BalanceDay, FindingOut, Lang, PayoutOut } from '../../types';

/** antd Tag colours of the arrival states. */
export const ARRIVAL_COLOR: Record<Arrival, string> = {
  arrived: 'success',
  suggested: 'processing',
  in_transit: 'gold',
  not_arrived: 'error',
  not_expected: 'default',
};

export interface PayoutDay {
  date: string;
  payouts: PayoutOut[];
  /** Sum of the day's payouts per currency (minor units). */
  totals: Record<string, number>;
}

/** Payouts by expected arrival day, newest day first; inside a day by account, then id. */
export function groupByDay(payouts: PayoutOut[]): PayoutDay[] {
  const byDay = new Map<string, PayoutOut[]>();
  for (const p of payouts) {
    const list = byDay.get(p.payout.arrival_date) ?? [];
    list.push(p);
    byDay.set(p.payout.arrival_date, list);
  }
  return Array.from(byDay.entries())
    .sort(([a], [b]) => b.localeCompare(a))
    .map(([date, list]) => {
      const sorted = [...list].sort(
        (a, b) => a.payout.account.localeCompare(b.payout.account) || a.id - b.id,
      );
      return { date, payouts: sorted, totals: sumByCurrency(sorted.map((p) => [p.payout.currency, p.payout.amount])) };
    });
}

/** Integer sums per currency code. */
export function sumByCurrency(items: [string, number][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, v] of items) out[c] = (out[c] ?? 0) + v;
  return out;
}

/** "CN¥1,234.00 · US$12.00" */
export function formatTotals(totals: Record<string, number>, lang: Lang): string {
  return Object.entries(totals)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, v]) => formatMoney(v, c, lang))
    .join(' · ');
}

/** A finding's class name and explanation in the UI's language (the backend sends both). */
export function findingText(f: FindingOut, lang: Lang): { name: string; explain: string } {
  return lang === 'zh' ? { name: f.class_zh, explain: f.explain_zh } : { name: f.class_en, explain: f.explain_en };
}

/**
 * One line per provider account (and currency): the closing balance of each day, in major
 * units (chart only); a day without a stated balance is a gap.
 */
export function balanceChartOption(balances: BalanceDay[], lang: Lang, closingLabel: string): EChartsOption {
  const dates = Array.from(new Set(balances.map((b) => b.date))).sort();
  const seriesKeys = Array.from(new Set(balances.map((b) => `${b.account} (${b.currency})`))).sort();
  const series = seriesKeys.map((key) => {
    const byDate = new Map<string, BalanceDay>();
    for (const b of balances) if (`${b.account} (${b.currency})` === key) byDate.set(b.date, b);
    return {
      name: key,
      type: 'line' as const,
      connectNulls: false,
      symbolSize: 5,
      data: dates.map((d) => {
        const b = byDate.get(d);
        return b && b.closing !== null ? minorToMajorNumber(b.closing, b.currency) : null;
      }),
    };
  });
  const currencyOf = new Map(balances.map((b) => [`${b.account} (${b.currency})`, b.currency]));
  return {
    animation: false,
    legend: { top: 0, type: 'scroll' },
    grid: { left: 16, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      formatter: (params: unknown) => {
        const list = (Array.isArray(params) ? params : [params]) as { seriesName?: string; axisValue?: string; dataIndex?: number }[];
        const date = list[0]?.axisValue ?? '';
        const lines = list.map((p) => {
          const b = balances.find((x) => `${x.account} (${x.currency})` === p.seriesName && x.date === date);
          const value = b && b.closing !== null ? formatMoney(b.closing, currencyOf.get(p.seriesName ?? '') ?? b.currency, lang) : '—';
          return `${p.seriesName}: ${value}`;
        });
        return [`${date} · ${closingLabel}`, ...lines].join('<br/>');
      },
    },
    xAxis: { type: 'category', data: dates.map((d) => d.slice(5)) },
    yAxis: { type: 'value', scale: true },
    series,
  };
}
