// The open order: its title and status, "ask the provider", refresh, refund, and the detail.
import { Button, Card, Space, Switch, Tooltip } from 'antd';
import { ReloadOutlined, RollbackOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorNotice';
import { below, mono } from '../../styles';
import type { OrderDetail } from '../../types';
import OrderDetailBody from './OrderDetailBody';
import OrderStatusTag from './OrderStatusTag';

export interface OrderDetailCardProps {
  orderNo: string;
  detail: OrderDetail | null;
  loading: boolean;
  error: unknown;
  queryProvider: boolean;
  onQueryProviderChange: (on: boolean) => void;
  onRefresh: () => void;
  canRefund: boolean;
  onRefund: () => void;
}

export default function OrderDetailCard({
  orderNo,
  detail,
  loading,
  error,
  queryProvider,
  onQueryProviderChange,
  onRefresh,
  canRefund,
  onRefund,
}: OrderDetailCardProps) {
  const { t } = useTranslation('orders');
  return (
    <Card
      data-testid="order-detail"
      loading={loading && !detail}
      title={
        <Space wrap>
          <span>{t('detail.title')}</span>
          <span style={mono}>{orderNo}</span>
          {detail && <OrderStatusTag status={detail.order.status} />}
        </Space>
      }
      extra={
        <Space wrap>
          <Space>
            <Switch
              checked={queryProvider}
              onChange={onQueryProviderChange}
              data-testid="order-query-provider"
              aria-label={t('detail.query_provider')}
            />
            <span>{t('detail.query_provider')}</span>
          </Space>
          <Button icon={<ReloadOutlined />} loading={loading} onClick={onRefresh} data-testid="order-refresh">
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
                onClick={onRefund}
                data-testid="refund-open"
              >
                {t('detail.refund')}
              </Button>
            </Tooltip>
          )}
        </Space>
      }
    >
      <ErrorAlert error={error} onRetry={onRefresh} style={below.md} />
      {detail && <OrderDetailBody detail={detail} />}
    </Card>
  );
}
