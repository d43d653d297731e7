// The search box: order number, transaction id or customer reference.
import type { Ref } from 'react';
import type { InputRef } from 'antd';
import { Button, Card, Input, Space, Typography } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../components/ErrorNotice';
import { above, below, WIDTH } from '../../styles';

export interface OrderSearchProps {
  text: string;
  onTextChange: (text: string) => void;
  onSearch: () => void;
  searching: boolean;
  /** Shown instead of the help line (an empty query). */
  hint: string | null;
  error: unknown;
  inputRef?: Ref<InputRef>;
}

export default function OrderSearch({ text, onTextChange, onSearch, searching, hint, error, inputRef }: OrderSearchProps) {
  const { t } = useTranslation('orders');
  return (
    <Card size="small" style={below.lg}>
      <Space.Compact style={{ width: '100%', maxWidth: WIDTH.search }}>
        <Input
          ref={inputRef}
          value={text}
          allowClear
          prefix={<SearchOutlined />}
          placeholder={t('search.placeholder')}
          onChange={(e) => onTextChange(e.target.value)}
          onPressEnter={onSearch}
          data-testid="order-search"
          aria-label={t('search.placeholder')}
        />
        <Button type="primary" loading={searching} onClick={onSearch} data-testid="order-search-submit">
          {t('common:actions.search')}
        </Button>
      </Space.Compact>
      <div style={above.xs}>
        <Typography.Text type={hint ? 'warning' : 'secondary'}>{hint ?? t('search.help')}</Typography.Text>
      </div>
      <ErrorAlert error={error} style={above.sm} />
    </Card>
  );
}
