// Bulk resolve: the checked rows (by id), or all matching the filter. Either way the dialog
// states how many and the amount at stake per currency before the person confirms; for "all
// matching" the backend refuses when the filter now matches another count.
import { memo, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Input, Modal, Radio, Select, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { toAppError } from '../../api';
import * as commands from '../../commands';
import { showError } from '../../components/ErrorNotice';
import { formatCount, formatMoney } from '../../format';
import { REVIEWER_RESOLUTIONS } from '../../types';
import type { CurrencyTotal, DiscrepancyRecord, Filter, Lang, ResolutionKind, ReviewChange } from '../../types';
import { useLabel } from './labels';
import { atStakeOf } from './selection';

export interface BulkResolveDialogProps {
  open: boolean;
  /** The count shown to the user (the last total); sent as `expected`. */
  total: number | null;
  /** The checked rows; none: the change is for all matching. */
  selected: DiscrepancyRecord[];
  filter: Filter;
  lang: Lang;
  onClose: () => void;
  /** Resolved: reload the table; `undoId` takes it back for a while. */
  onDone: (updated: number, undoId: number | null) => void;
  /** The backend says the count changed: reload the total. */
  onStale: () => void;
  /** Seconds the undo is offered afterwards (said in the dialog). */
  undoSeconds: number;
}

type Scope = 'selected' | 'all';

function BulkResolveDialog(props: BulkResolveDialogProps) {
  const { open, total, selected, filter, lang, onClose, onDone, onStale, undoSeconds } = props;
  const { t } = useTranslation('discrepancies');
  const label = useLabel();
  const [resolution, setResolution] = useState<ResolutionKind>('not_an_issue');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [scope, setScope] = useState<Scope>('all');
  // What all matching put at stake (asked when the dialog opens): null while asked,
  // 'failed' if the answer did not come.
  const [totals, setTotals] = useState<CurrencyTotal[] | 'failed' | null>(null);

  useEffect(() => {
    if (!open) return undefined;
    setProblem(null);
    setBusy(false);
    setScope(selected.length > 0 ? 'selected' : 'all');
    setTotals(null);
    let live = true;
    commands.discrepancyTotals(filter).then(
      (v) => live && setTotals(v),
      () => live && setTotals('failed'),
    );
    return () => {
      live = false;
    };
    // The selection and filter are fixed while the dialog is open.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);

  const selectedAtStake = useMemo(() => atStakeOf(selected), [selected]);
  const amounts = (list: CurrencyTotal[]) =>
    list.length === 0 ? '—' : list.map((a) => formatMoney(a.at_stake, a.currency, lang)).join(' · ');

  const forSelected = scope === 'selected' && selected.length > 0;
  const count = forSelected ? selected.length : (total ?? 0);
  const atStake = forSelected
    ? amounts(selectedAtStake)
    : totals === null
      ? t('bulk.totals_loading')
      : totals === 'failed'
        ? t('bulk.totals_failed')
        : amounts(totals);
  // The person confirms a count and an amount: not before the amount is known.
  const ready = forSelected ? count > 0 : total !== null && total > 0 && totals !== null;

  const confirm = async () => {
    if (!ready) return;
    setBusy(true);
    setProblem(null);
    const change: ReviewChange = { state: 'resolved', resolution };
    const trimmed = note.trim();
    if (trimmed !== '') change.note = trimmed;
    try {
      const res = forSelected
        ? await commands.bulkUpdateDiscrepanciesByIds(
            selected.map((r) => r.id),
            change,
          )
        : await commands.bulkUpdateDiscrepancies(filter, change, count);
      setNote('');
      onDone(res.updated, res.undo_id ?? null);
    } catch (e) {
      const err = toAppError(e);
      if (err.kind === 'bad_input' && !forSelected) {
        // Most likely the count changed since the user looked: say so and show the new count.
        setProblem(err.message);
        onStale();
      } else {
        showError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={forSelected ? t('bulk.title_selected') : t('bulk.title')}
      onCancel={onClose}
      destroyOnHidden
      maskClosable={!busy}
      keyboard
      footer={
        <Space>
          <Button onClick={onClose} data-testid="disc-bulk-cancel" disabled={busy}>
            {t('common:actions.cancel')}
          </Button>
          <Button
            type="primary"
            danger
            data-testid="disc-bulk-confirm"
            loading={busy}
            disabled={!ready}
            onClick={() => void confirm()}
          >
            {t('bulk.confirm', { n: formatCount(count, lang) })}
          </Button>
        </Space>
      }
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        {selected.length > 0 && (
          <Radio.Group
            data-testid="disc-bulk-scope"
            value={scope}
            onChange={(e) => setScope(e.target.value as Scope)}
            disabled={busy}
          >
            <Space direction="vertical">
              <Radio value="selected" data-testid="disc-bulk-scope-selected">
                {t('bulk.scope_selected', { n: formatCount(selected.length, lang) })}
              </Radio>
              <Radio value="all" data-testid="disc-bulk-scope-all">
                {t('bulk.scope_all', { n: formatCount(total ?? 0, lang) })}
              </Radio>
            </Space>
          </Radio.Group>
        )}
        <Typography.Paragraph
          data-testid="disc-bulk-text"
          data-expected={forSelected ? undefined : (total ?? undefined)}
          data-scope={forSelected ? 'selected' : 'all'}
          data-ready={ready}
        >
          {!forSelected && total === null
            ? t('bulk.counting')
            : t(forSelected ? 'bulk.text_selected' : 'bulk.text', {
                n: formatCount(count, lang),
                resolution: label('resolution', resolution),
                amounts: atStake,
              })}
        </Typography.Paragraph>
        <label>
          <div>{t('bulk.resolution')}</div>
          <Select
            data-testid="disc-bulk-resolution"
            aria-label={t('bulk.resolution')}
            style={{ width: '100%' }}
            value={resolution}
            onChange={(v: ResolutionKind) => setResolution(v)}
            options={REVIEWER_RESOLUTIONS.map((r) => ({ value: r, label: label('resolution', r) }))}
          />
        </label>
        <label>
          <div>{t('bulk.note')}</div>
          <Input.TextArea
            data-testid="disc-bulk-note"
            aria-label={t('bulk.note')}
            placeholder={t('bulk.note_placeholder')}
            autoSize={{ minRows: 2, maxRows: 5 }}
            maxLength={4000}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        </label>
        {note.trim() !== '' && (
          <Typography.Text type="secondary">{t('bulk.note_applies', { note: note.trim() })}</Typography.Text>
        )}
        <Typography.Text type="secondary">{t('bulk.undo_hint', { s: undoSeconds })}</Typography.Text>
        {problem && (
          <Alert
            type="warning"
            showIcon
            data-testid="disc-bulk-problem"
            message={t('bulk.count_changed')}
            description={problem}
          />
        )}
      </Space>
    </Modal>
  );
}

export default memo(BulkResolveDialog);
