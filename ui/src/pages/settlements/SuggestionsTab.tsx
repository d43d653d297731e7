// Grouped suggestions (N payouts in one bank credit, one payout over several credits) that
// wait for a reviewer: confidence, both sides' totals, the evidence, and Accept / Reject
// (rejecting asks why). The parent reloads the list after each decision.
import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Card, Empty, Input, List, Modal, Progress, Space, Tag, Typography, message } from 'antd';
import type { TextAreaRef } from 'antd/es/input/TextArea';
import { CheckOutlined, CloseOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { formatDate, formatMoney } from '../../format';
import { above, amountText, below, mono, small } from '../../styles';
import type { LinkDetailOut, LinkOut, PayoutOut } from '../../types';

function LinkItems({ id }: { id: number }) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const [detail, setDetail] = useState<LinkDetailOut | null>(null);
  const load = useCommand(commands.settlementLink);
  const { run } = load;
  useEffect(() => {
    void run(id).then((r) => {
      if (r.status === 'ok') setDetail(r.value);
    });
  }, [id, run]);
  if (load.error) return <ErrorAlert error={load.error} />;
  if (!detail) return null;
  return (
    <div data-testid={`suggestion-items-${id}`} style={{ display: 'flex', gap: 24, flexWrap: 'wrap' }}>
      <div>
        {detail.payouts.map((p) => (
          <div key={p.id}>
            <span style={mono}>{p.payout.payout_id}</span> · {p.payout.account} · {formatDate(p.payout.arrival_date, lang)} ·{' '}
            <span style={amountText}>{formatMoney(p.payout.amount, p.payout.currency, lang)}</span>
          </div>
        ))}
      </div>
      <div>
        {detail.bank_lines.map((b) => (
          <div key={b.id}>
            {formatDate(b.line.booking_date, lang)} · <span style={amountText}>{formatMoney(b.line.amount, b.line.currency, lang)}</span>
            {b.line.counterparty ? ` · ${b.line.counterparty}` : ''}
            <Typography.Text type="secondary" style={small}>
              {' '}
              ({t('drawer.line', { line: b.line.line, file: b.file_name })})
            </Typography.Text>
          </div>
        ))}
      </div>
    </div>
  );
}

export interface SuggestionsTabProps {
  suggestions: LinkOut[];
  /** The run's payouts by stored id, to name them (absent before a run). */
  payouts: Map<number, PayoutOut>;
  /** A dry run's suggestions have no id: shown, not decidable. */
  dryRun: boolean;
  onDecided: (link: LinkOut) => void;
}

