// The orders a search found; a row opens the order (click or Enter).
import { Card, Empty, Table } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatMoney } from '../../format';
import { useSession } from '../../session';
import { amountText, below, mono } from '../../styles';
import type { Order, OrderStatus } from '../../types';
import OrderStatusTag from './OrderStatusTag';

export interface OrderResultsProps {
  results: Order[];
  /** The query, for the "nothing found" line. */
  text: string;
  selected: string | null;
  onOpen: (orderNo: string) => void;
}

export default function OrderResults({ results, text, selected, onOpen }: OrderResultsProps) {
  const { t } = useTranslation('orders');
  const { lang } = useSession();
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
      render: (_: number, o) => <span style={amountText}>{money(o.amount, o.currency)}</span>,
    },
    {
      title: t('columns.status'),
      dataIndex: 'status',
      render: (s: OrderStatus) => <OrderStatusTag status={s} />,
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
    <Card size="small" title={t('search.results', { count: results.length })} style={below.lg}>
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
            onClick: () => onOpen(o.order_no),
            onKeyDown: (e: React.KeyboardEvent) => {
              if (e.key === 'Enter') onOpen(o.order_no);
            },
          }) as React.HTMLAttributes<HTMLElement>
        }
      />
    </Card>
  );
}
