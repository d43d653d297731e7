// Orders and refunds (support agents): find an order, see what was paid and refunded, refund.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { InputRef } from 'antd';
import {
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Input,
  Row,
  Space,
  Statistic,
  Switch,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { ReloadOutlined, RollbackOutlined, SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { call } from '../../api';
import { ErrorAlert } from '../../components/ErrorNotice';
import { formatDateTime, formatMoney } from '../../format';
import { useNavParams } from '../../nav';
import { useSession } from '../../session';
import type {
  LocalRefund,
  Order,
  OrderDetail,
  OrderStatus,
  ProviderRefundView,
  RefundLimits,
  RefundRecord,
} from '../../types';
import RefundDialog from './RefundDialog';
import { mergeRefunds, RefundStateTag, upsertRefund, useRefundUpdates } from './refundUi';

export const SEARCH_LIMIT = 50;

const STATUS_COLORS: Record<OrderStatus, string> = {
  pending: 'default',
  paid: 'green',
  closed: 'default',
  partially_refunded: 'orange',
  refunded: 'purple',
};

const mono: React.CSSProperties = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' };
const num: React.CSSProperties = { fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' };

export default function OrdersPage() {
  const { t } = useTranslation('orders');
  const { lang, can } = useSession();
  const [text, setText] = useState('');
  const [results, setResults] = useState<Order[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<unknown>(null);
  const [hint, setHint] = useState<string | null>(null);

  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<OrderDetail | null>(null);
  const [detailLoading, setDetailLoading] = useState(false);
  const [detailError, setDetailError] = useState<unknown>(null);
  const [queryProvider, setQueryProvider] = useState(false);

  const [limits, setLimits] = useState<RefundLimits | null>(null);
  const [refundOpen, setRefundOpen] = useState(false);
  const searchRef = useRef<InputRef>(null);
  const detailRef = useRef<OrderDetail | null>(null);
  detailRef.current = detail;
  const canRefund = can('refund_request');

  // Opened with #/orders?q=ORDER-NO (from another page): search it at once.
  const navQuery = useNavParams().q;
  useEffect(() => {
    searchRef.current?.focus();
  }, []);
  useEffect(() => {
    if (navQuery) {
      setText(navQuery);
      void search(navQuery);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [navQuery]);

  useEffect(() => {
    if (!canRefund) return;
    call<RefundLimits>('refund_limits')
      .then(setLimits)
      .catch(() => setLimits(null));
  }, [canRefund]);

  const loadDetail = useCallback(async (orderNo: string, qp: boolean) => {
    setDetailLoading(true);
    setDetailError(null);
    try {
      const d = await call<OrderDetail>('order_detail', { key: orderNo, queryProvider: qp });
      setDetail((prev) =>
        prev && prev.order.order_no === d.order.order_no
          ? { ...d, paydesk_refunds: mergeRefunds(d.paydesk_refunds, prev.paydesk_refunds) }
          : d,
      );
    } catch (e) {
      setDetailError(e);
    } finally {
      setDetailLoading(false);
    }
  }, []);

  // A quiet refresh of the amounts after a refund changed (keeps the provider's view).
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refreshAmounts = useCallback((orderNo: string) => {
    if (refreshTimer.current) clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => {
      call<OrderDetail>('order_detail', { key: orderNo, queryProvider: false })
        .then((d) =>
          setDetail((prev) => {
            if (!prev || prev.order.order_no !== d.order.order_no) return prev;
            return {
              ...d,
              paydesk_refunds: mergeRefunds(d.paydesk_refunds, prev.paydesk_refunds),
              provider_payment: prev.provider_payment,
              provider_refunds: prev.provider_refunds,
            };
          }),
        )
        .catch(() => {
          // the next manual refresh shows the problem
        });
    }, 400);
  }, []);
  useEffect(
    () => () => {
      if (refreshTimer.current) clearTimeout(refreshTimer.current);
    },
    [],
  );

  useRefundUpdates((rec) => {
    const d = detailRef.current;
    if (!d || d.order.order_no !== rec.order_no || d.order.provider !== rec.provider) return;
    setDetail((prev) => (prev ? { ...prev, paydesk_refunds: upsertRefund(prev.paydesk_refunds, rec) } : prev));
    refreshAmounts(rec.order_no);
  });

  function open(orderNo: string) {
    setSelected(orderNo);
    setDetail(null);
    void loadDetail(orderNo, queryProvider);
  }

  async function search(query?: string) {
    const q = (query ?? text).trim();
    if (q === '') {
      setHint(t('search.empty_query'));
      return;
    }
    setHint(null);
    setSearching(true);
    setSearchError(null);
    try {
      const found = await call<Order[]>('search_orders', { text: q, limit: SEARCH_LIMIT });
      setResults(found);
      if (found.length === 1) open(found[0].order_no);
    } catch (e) {
      setSearchError(e);
      setResults(null);
    } finally {
      setSearching(false);
    }
  }

  const money = (minor: number, currency: string) => formatMoney(minor, currency, lang);

  const orderColumns: ColumnsType<Order> = [
    {
      title: t('columns.order_no'),
      dataIndex: 'order_no',
      render: (v: string) => <span style={mono}>{v}</span>,
    },
    {
      title: t('columns.provider'),
      dataIndex: 'provider',
      render: (p: string) => t(`common:provider.${p}`),
    },
    {
      title: t('columns.amount'),
      dataIndex: 'amount',
      align: 'right',
      render: (_: number, o) => <span style={num}>{money(o.amount, o.currency)}</span>,
    },
    {
      title: t('columns.status'),
      dataIndex: 'status',
      render: (s: OrderStatus) => <Tag color={STATUS_COLORS[s]}>{t(`status.${s}`)}</Tag>,
    },
    {
      title: t('columns.paid_at'),
      dataIndex: 'paid_at',
      render: (v: string | null) => (v ? formatDateTime(v, lang) : '—'),
    },
    {
      title: t('columns.customer_ref'),
      dataIndex: 'customer_ref',
      render: (v: string | null) => v ?? '—',
    },
  ];

  return (
    <div>
      <Typography.Title level={3}>{t('title')}</Typography.Title>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Space.Compact style={{ width: '100%', maxWidth: 640 }}>
          <Input
            ref={searchRef}
            value={text}
            allowClear
            prefix={<SearchOutlined />}
            placeholder={t('search.placeholder')}
            onChange={(e) => setText(e.target.value)}
            onPressEnter={() => void search()}
            data-testid="order-search"
            aria-label={t('search.placeholder')}
          />
          <Button type="primary" loading={searching} onClick={() => void search()} data-testid="order-search-submit">
            {t('common:actions.search')}
          </Button>
        </Space.Compact>
        <div style={{ marginTop: 4 }}>
          <Typography.Text type={hint ? 'warning' : 'secondary'}>{hint ?? t('search.help')}</Typography.Text>
        </div>
        <ErrorAlert error={searchError} style={{ marginTop: 8 }} />
      </Card>

      {results !== null && (
        <Card size="small" title={t('search.results', { count: results.length })} style={{ marginBottom: 16 }}>
          <Table<Order>
            size="small"
            rowKey={(o) => `${o.provider}:${o.order_no}`}
            columns={orderColumns}
            dataSource={results}
            pagination={results.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
            locale={{ emptyText: <Empty description={t('search.none', { text: text.trim() })} /> }}
            rowClassName={(o) => (o.order_no === selected ? 'ant-table-row-selected' : '')}
            onRow={(o) =>
              ({
                'data-testid': `order-row-${o.order_no}`,
                tabIndex: 0,
                style: { cursor: 'pointer' },
                onClick: () => open(o.order_no),
                onKeyDown: (e: React.KeyboardEvent) => {
                  if (e.key === 'Enter') open(o.order_no);
                },
              }) as React.HTMLAttributes<HTMLElement>
            }
          />
        </Card>
      )}

      {selected && (
        <Card
          data-testid="order-detail"
          loading={detailLoading && !detail}
          title={
            <Space wrap>
              <span>{t('detail.title')}</span>
              <span style={mono}>{selected}</span>
              {detail && (
                <Tag color={STATUS_COLORS[detail.order.status]}>{t(`status.${detail.order.status}`)}</Tag>
              )}
            </Space>
          }
          extra={
            <Space wrap>
              <Space>
                <Switch
                  checked={queryProvider}
                  onChange={(v) => {
                    setQueryProvider(v);
                    if (selected) void loadDetail(selected, v);
                  }}
                  data-testid="order-query-provider"
                  aria-label={t('detail.query_provider')}
                />
                <span>{t('detail.query_provider')}</span>
              </Space>
              <Button
                icon={<ReloadOutlined />}
                loading={detailLoading}
                onClick={() => selected && void loadDetail(selected, queryProvider)}
                data-testid="order-refresh"
              >
                {t('common:actions.refresh')}
              </Button>
              {canRefund && detail && (
                <Tooltip
                  title={
                    !detail.account
                      ? t('detail.no_account')
                      : detail.refundable <= 0
                        ? t('detail.nothing_refundable')
                        : undefined
                  }
                >
                  <Button
                    type="primary"
                    danger
                    icon={<RollbackOutlined />}
                    disabled={!detail.account || detail.refundable <= 0}
                    onClick={() => setRefundOpen(true)}
                    data-testid="refund-open"
                  >
                    {t('detail.refund')}
                  </Button>
                </Tooltip>
              )}
            </Space>
          }
        >
          <ErrorAlert
            error={detailError}
            onRetry={() => selected && void loadDetail(selected, queryProvider)}
            style={{ marginBottom: 12 }}
          />
          {detail && <DetailBody detail={detail} />}
        </Card>
      )}

      {detail && canRefund && (
        <RefundDialog
          open={refundOpen}
          detail={detail}
          limits={limits}
          onClose={() => setRefundOpen(false)}
          onCreated={(rec) => {
            setDetail((prev) =>
              prev ? { ...prev, paydesk_refunds: upsertRefund(prev.paydesk_refunds, rec) } : prev,
            );
            // The amounts (refundable, in flight) changed.
            refreshAmounts(rec.order_no);
          }}
        />
      )}
    </div>
  );
}

function DetailBody({ detail }: { detail: OrderDetail }) {
  const { t } = useTranslation('orders');
  const { lang } = useSession();
  const c = detail.currency;
  const money = (minor: number, currency: string = c) => formatMoney(minor, currency, lang);
  const o = detail.order;

  const refundColumns: ColumnsType<RefundRecord> = [
    {
      title: t('refunds.refund_no'),
      dataIndex: 'refund_no',
      render: (v: string) => <span style={mono}>{v}</span>,
    },
    {
      title: t('columns.amount'),
      dataIndex: 'amount',
      align: 'right',
      render: (_: number, r) => <span style={num}>{money(r.amount, r.currency)}</span>,
    },
    {
      title: t('columns.state'),
      dataIndex: 'state',
      render: (_: string, r) => <RefundStateTag state={r.state} />,
    },
    { title: t('refunds.reason'), dataIndex: 'reason' },
    {
      title: t('refunds.requested'),
      dataIndex: 'requested_at',
      render: (_: string, r) => (
        <span>
          {r.requested_by}
          <br />
          <Typography.Text type="secondary">{formatDateTime(r.requested_at, lang)}</Typography.Text>
        </span>
      ),
    },
    {
      title: t('refunds.decided'),
      dataIndex: 'decided_by',
      render: (_: string | null, r) =>
        r.decided_by ? (
          <span>
            {r.decided_by}
            {r.decided_at && (
              <>
                <br />
                <Typography.Text type="secondary">{formatDateTime(r.decided_at, lang)}</Typography.Text>
              </>
            )}
          </span>
        ) : (
          '—'
        ),
    },
    {
      title: t('refunds.note'),
      key: 'note',
      render: (_: unknown, r) => {
        const parts = [r.approval_reason, r.decision_note, r.failure_reason, r.last_error].filter(
          (x): x is string => !!x,
        );
        return parts.length ? (
          <Typography.Text type={r.state === 'failed' || r.state === 'needs_attention' ? 'danger' : undefined}>
            {parts.join(' · ')}
          </Typography.Text>
        ) : (
          '—'
        );
      },
    },
  ];

  const mirrorColumns: ColumnsType<LocalRefund> = [
    {
      title: t('refunds.refund_no'),
      dataIndex: 'refund_no',
      render: (v: string) => <span style={mono}>{v}</span>,
    },
    {
      title: t('columns.amount'),
      dataIndex: 'amount',
      align: 'right',
      render: (_: number, r) => <span style={num}>{money(r.amount, r.currency)}</span>,
    },
    {
      title: t('refunds.refunded_at'),
      dataIndex: 'refunded_at',
      render: (v: string) => formatDateTime(v, lang),
    },
    {
      title: t('refunds.provider_refund_id'),
      dataIndex: 'provider_refund_id',
      render: (v: string | null) => (v ? <span style={mono}>{v}</span> : '—'),
    },
    {
      title: t('refunds.origin'),
      dataIndex: 'origin',
      render: (v: string) => <Tag>{t(`origin.${v}`)}</Tag>,
    },
  ];

  const providerColumns: ColumnsType<ProviderRefundView> = [
    {
      title: t('refunds.refund_no'),
      dataIndex: 'refund_no',
      render: (v: string) => <span style={mono}>{v}</span>,
    },
    {
      title: t('columns.amount'),
      dataIndex: 'amount',
      align: 'right',
      render: (v: number | null) => <span style={num}>{v === null ? '—' : money(v)}</span>,
    },
    { title: t('columns.state'), dataIndex: 'state', render: (v: string) => <Tag>{v}</Tag> },
    { title: t('provider_view.status'), dataIndex: 'provider_status' },
    {
      title: t('refunds.note'),
      dataIndex: 'error',
      render: (v: string | null) => (v ? <Typography.Text type="danger">{v}</Typography.Text> : '—'),
    },
  ];

  const pp = detail.provider_payment;
  return (
    <div>
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('columns.provider')}>{t(`common:provider.${o.provider}`)}</Descriptions.Item>
        <Descriptions.Item label={t('detail.account')}>{detail.account ?? t('detail.no_account')}</Descriptions.Item>
        <Descriptions.Item label={t('detail.txn_id')}>
          {o.provider_txn_id ? (
            <Typography.Text copyable style={mono}>
              {o.provider_txn_id}
            </Typography.Text>
          ) : (
            '—'
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('detail.order_amount')}>
          <span style={num}>{money(o.amount, o.currency)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('detail.created_at')}>{formatDateTime(o.created_at, lang)}</Descriptions.Item>
        <Descriptions.Item label={t('columns.paid_at')}>
          {o.paid_at ? formatDateTime(o.paid_at, lang) : '—'}
        </Descriptions.Item>
        <Descriptions.Item label={t('columns.customer_ref')}>{o.customer_ref ?? '—'}</Descriptions.Item>
      </Descriptions>

      <Row gutter={[12, 12]} style={{ marginBottom: 16 }}>
        <Col xs={12} md={8} xl={4}>
          <Card size="small">
            <Statistic title={t('detail.paid')} value={money(detail.paid)} />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={5}>
          <Card size="small">
            <Statistic title={t('detail.refunded_outside')} value={money(detail.refunded_outside_paydesk)} />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={5}>
          <Card size="small">
            <Statistic title={t('detail.refunded_by_paydesk')} value={money(detail.refunded_by_paydesk)} />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={5}>
          <Card size="small">
            <Statistic title={t('detail.in_flight')} value={money(detail.in_flight)} />
          </Card>
        </Col>
        <Col xs={24} md={8} xl={5}>
          <Card size="small" style={{ borderColor: detail.refundable > 0 ? '#52c41a' : undefined }}>
            <div data-testid="order-refundable" data-minor={detail.refundable}>
              <Statistic
                title={t('detail.refundable')}
                value={money(detail.refundable)}
                valueStyle={{ color: detail.refundable > 0 ? '#389e0d' : undefined }}
              />
            </div>
          </Card>
        </Col>
      </Row>

      <Typography.Title level={5}>{t('refunds.paydesk_title')}</Typography.Title>
      <Table<RefundRecord>
        size="small"
        rowKey="id"
        columns={refundColumns}
        dataSource={detail.paydesk_refunds}
        pagination={false}
        style={{ marginBottom: 16 }}
        locale={{ emptyText: t('refunds.none') }}
        onRow={(r) =>
          ({
            'data-testid': `refund-row-${r.refund_no}`,
            'data-state': r.state,
          }) as React.HTMLAttributes<HTMLElement>
        }
      />

      <Typography.Title level={5}>{t('refunds.mirror_title')}</Typography.Title>
      <Table<LocalRefund>
        size="small"
        rowKey={(r) => `${r.origin}:${r.refund_no}`}
        columns={mirrorColumns}
        dataSource={detail.mirror_refunds}
        pagination={false}
        style={{ marginBottom: 16 }}
        locale={{ emptyText: t('refunds.none') }}
        onRow={(r) => ({ 'data-testid': `mirror-refund-row-${r.refund_no}` }) as React.HTMLAttributes<HTMLElement>}
      />

      {(pp || detail.provider_refunds.length > 0) && (
        <div data-testid="provider-view">
          <Typography.Title level={5}>{t('provider_view.title')}</Typography.Title>
          {pp && (
            <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }} style={{ marginBottom: 8 }}>
              <Descriptions.Item label={t('provider_view.payment_state')}>{pp.state ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('provider_view.status')}>{pp.provider_status ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('columns.amount')}>
                {pp.amount === null ? '—' : <span style={num}>{money(pp.amount)}</span>}
              </Descriptions.Item>
              {pp.error && (
                <Descriptions.Item label={t('provider_view.error')}>
                  <Typography.Text type="danger">{pp.error}</Typography.Text>
                </Descriptions.Item>
              )}
            </Descriptions>
          )}
          {pp && pp.amount !== null && pp.amount !== detail.paid && (
            <Typography.Paragraph type="warning">
              {t('provider_view.amount_differs', { provider: money(pp.amount), paid: money(detail.paid) })}
            </Typography.Paragraph>
          )}
          <Table<ProviderRefundView>
            size="small"
            rowKey="refund_no"
            columns={providerColumns}
            dataSource={detail.provider_refunds}
            pagination={false}
            locale={{ emptyText: t('refunds.none') }}
          />
        </div>
      )}
    </div>
  );
}
