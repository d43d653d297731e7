// The filter bar. Selects, dates and the checkbox apply at once; the text applies on Enter,
// the minimum amount on Enter or when leaving the field. Memoized: moving through rows with
// the arrow keys does not re-render it.
import { memo, useEffect, useState } from 'react';
import type { Dispatch, Ref, SetStateAction } from 'react';
import { Button, Checkbox, DatePicker, Input, Select, Tooltip, Typography } from 'antd';
import type { InputRef } from 'antd';
import { SearchOutlined, UndoOutlined } from '@ant-design/icons';
import dayjs from 'dayjs';
import type { Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { minorToDecimalString, parseMoneyInput } from '../../format';
import { DISCREPANCY_CLASSES, REVIEW_STATES } from '../../types';
import type { AccountInfo, OutcomeClass, ReviewState, Sort } from '../../types';
import type { FilterForm } from './filters';
import { useLabel } from './labels';
import SavedFilters from './SavedFilters';
import type { SavedFilterScope } from './savedFilters';

/** The currency typed amounts are in: the chosen account's, or the one all accounts share. */
export function currencyFor(accounts: AccountInfo[], account: string | null): string | null {
  if (account) return accounts.find((a) => a.name === account)?.currency ?? null;
  const all = Array.from(new Set(accounts.map((a) => a.currency)));
  return all.length === 1 ? all[0] : null;
}

function minText(form: FilterForm, accounts: AccountInfo[]): string {
  if (form.minAbs === null) return '';
  return minorToDecimalString(form.minAbs, currencyFor(accounts, form.account) ?? 'CNY');
}

export interface FilterBarProps {
  form: FilterForm;
  setForm: Dispatch<SetStateAction<FilterForm>>;
  accounts: AccountInfo[];
  reviewers: string[];
  onReset: () => void;
  /** Changes when the form was replaced from outside (reset, a link): drafts follow it. */
  syncToken: number;
  textRef: Ref<InputRef>;
  /** The current sort: a saved filter keeps it along with the filter (as the URL does). */
  sort: Sort;
  /** Whose saved filters to offer (null while the user or workspace is unknown). */
  savedScope: SavedFilterScope | null;
  /** Replaces the form and sort with a saved filter's. */
  onApplySaved: (form: FilterForm, sort: Sort) => void;
}

function FilterBar({
  form,
  setForm,
  accounts,
  reviewers,
  onReset,
  syncToken,
  textRef,
  sort,
  savedScope,
  onApplySaved,
}: FilterBarProps) {
  const { t } = useTranslation('discrepancies');
  const label = useLabel();
  const [textDraft, setTextDraft] = useState(form.text);
  const [minDraft, setMinDraft] = useState(() => minText(form, accounts));
  const [minError, setMinError] = useState<string | null>(null);

  useEffect(() => {
    setTextDraft(form.text);
    setMinDraft(minText(form, accounts));
    setMinError(null);
    // only when the whole form was replaced
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [syncToken]);

  const patch = (p: Partial<FilterForm>) => setForm((f) => ({ ...f, ...p }));
  const minCurrency = currencyFor(accounts, form.account);

  const applyText = (value: string) => {
    setTextDraft(value);
    patch({ text: value.trim() });
  };

  const applyMin = (text: string) => {
    const trimmed = text.trim();
    if (trimmed === '') {
      setMinError(null);
      if (form.minAbs !== null) patch({ minAbs: null });
      return;
    }
    if (!minCurrency) {
      setMinError(t('filters.min_amount_pick_account'));
      return;
    }
    const minor = parseMoneyInput(trimmed, minCurrency);
    if (minor === null) {
      setMinError(t('filters.min_amount_invalid', { currency: minCurrency }));
      return;
    }
    setMinError(null);
    if (minor !== form.minAbs) patch({ minAbs: minor });
  };

  const onAccount = (account: string | null) => {
    if (minDraft.trim() === '') {
      patch({ account });
      return;
    }
    // the same typed amount is a different number of minor units in another currency
    const currency = currencyFor(accounts, account);
    const minor = currency ? parseMoneyInput(minDraft, currency) : null;
    setMinError(
      minor === null
        ? currency
          ? t('filters.min_amount_invalid', { currency })
          : t('filters.min_amount_pick_account')
        : null,
    );
    patch({ account, minAbs: minor });
  };

  const rangeValue: [Dayjs | null, Dayjs | null] | null =
    form.dateFrom || form.dateTo
      ? [form.dateFrom ? dayjs(form.dateFrom) : null, form.dateTo ? dayjs(form.dateTo) : null]
      : null;

  return (
    <>
      <div className="disc-toolbar" role="search" aria-label={t('filters.label')}>
        <DatePicker.RangePicker
          data-testid="disc-filter-date"
          aria-label={t('filters.date')}
          allowEmpty={[true, true]}
          value={rangeValue}
          placeholder={[t('filters.date_from'), t('filters.date_to')]}
          onChange={(v) =>
            patch({
              dateFrom: v?.[0] ? v[0].format('YYYY-MM-DD') : null,
              dateTo: v?.[1] ? v[1].format('YYYY-MM-DD') : null,
            })
          }
        />
        <Select
          data-testid="disc-filter-account"
          aria-label={t('filters.account')}
          placeholder={t('filters.all_accounts')}
          allowClear
          style={{ width: 160 }}
          value={form.account ?? undefined}
          onChange={(v?: string) => onAccount(v ?? null)}
          options={accounts.map((a) => ({ value: a.name, label: a.name }))}
        />
        <Select
          data-testid="disc-filter-class"
          aria-label={t('filters.class')}
          mode="multiple"
          allowClear
          maxTagCount="responsive"
          placeholder={t('filters.all_classes')}
          style={{ minWidth: 200, maxWidth: 320 }}
          value={form.classes}
          onChange={(v: OutcomeClass[]) => patch({ classes: v })}
          optionFilterProp="label"
          options={DISCREPANCY_CLASSES.map((c) => ({ value: c, label: label('class', c) }))}
        />
        <Select
          data-testid="disc-filter-state"
          aria-label={t('filters.state')}
          mode="multiple"
          allowClear
          placeholder={t('filters.all_states')}
          style={{ minWidth: 180 }}
          value={form.states}
          onChange={(v: ReviewState[]) => patch({ states: v })}
          options={REVIEW_STATES.map((s) => ({ value: s, label: label('state', s) }))}
        />
        <Select
          data-testid="disc-filter-assignee"
          aria-label={t('filters.assignee')}
          placeholder={t('filters.any_assignee')}
          allowClear
          showSearch
          style={{ width: 150 }}
          value={form.assignee ?? undefined}
          onChange={(v?: string) => patch({ assignee: v ?? null })}
          options={reviewers.map((u) => ({ value: u, label: u }))}
        />
        <Tooltip title={minError ?? t('filters.min_amount_hint')}>
          <Input
            data-testid="disc-filter-min"
            aria-label={t('filters.min_amount')}
            aria-invalid={minError !== null}
            status={minError ? 'error' : undefined}
            style={{ width: 170 }}
            prefix={minCurrency ? <span className="disc-muted">{minCurrency}</span> : undefined}
            disabled={!minCurrency && minDraft === ''}
            placeholder={minCurrency ? t('filters.min_amount') : t('filters.min_amount_pick_account')}
            value={minDraft}
            inputMode="decimal"
            onChange={(e) => {
              setMinDraft(e.target.value);
              if (e.target.value === '') applyMin('');
            }}
            onPressEnter={() => applyMin(minDraft)}
            onBlur={() => applyMin(minDraft)}
          />
        </Tooltip>
        <Input
          ref={textRef}
          data-testid="disc-filter-text"
          aria-label={t('filters.text')}
          prefix={<SearchOutlined />}
          allowClear
          style={{ width: 260 }}
          placeholder={t('filters.text_placeholder')}
          value={textDraft}
          onChange={(e) => {
            setTextDraft(e.target.value);
            if (e.target.value === '' && form.text !== '') applyText('');
          }}
          onPressEnter={() => applyText(textDraft)}
        />
        <Checkbox
          data-testid="disc-filter-gone"
          checked={form.includeGone}
          onChange={(e) => patch({ includeGone: e.target.checked })}
        >
          {t('filters.include_gone')}
        </Checkbox>
        <Button icon={<UndoOutlined />} data-testid="disc-filter-reset" onClick={onReset}>
          {t('filters.reset')}
        </Button>
        <SavedFilters scope={savedScope} form={form} sort={sort} onApply={onApplySaved} />
      </div>
      {minError && (
        <Typography.Text type="danger" data-testid="disc-filter-min-error">
          {minError}
        </Typography.Text>
      )}
    </>
  );
}

export default memo(FilterBar);
