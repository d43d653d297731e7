// Amounts of a discrepancy, each in its own currency: the provider's amount in the provider's
// currency, ours in ours, and no difference at all between two currencies.
import { Tooltip } from 'antd';
import { useTranslation } from 'react-i18next';
import { formatMoney } from '../../format';
import type { DiscrepancyRecord, Lang } from '../../types';

type Amounts = Pick<
  DiscrepancyRecord,
  'currency' | 'provider_currency' | 'local_currency' | 'provider_amount' | 'local_amount' | 'difference'
>;

export function providerCurrency(r: Amounts): string {
  return r.provider_currency ?? r.currency;
}

export function localCurrency(r: Amounts): string {
  return r.local_currency ?? r.currency;
}

/** False when both sides have a currency and they differ (the stored difference is 0). */
export function isComparable(r: Amounts): boolean {
  return !(r.provider_currency && r.local_currency && r.provider_currency !== r.local_currency);
}

export function providerAmountText(r: Amounts, lang: Lang): string {
  return r.provider_amount === null ? '—' : formatMoney(r.provider_amount, providerCurrency(r), lang);
}

export function localAmountText(r: Amounts, lang: Lang): string {
  return r.local_amount === null ? '—' : formatMoney(r.local_amount, localCurrency(r), lang);
}

/** The difference, or "Not comparable" (with the two currencies on hover). */
export function Difference({ record, lang }: { record: Amounts; lang: Lang }) {
  const { t } = useTranslation('discrepancies');
  if (!isComparable(record)) {
    return (
      <Tooltip
        title={t('table.not_comparable_hint', {
          provider: providerCurrency(record),
          local: localCurrency(record),
        })}
      >
        <span className="disc-diff disc-not-comparable" data-comparable="false">
          {t('table.not_comparable')}
        </span>
      </Tooltip>
    );
  }
  return (
    <span className={record.difference !== 0 ? 'disc-diff disc-diff-nonzero' : 'disc-diff'} data-comparable="true">
      {formatMoney(record.difference, record.currency, lang)}
    </span>
  );
}
