// What support sees before searching: the latest refunds, theirs and the team's, so that the
// work in progress is one click away. Follows refund events live.
import { useEffect, useState } from 'react';
import { Card, Empty, Segmented, Table, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { formatDateTime, formatMoney } from '../../format';
import { useSession } from '../../session';
import type { RefundRecord } from '../../types';
import { mergeRefunds, RefundStateTag, upsertRefund, useRefundUpdates } from './refundUi';

export const RECENT_LIMIT = 30;
const MONO = { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', fontSize: 12 };

export default function RecentRefunds({ onOpen }: { onOpen: (orderNo: string) => void }) {
  const { t } = useTranslation('orders');
  const { lang, me } = useSession();
  const [rows, setRows] = useState<RefundRecord[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [whose, setWhose] = useState<'mine' | 'team'>('team');

  useEffect(() => {
    let alive = true;
    commands.refunds(null, RECENT_LIMIT).then(
      (r) => alive && setRows((prev) => mergeRefunds(r, prev ?? [])),
      (e) => alive && setError(e),
    );
    return () => {
      alive = false;
    };
  }, []);
  useRefundUpdates((rec) => setRows((prev) => (prev ? upsertRefund(prev, rec) : prev)));

  const shown = (rows ?? []).filter((r) => whose === 'team' || r.requested_by === me?.username);
  return (
    <Card
      size="small"
      title={t('recent.title')}
      data-testid="recent-refunds"
      style={{ marginTop: 16 }}
      extra={
        <Segmented
          size="small"
          value={whose}
          onChange={(v) => setWhose(v as 'mine' | 'team')}
          options={[
            { value: 'team', label: t('recent.team') },
            { value: 'mine', label: t('recent.mine') },
          ]}
          data-testid="recent-refunds-whose"
        />
      }
    >
      <ErrorAlert error={error} />
      <Table<RefundRecord>
        size="small"
        rowKey="id"
        loading={rows === null && !error}
        dataSource={shown}
        pagination={false}
        locale={{ emptyText: <Empty description={t('recent.empty')} /> }}
        onRow={(r) => ({
          onClick: () => onOpen(r.order_no),
          style: { cursor: 'pointer' },
          'data-testid': `recent-refund-${r.refund_no}`,
        })}
        columns={[
          { title: t('recent.col.refund'), dataIndex: 'refund_no', render: (v: string) => <span style={MONO}>{v}</span> },
          { title: t('recent.col.order'), dataIndex: 'order_no', render: (v: string) => <span style={MONO}>{v}</span> },
          {
            title: t('recent.col.amount'),
            align: 'right',
            render: (_, r) => formatMoney(r.amount, r.currency, lang),
          },
          { title: t('recent.col.state'), render: (_, r) => <RefundStateTag state={r.state} /> },
          {
            title: t('recent.col.by'),
            render: (_, r) => (r.requested_by === me?.username ? <Tag>{t('recent.you')}</Tag> : r.requested_by),
          },
          { title: t('recent.col.when'), render: (_, r) => formatDateTime(r.requested_at, lang) },
        ]}
      />
    </Card>
  );
}
