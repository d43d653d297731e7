import { Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import type { OrderStatus } from '../../types';

const STATUS_COLORS: Record<OrderStatus, string> = {
  pending: 'default',
  paid: 'green',
  closed: 'default',
  partially_refunded: 'orange',
  refunded: 'purple',
};

/** An order's status, coloured. */
export default function OrderStatusTag({ status }: { status: OrderStatus }) {
  const { t } = useTranslation('orders');
  return <Tag color={STATUS_COLORS[status]}>{t(`status.${status}`)}</Tag>;
}
