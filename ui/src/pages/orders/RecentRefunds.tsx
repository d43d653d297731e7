// What support sees while the search is empty: the latest refunds, their own ("Mine") or
// everyone's ("Team"), newest first, following refund events live; a refund's order number
// opens that order.
import { useCallback, useEffect, useState } from 'react';
import { Button, Card, Empty, Segmented, Space } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { below } from '../../styles';
import type { RefundRecord } from '../../types';
import { mergeRefunds, newestFirst, RECENT_LIMIT, upsertRefund, useRefundUpdates } from './refundUi';
import RefundsTable from './RefundsTable';

export type Whose = 'mine' | 'team';
export const PAGE_SIZE = 10;
/** The segment last chosen, kept for the window's session (the list comes back after each search). */
export const WHOSE_KEY = 'paydesk.orders.recent_refunds';

function loadWhose(fallback: Whose): Whose {
  try {
    const v = window.sessionStorage.getItem(WHOSE_KEY);
    return v === 'mine' || v === 'team' ? v : fallback;
  } catch {
    return fallback;
  }
}

function saveWhose(v: Whose): void {
  try {
    window.sessionStorage.setItem(WHOSE_KEY, v);
  } catch {
    // storage unavailable: the choice lasts while the list is shown
  }
}

export default function RecentRefunds({ onOpenOrder }: { onOpenOrder: (orderNo: string) => void }) {
  const { t } = useTranslation('orders');
  const { me, can } = useSession();
  // Only those who request refunds have refunds of their own; the others see the team's.
  const hasOwn = can('refund_request');
  const [whose, setWhose] = useState<Whose>(() => (hasOwn ? loadWhose('mine') : 'team'));
  const [rows, setRows] = useState<RefundRecord[] | null>(null);
  const { run: read, loading, error } = useCommand(() => commands.refunds(null, RECENT_LIMIT));

  const load = useCallback(async () => {
    const r = await read();
    if (r.status === 'ok') setRows((prev) => mergeRefunds(r.value, prev ?? []));
  }, [read]);
  useEffect(() => {
    void load();
  }, [load]);
  useRefundUpdates((rec) => setRows((prev) => (prev ? upsertRefund(prev, rec) : prev)));

  function choose(v: Whose) {
    setWhose(v);
    saveWhose(v);
  }

  const all = newestFirst(rows ?? []);
  const showMine = hasOwn && whose === 'mine';
  const shown = showMine ? all.filter((r) => r.requested_by === me?.username) : all;

  let emptyText;
  if (rows === null) {
    emptyText = ' ';
  } else if (all.length === 0) {
    emptyText = <Empty description={t('recent.empty')} data-testid="recent-refunds-empty" />;
  } else {
    // None of the latest refunds is theirs: one click to the team's.
    emptyText = (
      <Empty description={t('recent.mine_empty')} data-testid="recent-refunds-empty">
        <Button onClick={() => choose('team')} data-testid="recent-refunds-show-team">
          {t('recent.show_team')}
        </Button>
      </Empty>
    );
  }

  return (
    <Card
      size="small"
      title={t('recent.title')}
      data-testid="recent-refunds"
      data-whose={hasOwn ? whose : 'team'}
      style={below.lg}
      extra={
        <Space>
          {hasOwn && (
            <Segmented<Whose>
              size="small"
              value={whose}
              onChange={choose}
              options={[
                { value: 'mine', label: <span data-testid="recent-refunds-mine">{t('recent.mine')}</span> },
                { value: 'team', label: <span data-testid="recent-refunds-team">{t('recent.team')}</span> },
              ]}
              data-testid="recent-refunds-whose"
            />
          )}
          <Button
            size="small"
            icon={<ReloadOutlined />}
            loading={loading}
            onClick={() => void load()}
            aria-label={t('common:actions.refresh')}
            title={t('common:actions.refresh')}
            data-testid="recent-refunds-refresh"
          />
        </Space>
      }
    >
      <ErrorAlert error={error} onRetry={() => void load()} style={below.md} />
      <RefundsTable
        refunds={shown}
        loading={loading && rows === null}
        emptyText={emptyText}
        rowTestId={(r) => `recent-refund-${r.refund_no}`}
        onOpenOrder={onOpenOrder}
        pageSize={PAGE_SIZE}
      />
    </Card>
  );
}
