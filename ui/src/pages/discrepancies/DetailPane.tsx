// The detail pane: our order and the provider's line side by side, the explanation, the
// evidence, the history, and the review controls.
import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Empty, Input, Select, Space, Spin, Tag, Timeline, Tooltip, Typography, message } from 'antd';
import {
  CheckCircleOutlined,
  ClockCircleOutlined,
  CloseOutlined,
  CopyOutlined,
  SaveOutlined,
  UserAddOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { showError } from '../../components/ErrorNotice';
import { formatDate, formatDateTime, formatMoney } from '../../format';
import { themed } from '../../styles';
import { Difference, localAmountText, providerAmountText } from './amounts';
import { REVIEWER_RESOLUTIONS } from '../../types';
import type {
  DiscrepancyDetail,
  DiscrepancyRecord,
  HistoryEntry,
  Lang,
  ResolutionKind,
  ReviewChange,
  ReviewState,
} from '../../types';
import { compareRows } from './compare';
import { CLASS_COLORS, STATE_COLORS, useLabel } from './labels';
import { isOverdue } from './DiscrepancyTable';

export interface DetailPaneProps {
  id: number;
  onClose: () => void;
  /** A saved change: the table replaces the row in place; `undoId` undoes it (null: nothing changed). */
  onUpdated: (record: DiscrepancyRecord, undoId: number | null) => void;
  reviewers: string[];
  canReview: boolean;
  lang: Lang;
  username: string | null;
  /** Wait this long before loading (arrow keys move quickly through rows). */
  debounceMs?: number;
}

const NOTE_MAX = 4000;

function DetailPane(props: DetailPaneProps) {
  const { id, onClose, onUpdated, reviewers, canReview, lang, username, debounceMs = 80 } = props;
  const { t } = useTranslation('discrepancies');
  const label = useLabel();
  const [detail, setDetail] = useState<DiscrepancyDetail | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const [saving, setSaving] = useState<null | 'save' | 'resolve' | 'take'>(null);

  const [assignee, setAssignee] = useState<string | null>(null);
  const [state, setState] = useState<ReviewState>('open');
  const [note, setNote] = useState('');
  const [resolution, setResolution] = useState<ResolutionKind | null>(null);
  const [formError, setFormError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    setLoading(true);
    setLoadError(null);
    const timer = setTimeout(() => {
      commands.discrepancyDetail(id)
        .then((d) => {
          if (!alive) return;
          setDetail(d);
          setLoading(false);
        })
        .catch((e: unknown) => {
          if (!alive) return;
          setLoadError(e);
          setLoading(false);
        });
    }, debounceMs);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [id, tick, debounceMs]);

  const record = detail && detail.record.id === id ? detail.record : null;

  // The form starts from the record each time it is (re)loaded.
  useEffect(() => {
    if (!record) return;
    setAssignee(record.assignee);
    setState(record.state);
    setNote(record.note ?? '');
    setResolution(record.resolution && record.resolution !== 'auto_matched' ? record.resolution : null);
    setFormError(null);
  }, [record]);

  const rows = useMemo(
    () =>
      detail && record
        ? compareRows(detail, lang, {
            orderStatus: (s) => t(`order_status.${s}`, { defaultValue: s }),
            lineKind: (k) => t(`line_kind.${k}`, { defaultValue: k }),
          })
        : [],
    [detail, record, lang, t],
  );

  const apply = useCallback(
    async (change: ReviewChange, kind: 'save' | 'resolve' | 'take') => {
      setSaving(kind);
      try {
        const { record: updated, undo_id } = await commands.updateDiscrepancy(id, change);
        onUpdated(updated, undo_id);
        setDetail((d) => (d && d.record.id === updated.id ? { ...d, record: updated } : d));
        setTick((n) => n + 1); // fresh history
        void message.success(kind === 'resolve' ? t('detail.resolved_ok') : t('detail.saved_ok'));
      } catch (e) {
        showError(e);
      } finally {
        setSaving(null);
      }
    },
    [id, onUpdated, t],
  );

  const noteChange = (): string | undefined => {
    if (!record) return undefined;
    const trimmed = note.trim();
    return trimmed !== (record.note ?? '').trim() ? trimmed : undefined;
  };

  const onSave = () => {
    if (!record) return;
    if (note.length > NOTE_MAX) {
      setFormError(t('detail.note_too_long', { max: NOTE_MAX }));
      return;
    }
    const change: ReviewChange = {};
    if (state !== record.state && state !== 'resolved') change.state = state;
    if ((assignee ?? null) !== (record.assignee ?? null)) change.assignee = assignee ?? null;
    const n = noteChange();
    if (n !== undefined) change.note = n;
    if (Object.keys(change).length === 0) {
      setFormError(t('detail.nothing_to_save'));
      return;
    }
    setFormError(null);
    void apply(change, 'save');
  };

  const onResolve = () => {
    if (!record) return;
    if (!resolution) {
      setFormError(t('detail.resolution_required'));
      return;
    }
    if (note.length > NOTE_MAX) {
      setFormError(t('detail.note_too_long', { max: NOTE_MAX }));
      return;
    }
    const change: ReviewChange = { state: 'resolved', resolution };
    const n = noteChange();
    if (n !== undefined) change.note = n;
    if ((assignee ?? null) !== (record.assignee ?? null)) change.assignee = assignee ?? null;
    setFormError(null);
    void apply(change, 'resolve');
  };

  const onTake = () => {
    if (!record || !username) return;
    const change: ReviewChange = { state: 'investigating' };
    if (record.assignee !== username) change.assignee = username;
    void apply(change, 'take');
  };

  const copy = (text: string) => {
    void navigator.clipboard?.writeText(text).then(
      () => message.success(t('common:actions.copied')),
      () => undefined,
    );
  };

  const historyValue = (h: HistoryEntry, v: string | null): string => {
    if (v === null || v === '') return t('history.empty');
    if (h.field === 'state' || h.field === 'resolution' || h.field === 'class') {
      return label(h.field, v);
    }
    if (h.field === 'presence') return presenceText(v, t);
    // Amounts are stored in minor units of the discrepancy's currency.
    if ((h.field === 'difference' || h.field === 'provider_amount' || h.field === 'local_amount') && /^-?\d+$/.test(v)) {
      return formatMoney(Number(v), record?.currency ?? 'CNY', lang);
    }
    return v;
  };

  const header = (
    <div style={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', gap: 8 }}>
      <Typography.Title level={5} style={{ margin: 0 }}>
        {t('detail.title', { id })}
      </Typography.Title>
      <Tooltip title={t('detail.close_hint')}>
        <Button
          type="text"
          icon={<CloseOutlined />}
          aria-label={t('detail.close')}
          data-testid="disc-detail-close"
          onClick={onClose}
        />
      </Tooltip>
    </div>
  );

  if (!record) {
    return (
      <aside className="disc-detail" data-testid="disc-detail" aria-label={t('detail.label')} aria-busy={loading}>
        {header}
        {loading ? (
          <div style={{ padding: 24, textAlign: 'center' }}>
            <Spin />
          </div>
        ) : loadError ? (
          <Alert
            type="error"
            showIcon
            message={t('detail.load_failed')}
            description={(loadError as { message?: string }).message ?? String(loadError)}
            action={
              <Button size="small" onClick={() => setTick((n) => n + 1)}>
                {t('common:actions.retry')}
              </Button>
            }
          />
        ) : (
          <Empty />
        )}
      </aside>
    );
  }

  const overdue = isOverdue(record, Date.now());
  const evidence =
    record.evidence_file !== null
      ? `${record.evidence_file}${record.evidence_line !== null ? `:${record.evidence_line}` : ''}`
      : detail?.statement_line
        ? `${detail.statement_line.source.file}:${detail.statement_line.source.line}`
        : null;

  return (
    <aside className="disc-detail" data-testid="disc-detail" data-id={record.id} aria-label={t('detail.label')}>
      {header}
      <Space size={[4, 4]} wrap style={{ marginTop: 8 }}>
        <Tag color={CLASS_COLORS[record.class] ?? 'default'}>{label('class', record.class)}</Tag>
        <Tag color={STATE_COLORS[record.state]} data-testid="disc-state" data-state={record.state}>
          {label('state', record.state)}
        </Tag>
        {record.resolution && <Tag>{label('resolution', record.resolution)}</Tag>}
        {!record.present && <Tag>{t('table.gone')}</Tag>}
      </Space>
      <div style={{ marginTop: 6, color: themed('text-secondary', 'rgba(0,0,0,0.65)') }}>
        {record.account} · {formatDate(record.bill_date, lang)} ·{' '}
        <span className={overdue ? 'disc-overdue' : undefined} data-overdue={overdue}>
          <ClockCircleOutlined /> {t('detail.due', { date: formatDateTime(record.due_at, lang) })}
          {overdue ? ` (${t('table.overdue')})` : ''}
        </span>
        {' · '}
        {record.assignee ? t('detail.assigned_to', { user: record.assignee }) : t('table.unassigned')}
      </div>

      <div className="disc-summary">
        <div>
          <div className="disc-muted">{t('column.provider_amount')}</div>
          <div className="disc-summary-value">
            {providerAmountText(record, lang)}
          </div>
        </div>
        <div>
          <div className="disc-muted">{t('column.local_amount')}</div>
          <div className="disc-summary-value">
            {localAmountText(record, lang)}
          </div>
        </div>
        <div>
          <div className="disc-muted">{t('column.difference')}</div>
          <div className="disc-summary-value" data-testid="disc-detail-difference">
            <Difference record={record} lang={lang} />
          </div>
        </div>
      </div>

      <Alert
        type="info"
        showIcon
        message={lang === 'zh' && record.explanation_zh ? record.explanation_zh : record.explanation}
        data-testid="disc-explanation"
      />

      <h4>{t('detail.compare')}</h4>
      <table className="disc-cmp" data-testid="disc-compare">
        <thead>
          <tr>
            <th scope="col" />
            <th scope="col">{t('detail.ours')}</th>
            <th scope="col">{t('detail.theirs')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr
              key={r.field}
              className={r.differs ? 'disc-differs' : undefined}
              data-testid={`disc-cmp-${r.field}`}
              data-differs={r.differs}
            >
              <th scope="row">{t(`compare.${r.field}`)}</th>
              <td className="disc-cmp-value">{r.ours ?? '—'}</td>
              <td className="disc-cmp-value">{r.theirs ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!detail?.order && <div className="disc-muted">{t('detail.no_order')}</div>}
      {!detail?.statement_line && <div className="disc-muted">{t('detail.no_line')}</div>}

      <h4>{t('detail.evidence')}</h4>
      {evidence ? (
        <Space>
          <span className="disc-mono" data-testid="disc-evidence">
            {evidence}
          </span>
          <Button size="small" type="text" icon={<CopyOutlined />} aria-label={t('common:actions.copy')} onClick={() => copy(evidence)} />
        </Space>
      ) : (
        <span className="disc-muted">{t('detail.no_evidence')}</span>
      )}

      {canReview && (
        <>
          <h4>{t('detail.review')}</h4>
          <Space direction="vertical" style={{ width: '100%' }}>
            <Space wrap>
              <Select
                data-testid="disc-assignee"
                aria-label={t('detail.assignee')}
                placeholder={t('detail.assignee')}
                style={{ width: 180 }}
                allowClear
                showSearch
                value={assignee ?? undefined}
                onChange={(v?: string) => setAssignee(v ?? null)}
                options={Array.from(new Set([...(record.assignee ? [record.assignee] : []), ...reviewers])).map((u) => ({
                  value: u,
                  label: u,
                }))}
              />
              <Select
                data-testid="disc-set-state"
                aria-label={t('detail.state')}
                style={{ width: 150 }}
                value={state}
                onChange={(v: ReviewState) => setState(v)}
                options={(['open', 'investigating', 'resolved'] as ReviewState[]).map((s) => ({
                  value: s,
                  label: label('state', s),
                  disabled: s === 'resolved',
                }))}
              />
              {record.state === 'open' && username && (
                <Button icon={<UserAddOutlined />} data-testid="disc-take" loading={saving === 'take'} onClick={onTake}>
                  {t('detail.take')}
                </Button>
              )}
            </Space>
            <Input.TextArea
              data-testid="disc-note"
              aria-label={t('detail.note')}
              placeholder={t('detail.note_placeholder')}
              autoSize={{ minRows: 2, maxRows: 6 }}
              maxLength={NOTE_MAX}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
            <Space wrap>
              <Button icon={<SaveOutlined />} data-testid="disc-save" loading={saving === 'save'} onClick={onSave}>
                {t('detail.save')}
              </Button>
              <Select
                data-testid="disc-resolution"
                aria-label={t('detail.resolution')}
                placeholder={t('detail.resolution')}
                style={{ width: 210 }}
                value={resolution ?? undefined}
                onChange={(v: ResolutionKind) => {
                  setResolution(v);
                  setFormError(null);
                }}
                options={REVIEWER_RESOLUTIONS.map((r) => ({ value: r, label: label('resolution', r) }))}
              />
              <Button
                type="primary"
                icon={<CheckCircleOutlined />}
                data-testid="disc-resolve"
                loading={saving === 'resolve'}
                onClick={onResolve}
              >
                {t('detail.resolve')}
              </Button>
            </Space>
            {formError && (
              <Alert type="warning" showIcon message={formError} data-testid="disc-form-error" />
            )}
          </Space>
        </>
      )}

      <h4>{t('detail.history')}</h4>
      {detail && detail.history.length > 0 ? (
        <Timeline
          data-testid="disc-history"
          items={detail.history.map((h) => ({
            key: `${h.at}-${h.field}-${h.new_value ?? ''}`,
            children: (
              <div>
                <div className="disc-muted">
                  {formatDateTime(h.at, lang)} · {h.actor}
                </div>
                {h.field === 'note' ? (
                  <div>
                    {t('history.note_by')}: <q>{h.new_value ?? ''}</q>
                  </div>
                ) : h.field === 'undo' ? (
                  <div data-testid="disc-history-undo">{t('history.undo', { id: h.new_value ?? '' })}</div>
                ) : (
                  <div>
                    {t(`history.field.${h.field}`, { defaultValue: h.field })}: {historyValue(h, h.old_value)} →{' '}
                    {historyValue(h, h.new_value)}
                  </div>
                )}
              </div>
            ),
          }))}
        />
      ) : (
        <span className="disc-muted">{t('history.none')}</span>
      )}
    </aside>
  );
}

/**
 * The presence history the runs write ("found by run 12", "no longer found by run 13", "found
 * again by run 14", "present", "gone") in the user's language; anything else as written.
 */
export function presenceText(v: string, t: (key: string, opts?: Record<string, unknown>) => string): string {
  const m = /^(found again|no longer found|found) by run (\d+)$/.exec(v);
  if (m) {
    const kind = m[1] === 'found again' ? 'found_again' : m[1] === 'no longer found' ? 'no_longer_found' : 'found';
    return t(`history.presence.${kind}`, { run: m[2] });
  }
  if (v === 'present' || v === 'gone') return t(`history.presence.${v}`);
  return v;
}

export default memo(DetailPane);
