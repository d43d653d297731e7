// A list of refunds, the same on the approvals page (recent refunds, every state) and on the
// orders page (what support lands on): number, order, amount, state, who asked and who
// decided, last change.
import type { HTMLAttributes, ReactNode } from 'react';
import { Button, Table } from 'antd';
import type { TableProps } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatMoney } from '../../format';
import { useSession } from '../../session';
import { amountText, mono } from '../../styles';
import type { RefundRecord } from '../../types';
import { RefundStateTag, RequestedBy } from './refundUi';

export interface RefundsTableProps {
  refunds: RefundRecord[];
  loading?: boolean;
  emptyText: ReactNode;
  /** Each row's data-testid (rows also carry data-state). */
  rowTestId: (r: RefundRecord) => string;
  /**
   * Opens a refund's order: its number becomes a link (data-testid `open-order-<refund no>`)
   * and a click on the row opens it too.
   */
  onOpenOrder?: (orderNo: string) => void;
  pageSize?: number;
  expandable?: TableProps<RefundRecord>['expandable'];
}

export default function RefundsTable({
  refunds,
  loading,
  emptyText,
  rowTestId,
  onOpenOrder,
  pageSize = 25,
  expandable,
}: RefundsTableProps) {
  const { t } = useTranslation('orders');
  const { lang } = useSession();

  const columns: ColumnsType<RefundRecord> = [
    { title: '#', dataIndex: 'id', width: 64 },
    {
      title: t('refunds.refund_no'),
      dataIndex: 'refund_no',
      render: (v: string) => <span style={mono}>{v}</span>,
    },
    {
      title: t('approvals.order'),
      dataIndex: 'order_no',
      render: (v: string, r) =>
        onOpenOrder ? (
          <Button
            type="link"
            size="small"
            style={{ padding: 0, height: 'auto' }}
            title={t('recent.open_order', { order: v })}
            onClick={(e) => {
              // The row would open it a second time.
              e.stopPropagation();
              onOpenOrder(v);
            }}
            data-testid={`open-order-${r.refund_no}`}
          >
            <span style={mono}>{v}</span>
          </Button>
        ) : (
          <span style={mono}>{v}</span>
        ),
    },
    {
      title: t('columns.amount'),
      dataIndex: 'amount',
      align: 'right',
      render: (_: number, r) => <span style={amountText}>{formatMoney(r.amount, r.currency, lang)}</span>,
    },
    {
      title: t('columns.state'),
      dataIndex: 'state',
      render: (_: string, r) => <RefundStateTag state={r.state} />,
    },
    {
      title: t('approvals.requested_by'),
      dataIndex: 'requested_by',
      render: (v: string) => <RequestedBy username={v} />,
    },
    {
      title: t('refunds.decided'),
      dataIndex: 'decided_by',
      render: (v: string | null) => v ?? '—',
    },
    {
      title: t('approvals.updated'),
      dataIndex: 'updated_at',
      render: (v: string) => formatDateTime(v, lang),
    },
  ];

  return (
    <Table<RefundRecord>
      size="small"
      rowKey="id"
      columns={columns}
      dataSource={refunds}
      loading={loading}
      pagination={{ pageSize, showSizeChanger: false, hideOnSinglePage: true }}
      locale={{ emptyText }}
      onRow={(r) =>
        ({
          'data-testid': rowTestId(r),
          'data-state': r.state,
          ...(onOpenOrder ? { onClick: () => onOpenOrder(r.order_no), style: { cursor: 'pointer' } } : {}),
        }) as HTMLAttributes<HTMLElement>
      }
      expandable={expandable}
    />
  );
}
