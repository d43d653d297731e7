// Translated names for classes, review states and resolutions: the shared `common` strings
// when they exist, this screen's own namespace otherwise.
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import type { OutcomeClass, ResolutionKind, ReviewState } from '../../types';

export type LabelKind = 'class' | 'state' | 'resolution';

export function useLabel(): (kind: LabelKind, value: string) => string {
  const { t, i18n } = useTranslation('discrepancies');
  return useCallback(
    (kind: LabelKind, value: string) => {
      const shared = `common:${kind}.${value}`;
      if (i18n.exists(shared)) return t(shared);
      const own = `discrepancies:${kind}.${value}`;
      if (i18n.exists(own)) return t(own);
      return value;
    },
    // the language is part of i18n; re-create when it changes
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [t, i18n, i18n.language],
  );
}

export const CLASS_COLORS: Record<OutcomeClass, string> = {
  matched: 'green',
  provider_only: 'volcano',
  order_only: 'red',
  amount_mismatch: 'orange',
  currency_mismatch: 'magenta',
  status_mismatch: 'purple',
  duplicate_payment: 'red',
  refund_only_at_provider: 'gold',
  refund_only_local: 'gold',
  refund_amount_mismatch: 'orange',
  fee_variance: 'cyan',
  provider_adjustment: 'geekblue',
  timing_difference: 'default',
};

export const STATE_COLORS: Record<ReviewState, string> = {
  open: 'error',
  investigating: 'processing',
  resolved: 'success',
};

export const RESOLUTION_COLORS: Record<ResolutionKind, string> = {
  corrected_locally: 'blue',
  corrected_at_provider: 'blue',
  written_off: 'volcano',
  not_an_issue: 'default',
  auto_matched: 'green',
};
