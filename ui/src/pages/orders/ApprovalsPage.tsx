// Refund approvals (approvers): the queue of refunds over someone's limit, approve or reject
// with a note, and the recent refunds in every state, live.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TextAreaRef } from 'antd/es/input/TextArea';
import { Badge, Button, Card, Input, Modal, Select, Space, Table, Timeline, Tooltip, Typography, message } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { CheckOutlined, CloseOutlined, ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { formatDateTime, formatMoney } from '../../format';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { above, amountText, below, mono, spread, themed } from '../../styles';
import type { RefundDetail, RefundRecord, RefundState } from '../../types';
import { REFUND_STATES } from '../../types';
import { age, mergeRefunds, RECENT_LIMIT, RequestedBy, upsertRefund, useRefundUpdates } from './refundUi';
import RefundsTable from './RefundsTable';
import { APPROVAL_POLL_MS } from '../../hooks/useApprovalQueue';

export const QUEUE_LIMIT = 500;
export { RECENT_LIMIT };

interface Decision {
  rec: RefundRecord;
  approve: boolean;
}

export default function ApprovalsPage() {
  const { t } = useTranslation('orders');
  const { lang, me, can } = useSession();
  const [queue, setQueue] = useState<RefundRecord[]>([]);
  const [recent, setRecent] = useState<RefundRecord[]>([]);
  const [stateFilter, setStateFilter] = useState<RefundState[]>([]);
  const [decision, setDecision] = useState<Decision | null>(null);
  const [note, setNote] = useState('');
  const [now, setNow] = useState(() => Date.now());
  const [events, setEvents] = useState<Record<number, RefundDetail | 'loading' | { error: unknown }>>({});
  const noteRef = useRef<TextAreaRef>(null);
  const expanded = useRef(new Set<number>());
  const mayDecide = can('refund_approve');

  const {
    run: readRefunds,
    loading,
    error: loadError,
  } = useCommand(() =>
    Promise.all([
      commands.refunds(['awaiting_approval'], QUEUE_LIMIT),
      commands.refunds(null, RECENT_LIMIT),
    ]),
  );
  const {
    run: decide,
    loading: deciding,
    error: decideError,
    setError: setDecideError,
  } = useCommand((d: Decision, decisionNote: string | null) =>
    commands.decideRefund(d.rec.id, d.approve, decisionNote),
  );

  const load = useCallback(async () => {
    const res = await readRefunds();
    if (res.status !== 'ok') return;
    const [q, r] = res.value;
    setQueue((prev) => mergeRefunds(q, prev).filter((x) => x.state === 'awaiting_approval'));
    setRecent((prev) => mergeRefunds(r, prev));
    setNow(Date.now());
  }, [readRefunds]);

  useEffect(() => {
    void load();
    // Requests made in another console or from the command line appear without a reload.
    const timer = setInterval(() => void load(), APPROVAL_POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const loadEvents = useCallback(async (id: number) => {
    setEvents((prev) => ({ ...prev, [id]: prev[id] && prev[id] !== 'loading' ? prev[id] : 'loading' }));
    try {
      const d = await commands.refundDetail(id);
      setEvents((prev) => ({ ...prev, [id]: d }));
    } catch (e) {
      setEvents((prev) => ({ ...prev, [id]: { error: e } }));
    }
  }, []);

  const applyUpdate = useCallback(
    (rec: RefundRecord) => {
      setRecent((prev) => upsertRefund(prev, rec));
      setQueue((prev) => {
        if (rec.state === 'awaiting_approval') return upsertRefund(prev, rec);
        return prev.filter((x) => x.id !== rec.id);
      });
      // An open history follows the refund; a closed one is re-read when opened again.
      if (expanded.current.has(rec.id)) {
        void loadEvents(rec.id);
      } else {
        setEvents((prev) => {
          if (!(rec.id in prev)) return prev;
          const next = { ...prev };
          delete next[rec.id];
          return next;
        });
      }
    },
    [loadEvents],
  );

  useRefundUpdates(applyUpdate);

  function openDecision(rec: RefundRecord, approve: boolean) {
    setDecision({ rec, approve });
    setNote('');
    setDecideError(null);
    setTimeout(() => noteRef.current?.focus(), 0);
  }

  async function confirm() {
    if (!decision || deciding) return;
    const r = await decide(decision, note.trim() === '' ? null : note.trim());
    if (r.status !== 'ok') return;
    const rec = r.value;
    applyUpdate(rec);
    void message.success(
      t(decision.approve ? 'approvals.approved_msg' : 'approvals.rejected_msg', { refund: rec.refund_no }),
    );
    setDecision(null);
  }

  const money = (r: RefundRecord) => formatMoney(r.amount, r.currency, lang);

  const queueColumns: ColumnsType<RefundRecord> = [
    {
      title: t('approvals.requested_by'),
      dataIndex: 'requested_by',
      render: (v: string) => <RequestedBy username={v} />,
    },
    {
      title: t('approvals.order'),
      dataIndex: 'order_no',
      render: (v: string, r) => (
        <span>
          <span style={mono}>{v}</span>
          <br />
          <Typography.Text type="secondary">
            {t(`common:provider.${r.provider}`)} · {r.account}
          </Typography.Text>
        </span>
      ),
    },
    {
      title: t('columns.amount'),
      dataIndex: 'amount',
      align: 'right',
      render: (_: number, r) => (
        <span style={amountText}>
          <Typography.Text strong>{money(r)}</Typography.Text>
          <br />
          <Typography.Text type="secondary">
            {t('approvals.of_total', { total: formatMoney(r.order_total, r.currency, lang) })}
          </Typography.Text>
        </span>
      ),
    },
    {
      title: t('refunds.reason'),
      dataIndex: 'reason',
      render: (v: string, r) => (
        <span>
          {v}
          {r.approval_reason && (
            <>
              <br />
              <Typography.Text type="secondary">{r.approval_reason}</Typography.Text>
            </>
          )}
        </span>
      ),
    },
    {
      title: t('approvals.age'),
      dataIndex: 'requested_at',
      render: (v: string) => {
        const a = age(v, now);
        return (
          <Typography.Text title={formatDateTime(v, lang)}>
            {a ? t(`age.${a.unit}`, { count: a.count }) : '—'}
          </Typography.Text>
        );
      },
    },
    ...(mayDecide
      ? [
          {
            title: '',
            key: 'actions',
            align: 'right' as const,
            render: (_: unknown, r: RefundRecord) => {
              // Nobody decides on their own request (the backend refuses it too).
              const own = !!me && r.requested_by === me.username;
              return (
                <Tooltip title={own ? t('approvals.own_request') : undefined}>
                  <Space>
                    <Button
                      type="primary"
                      icon={<CheckOutlined />}
                      disabled={own}
                      onClick={() => openDecision(r, true)}
                      data-testid={`approve-${r.id}`}
                    >
                      {t('approvals.approve')}
                    </Button>
                    <Button
                      danger
                      icon={<CloseOutlined />}
                      disabled={own}
                      onClick={() => openDecision(r, false)}
                      data-testid={`reject-${r.id}`}
                    >
                      {t('approvals.reject')}
                    </Button>
                  </Space>
                </Tooltip>
              );
            },
          },
        ]
      : []),
  ];

  const shownRecent = stateFilter.length ? recent.filter((r) => stateFilter.includes(r.state)) : recent;

  return (
    <div>
      <Space style={spread} align="center">
        <Typography.Title level={3}>{t('approvals.title')}</Typography.Title>
        <Button icon={<ReloadOutlined />} loading={loading} onClick={() => void load()} data-testid="approvals-refresh">
          {t('common:actions.refresh')}
        </Button>
      </Space>
      <ErrorAlert error={loadError} onRetry={() => void load()} style={below.md} />

      <Card
        size="small"
        style={below.lg}
        title={
          <Space>
            <span>{t('approvals.queue_title')}</span>
            <Badge count={queue.length} showZero color={queue.length ? '#faad14' : themed('neutral', '#d9d9d9')} data-testid="approvals-count" />
          </Space>
        }
      >
        <Typography.Paragraph type="secondary">{t('approvals.queue_help')}</Typography.Paragraph>
        <Table<RefundRecord>
          size="small"
          rowKey="id"
          columns={queueColumns}
          dataSource={queue}
          loading={loading && queue.length === 0}
          pagination={queue.length > 20 ? { pageSize: 20 } : false}
          locale={{ emptyText: t('approvals.queue_empty') }}
          onRow={(r) =>
            ({ 'data-testid': `queue-row-${r.id}`, 'data-state': r.state }) as React.HTMLAttributes<HTMLElement>
          }
        />
      </Card>

      <Card
        size="small"
        title={t('approvals.recent_title')}
        extra={
          <Select<RefundState[]>
            mode="multiple"
            allowClear
            style={{ minWidth: 240 }}
            placeholder={t('approvals.filter_states')}
            value={stateFilter}
            onChange={setStateFilter}
            data-testid="approvals-filter-state"
            options={REFUND_STATES.map((s) => ({ value: s, label: t(`common:refund_state.${s}`) }))}
          />
        }
      >
        <RefundsTable
          refunds={shownRecent}
          emptyText={t('refunds.none')}
          rowTestId={(r) => `approval-row-${r.id}`}
          expandable={{
            onExpand: (isOpen, r) => {
              if (isOpen) {
                expanded.current.add(r.id);
                if (!events[r.id]) void loadEvents(r.id);
              } else {
                expanded.current.delete(r.id);
              }
            },
            expandedRowRender: (r) => <RefundHistory rec={r} entry={events[r.id]} onRetry={() => void loadEvents(r.id)} />,
          }}
        />
      </Card>

      <Modal
        open={decision !== null}
        title={
          decision
            ? t(decision.approve ? 'approvals.confirm_approve' : 'approvals.confirm_reject', {
                refund: decision.rec.refund_no,
                amount: money(decision.rec),
              })
            : ''
        }
        onCancel={() => setDecision(null)}
        destroyOnHidden
        footer={[
          <Button key="cancel" onClick={() => setDecision(null)}>
            {t('common:actions.cancel')}
          </Button>,
          <Button
            key="ok"
            type="primary"
            danger={decision ? !decision.approve : false}
            loading={deciding}
            onClick={() => void confirm()}
            data-testid="approval-confirm"
          >
            {decision?.approve ? t('approvals.approve') : t('approvals.reject')}
          </Button>,
        ]}
      >
        {decision && (
          <div>
            <Typography.Paragraph>
              {t('approvals.confirm_detail', {
                user: decision.rec.requested_by,
                order: decision.rec.order_no,
                reason: decision.rec.reason,
              })}
            </Typography.Paragraph>
            {decision.approve && (
              <Typography.Paragraph type="secondary">{t('approvals.approve_sends')}</Typography.Paragraph>
            )}
            <Typography.Text>{t('approvals.note')}</Typography.Text>
            <Input.TextArea
              ref={noteRef}
              value={note}
              rows={3}
              maxLength={500}
              placeholder={t('approvals.note_placeholder')}
              onChange={(e) => setNote(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void confirm();
              }}
              data-testid="approval-note"
            />
            <ErrorAlert error={decideError} style={above.md} data-testid="approval-error" />
          </div>
        )}
      </Modal>
    </div>
  );
}

function RefundHistory({
  rec,
  entry,
  onRetry,
}: {
  rec: RefundRecord;
  entry: RefundDetail | 'loading' | { error: unknown } | undefined;
  onRetry: () => void;
}) {
  const { t } = useTranslation('orders');
  const { lang } = useSession();
  if (entry === undefined || entry === 'loading') return <Typography.Text type="secondary">{t('common:labels.loading')}</Typography.Text>;
  if ('error' in entry) return <ErrorAlert error={entry.error} onRetry={onRetry} />;
  return (
    <div>
      <Typography.Paragraph type="secondary">
        {t('approvals.history_of', { refund: rec.refund_no, attempts: rec.attempts })}
      </Typography.Paragraph>
      <Timeline
        items={entry.events.map((e) => ({
          children: (
            <span>
              {formatDateTime(e.at, lang)} · {e.actor} ·{' '}
              {e.from_state ? `${t(`common:refund_state.${e.from_state}`)} → ` : ''}
              {t(`common:refund_state.${e.to_state}`)}
              {e.note ? ` · ${e.note}` : ''}
            </span>
          ),
        }))}
      />
    </div>
  );
}