export default function SuggestionsTab({ suggestions, payouts, dryRun, onDecided }: SuggestionsTabProps) {
  const { t } = useTranslation('settlements');
  const { lang, can } = useSession();
  const mayDecide = can('discrepancy_review');
  const [open, setOpen] = useState<Record<number, boolean>>({});
  const [rejecting, setRejecting] = useState<LinkOut | null>(null);
  const [note, setNote] = useState('');
  const [noteMissing, setNoteMissing] = useState(false);
  const noteRef = useRef<TextAreaRef>(null);
  const decide = useCommand((id: number, accept: boolean, n: string | null) => commands.settlementDecide(id, accept, n));
  const [busy, setBusy] = useState<number | null>(null);

  async function submit(link: LinkOut, accept: boolean, n: string | null) {
    if (link.id === null) return;
    setBusy(link.id);
    const r = await decide.run(link.id, accept, n);
    setBusy(null);
    if (r.status !== 'ok') return;
    void message.success(t(accept ? 'suggestions.accepted' : 'suggestions.rejected'));
    setRejecting(null);
    onDecided(r.value);
  }

  function openReject(link: LinkOut) {
    setRejecting(link);
    setNote('');
    setNoteMissing(false);
    decide.setError(null);
    setTimeout(() => noteRef.current?.focus(), 0);
  }

  function confirmReject() {
    if (!rejecting) return;
    if (note.trim() === '') {
      setNoteMissing(true);
      return;
    }
    void submit(rejecting, false, note.trim());
  }

  const name = (id: number) => payouts.get(id)?.payout.payout_id ?? `#${id}`;

  return (
    <div data-testid="suggestions">
      {dryRun && suggestions.length > 0 && <Alert type="info" showIcon style={below.md} message={t('suggestions.dry_run')} />}
      {!mayDecide && suggestions.length > 0 && <Alert type="warning" showIcon style={below.md} message={t('suggestions.no_permission')} />}
      {rejecting === null && <ErrorAlert error={decide.error} style={below.md} data-testid="suggestion-error" />}
      {suggestions.length === 0 ? (
        <Empty description={t('suggestions.none')} data-testid="suggestions-empty" />
      ) : (
        <List
          dataSource={suggestions}
          rowKey={(l) => l.id ?? `${l.payout_ids.join(',')}|${l.bank_line_ids.join(',')}`}
          renderItem={(l) => {
            const key = l.id ?? -1;
            return (
              <Card
                size="small"
                style={below.md}
                data-testid={`suggestion-${l.id ?? 'dry'}`}
                data-confidence={l.confidence}
                title={
                  <Space wrap>
                    <span>{t('suggestions.title', { rule: t(`rule.${l.rule}`) })}</span>
                    <Tag color={l.confidence >= 80 ? 'green' : l.confidence >= 60 ? 'gold' : 'orange'}>
                      {t('suggestions.confidence', { confidence: l.confidence })}
                    </Tag>
                  </Space>
                }
                extra={
                  <Space>
                    <Button
                      type="primary"
                      icon={<CheckOutlined />}
                      disabled={!mayDecide || l.id === null || (busy !== null && busy !== l.id)}
                      loading={busy === l.id && rejecting === null}
                      onClick={() => void submit(l, true, null)}
                      data-testid={`suggestion-accept-${l.id ?? 'dry'}`}
                    >
                      {t('suggestions.accept')}
                    </Button>
                    <Button
                      danger
                      icon={<CloseOutlined />}
                      disabled={!mayDecide || l.id === null || busy !== null}
                      onClick={() => openReject(l)}
                      data-testid={`suggestion-reject-${l.id ?? 'dry'}`}
                    >
                      {t('suggestions.reject')}
                    </Button>
                  </Space>
                }
              >
                <Progress percent={l.confidence} size="small" showInfo={false} style={below.sm} aria-label={t('suggestions.confidence', { confidence: l.confidence })} />
                <div style={{ display: 'flex', gap: 24, flexWrap: 'wrap', ...below.sm }}>
                  <div>
                    <Typography.Text type="secondary">
                      {t('suggestions.payouts', { total: formatMoney(l.payout_total, l.currency, lang) })}
                    </Typography.Text>
                    <div style={mono}>{l.payout_ids.map(name).join(' + ')}</div>
                  </div>
                  <div>
                    <Typography.Text type="secondary">
                      {t('suggestions.bank', { total: formatMoney(l.bank_total, l.currency, lang) })}
                    </Typography.Text>
                    <div style={amountText}>{l.bank_line_ids.length}×</div>
                  </div>
                </div>
                <Typography.Text strong>{t('suggestions.evidence')}</Typography.Text>
                <ul style={{ margin: '4px 0 0 18px', padding: 0 }} data-testid={`suggestion-evidence-${l.id ?? 'dry'}`}>
                  {l.evidence.map((e, i) => (
                    <li key={i}>{e}</li>
                  ))}
                </ul>
                {l.id !== null && (
                  <div style={above.sm}>
                    <Button
                      size="small"
                      type="link"
                      style={{ paddingInline: 0 }}
                      aria-expanded={!!open[key]}
                      onClick={() => setOpen((o) => ({ ...o, [key]: !o[key] }))}
                      data-testid={`suggestion-toggle-${l.id}`}
                    >
                      {open[key] ? t('suggestions.hide_items') : t('suggestions.show_items')}
                    </Button>
                    {open[key] && <LinkItems id={l.id} />}
                  </div>
                )}
              </Card>
            );
          }}
        />
      )}

      <Modal
        open={rejecting !== null}
        title={t('suggestions.reject_title')}
        onCancel={() => setRejecting(null)}
        destroyOnHidden
        footer={[
          <Button key="cancel" onClick={() => setRejecting(null)}>
            {t('common:actions.cancel')}
          </Button>,
          <Button
            key="ok"
            type="primary"
            danger
            loading={rejecting !== null && busy === rejecting.id}
            onClick={confirmReject}
            data-testid="suggestion-reject-confirm"
          >
            {t('suggestions.reject')}
          </Button>,
        ]}
      >
        <Typography.Paragraph type="secondary">{t('suggestions.reject_hint')}</Typography.Paragraph>
        <label>
          <Typography.Text>{t('suggestions.note')}</Typography.Text>
          <Input.TextArea
            ref={noteRef}
            value={note}
            rows={3}
            maxLength={500}
            status={noteMissing ? 'error' : undefined}
            onChange={(e) => {
              setNote(e.target.value);
              if (e.target.value.trim() !== '') setNoteMissing(false);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) confirmReject();
            }}
            data-testid="suggestion-reject-note"
          />
        </label>
        {noteMissing && (
          <Typography.Text type="danger" data-testid="suggestion-note-required">
            {t('suggestions.note_required')}
          </Typography.Text>
        )}
        <ErrorAlert error={rejecting !== null ? decide.error : null} style={above.md} />
      </Modal>
    </div>
  );
}
