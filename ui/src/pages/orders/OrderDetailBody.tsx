// What Paydesk knows about one order: amounts (paid, refunded, in flight, refundable), its
// refunds (Paydesk's own, the mirrored ones) and, when asked for, the provider's view.
import { Card, Col, Descriptions, Row, Statistic, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatMoney } from '../../format';
import { useSession } from '../../session';
import { amountText, below, COLOR, mono } from '../../styles';
import type { LocalRefund, OrderDetail, ProviderRefundView, RefundRecord } from '../../types';
import { RefundStateTag } from './refundUi';

export default function OrderDetailBody({ detail }: { detail: OrderDetail }) {
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
      render: (_: number, r) => <span style={amountText}>{money(r.amount, r.currency)}</span>,
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
      render: (_: number, r) => <span style={amountText}>{money(r.amount, r.currency)}</span>,
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
      render: (v: number | null) => <span style={amountText}>{v === null ? '—' : money(v)}</span>,
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
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} style={below.lg}>
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
          <span style={amountText}>{money(o.amount, o.currency)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('detail.created_at')}>{formatDateTime(o.created_at, lang)}</Descriptions.Item>
        <Descriptions.Item label={t('columns.paid_at')}>
          {o.paid_at ? formatDateTime(o.paid_at, lang) : '—'}
        </Descriptions.Item>
        <Descriptions.Item label={t('columns.customer_ref')}>{o.customer_ref ?? '—'}</Descriptions.Item>
      </Descriptions>

      <Row gutter={[12, 12]} style={below.lg}>
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
          <Card size="small" style={{ borderColor: detail.refundable > 0 ? COLOR.success : undefined }}>
            <div data-testid="order-refundable" data-minor={detail.refundable}>
              <Statistic
                title={t('detail.refundable')}
                value={money(detail.refundable)}
                valueStyle={{ color: detail.refundable > 0 ? COLOR.successText : undefined }}
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
        style={below.lg}
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
        style={below.lg}
        locale={{ emptyText: t('refunds.none') }}
        onRow={(r) => ({ 'data-testid': `mirror-refund-row-${r.refund_no}` }) as React.HTMLAttributes<HTMLElement>}
      />

      {(pp || detail.provider_refunds.length > 0) && (
        <div data-testid="provider-view">
          <Typography.Title level={5}>{t('provider_view.title')}</Typography.Title>
          {pp && (
            <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }} style={below.sm}>
              <Descriptions.Item label={t('provider_view.payment_state')}>{pp.state ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('provider_view.status')}>{pp.provider_status ?? '—'}</Descriptions.Item>
              <Descriptions.Item label={t('columns.amount')}>
                {pp.amount === null ? '—' : <span style={amountText}>{money(pp.amount)}</span>}
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
