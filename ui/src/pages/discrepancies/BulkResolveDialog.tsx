// "Resolve all matching": states the exact count the user confirms; the backend refuses when
// the filter now matches another count.
import { memo, useEffect, useState } from 'react';
import { Alert, Button, Input, Modal, Select, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { toAppError } from '../../api';
import * as commands from '../../commands';
import { showError } from '../../components/ErrorNotice';
import { formatCount } from '../../format';
import { REVIEWER_RESOLUTIONS } from '../../types';
import type { Filter, Lang, ResolutionKind, ReviewChange } from '../../types';
import { useLabel } from './labels';

export interface BulkResolveDialogProps {
  open: boolean;
  /** The count shown to the user (the last total); sent as `expected`. */
  total: number | null;
  filter: Filter;
  lang: Lang;
  onClose: () => void;
  /** Resolved: reload the table. */
  onDone: (updated: number) => void;
  /** The backend says the count changed: reload the total. */
  onStale: () => void;
}

function BulkResolveDialog(props: BulkResolveDialogProps) {
  const { open, total, filter, lang, onClose, onDone, onStale } = props;
  const { t } = useTranslation('discrepancies');
  const label = useLabel();
  const [resolution, setResolution] = useState<ResolutionKind>('not_an_issue');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (open) {
      setProblem(null);
      setBusy(false);
    }
  }, [open]);

  const confirm = async () => {
    if (total === null || total === 0) return;
    setBusy(true);
    setProblem(null);
    const change: ReviewChange = { state: 'resolved', resolution };
    const trimmed = note.trim();
    if (trimmed !== '') change.note = trimmed;
    try {
      const res = await commands.bulkUpdateDiscrepancies(filter, change, total);
      setNote('');
      onDone(res.updated);
    } catch (e) {
      const err = toAppError(e);
      if (err.kind === 'bad_input') {
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

  const count = total ?? 0;
  return (
    <Modal
      open={open}
      title={t('bulk.title')}
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
            disabled={total === null || total === 0}
            onClick={() => void confirm()}
          >
            {t('bulk.confirm', { n: formatCount(count, lang) })}
          </Button>
        </Space>
      }
    >
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Paragraph data-testid="disc-bulk-text" data-expected={total ?? undefined}>
          {total === null
            ? t('bulk.counting')
            : t('bulk.text', { n: formatCount(count, lang), resolution: label('resolution', resolution) })}
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
