// A payout opened from the day list: what it is, what it settles (composition and the
// movements with their order numbers) and, beside it, the bank line(s) it arrived as.
import { useEffect, useState } from 'react';
import { Card, Col, Descriptions, Drawer, Empty, List, Row, Spin, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useTranslation } from 'react-i18next';
import * as commands from '../../commands';
import { ErrorAlert } from '../../components/ErrorNotice';
import { useCommand } from '../../hooks/useCommand';
import { useSession } from '../../session';
import { formatDate, formatDateTime, formatMoney } from '../../format';
import { amountText, below, mono, small } from '../../styles';
import type { FundFlow, PayoutDetailOut, PayoutOut } from '../../types';
import { ARRIVAL_COLOR } from './settlementUi';

export function ArrivalTag({ arrival }: { arrival: PayoutOut['arrival'] }) {
  const { t } = useTranslation('settlements');
  return (
    <Tag color={ARRIVAL_COLOR[arrival]} title={t(`arrival_hint.${arrival}`)} data-arrival={arrival}>
      {t(`arrival.${arrival}`)}
    </Tag>
  );
}

function Composition({ p }: { p: PayoutOut }) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const c = p.composition;
  if (!c) {
    return (
      <Typography.Paragraph type="secondary" data-testid="payout-no-composition">
        {t('drawer.no_composition')}
      </Typography.Paragraph>
    );
  }
  const cur = p.payout.currency;
  const diff = p.payout.amount - c.total;
  const rows: [string, number][] = [
    ['payments', c.payments],
    ['refunds', c.refunds],
    ['fees', c.fees],
    ['disputes', c.disputes],
    ['other', c.other],
  ];
  return (
    <div data-testid="payout-composition">
      <Descriptions size="small" column={1} bordered>
        {rows.map(([k, v]) => (
          <Descriptions.Item key={k} label={t(`drawer.${k}`)}>
            <span style={amountText} data-testid={`composition-${k}`}>
              {formatMoney(v, cur, lang)}
            </span>
          </Descriptions.Item>
        ))}
        <Descriptions.Item label={<b>{t('drawer.total')}</b>}>
          <b style={amountText} data-testid="composition-total">
            {formatMoney(c.total, cur, lang)}
          </b>{' '}
          <Typography.Text type="secondary" style={small}>
            {t('drawer.items', { count: c.items })}
          </Typography.Text>
        </Descriptions.Item>
      </Descriptions>
      <div style={{ marginTop: 8 }}>
        {diff === 0 ? (
          <Tag color="success" data-testid="composition-check" data-ok="true">
            {t('drawer.composition_ok')}
          </Tag>
        ) : (
          <Tag color="error" data-testid="composition-check" data-ok="false">
            {t('drawer.composition_off', { amount: formatMoney(diff, cur, lang) })}
          </Tag>
        )}
      </div>
    </div>
  );
}

function Movements({ flows }: { flows: FundFlow[] }) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const columns: ColumnsType<FundFlow> = [
    { title: t('col.booked_at'), dataIndex: 'booked_at', key: 'booked_at', render: (v: string) => formatDateTime(v, lang) },
    { title: t('col.kind'), dataIndex: 'kind', key: 'kind', render: (k: FundFlow['kind']) => t(`kind.${k}`) },
    {
      title: t('col.order_no'),
      dataIndex: 'order_no',
      key: 'order_no',
      render: (v: string | null) => (v ? <span style={mono}>{v}</span> : '—'),
    },
    { title: t('col.source'), dataIndex: 'source_id', key: 'source_id', render: (v: string | null) => <span style={mono}>{v ?? '—'}</span> },
    { title: t('col.gross'), key: 'gross', align: 'right', render: (_: unknown, f) => <span style={amountText}>{formatMoney(f.gross, f.currency, lang)}</span> },
    { title: t('col.fee'), key: 'fee', align: 'right', render: (_: unknown, f) => <span style={amountText}>{formatMoney(f.fee, f.currency, lang)}</span> },
    { title: t('col.net'), key: 'net', align: 'right', render: (_: unknown, f) => <span style={amountText}>{formatMoney(f.net, f.currency, lang)}</span> },
  ];
  return (
    <Table<FundFlow>
      data-testid="payout-movements"
      size="small"
      rowKey={(f) => `${f.account}:${f.flow_id}`}
      columns={columns}
      dataSource={flows}
      pagination={{ pageSize: 50, hideOnSinglePage: true }}
      locale={{ emptyText: t('drawer.no_movements') }}
      scroll={{ x: true }}
    />
  );
}

function BankSide({ detail }: { detail: PayoutDetailOut }) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  if (detail.links.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('drawer.no_bank')} data-testid="payout-no-bank" />;
  }
  return (
    <div data-testid="payout-bank">
      {detail.links.map((l) => (
        <div key={l.id ?? l.bank_line_ids.join(',')} style={below.md}>
          <Typography.Text type="secondary" style={small}>
            {t('drawer.link', {
              rule: t(`rule.${l.rule}`),
              confidence: l.confidence,
              state: t(`link_state.${l.state}`),
            })}
          </Typography.Text>
          <List
            size="small"
            dataSource={detail.bank_lines.filter((b) => l.bank_line_ids.includes(b.id))}
            renderItem={(b) => (
              <List.Item data-testid={`payout-bank-line-${b.id}`}>
                <div style={{ width: '100%' }}>
                  <div style={{ display: 'flex', justifyContent: 'space-between', gap: 8 }}>
                    <span>{formatDate(b.line.booking_date, lang)}</span>
                    <b style={amountText}>{formatMoney(b.line.amount, b.line.currency, lang)}</b>
                  </div>
                  {b.line.counterparty && <div>{b.line.counterparty}</div>}
                  {b.line.text && (
                    <Typography.Text type="secondary" style={small}>
                      {b.line.text}
                    </Typography.Text>
                  )}
                  {b.line.references.length > 0 && <div style={{ ...mono, ...small }}>{b.line.references.join(' · ')}</div>}
                  <Typography.Text type="secondary" style={small}>
                    {t('drawer.line', { line: b.line.line, file: b.file_name })}
                  </Typography.Text>
                </div>
              </List.Item>
            )}
          />
        </div>
      ))}
    </div>
  );
}

export interface PayoutDrawerProps {
  payout: PayoutOut | null;
  onClose: () => void;
}

export default function PayoutDrawer({ payout, onClose }: PayoutDrawerProps) {
  const { t } = useTranslation('settlements');
  const { lang } = useSession();
  const [detail, setDetail] = useState<PayoutDetailOut | null>(null);
  const load = useCommand(commands.settlementPayout);
  const { run } = load;
  const id = payout?.id ?? null;

  useEffect(() => {
    setDetail(null);
    if (id === null) return;
    void run(id).then((r) => {
      if (r.status === 'ok') setDetail(r.value);
    });
  }, [id, run]);

  const p = payout?.payout;
  return (
    <Drawer
      open={payout !== null}
      onClose={onClose}
      width={Math.min(1100, typeof window !== 'undefined' ? window.innerWidth - 80 : 1100)}
      title={p ? t('drawer.title', { id: p.payout_id }) : ''}
      data-testid="payout-drawer"
    >
      {payout && p && (
        <div data-testid={`payout-drawer-${payout.id}`}>
          <Row gutter={16}>
            <Col xs={24} lg={14}>
              <Card size="small" title={t('drawer.payout')} style={below.md}>
                <Descriptions size="small" column={1}>
                  <Descriptions.Item label={t('col.account')}>{p.account}</Descriptions.Item>
                  <Descriptions.Item label={t('col.amount')}>
                    <b style={amountText} data-testid="payout-amount">
                      {formatMoney(p.amount, p.currency, lang)}
                    </b>
                  </Descriptions.Item>
                  <Descriptions.Item label={t('col.arrival')}>
                    <ArrivalTag arrival={payout.arrival} />
                  </Descriptions.Item>
                  <Descriptions.Item label={t('col.status')}>{t(`status.${p.status}`)}</Descriptions.Item>
                  <Descriptions.Item label={t('drawer.created_at')}>{formatDateTime(p.created_at, lang)}</Descriptions.Item>
                  <Descriptions.Item label={t('drawer.arrival_date')}>{formatDate(p.arrival_date, lang)}</Descriptions.Item>
                  {p.trace_id && (
                    <Descriptions.Item label={t('drawer.trace')}>
                      <span style={mono}>{p.trace_id}</span>
                    </Descriptions.Item>
                  )}
                  <Descriptions.Item label={t('drawer.kind')}>{p.automatic ? t('drawer.automatic') : t('drawer.manual')}</Descriptions.Item>
                </Descriptions>
              </Card>
              <Card size="small" title={t('drawer.composition')} style={below.md}>
                <Composition p={payout} />
              </Card>
            </Col>
            <Col xs={24} lg={10}>
              <Card size="small" title={t('drawer.bank')} style={below.md}>
                {load.loading && !detail ? <Spin /> : detail ? <BankSide detail={detail} /> : null}
              </Card>
            </Col>
          </Row>
          <ErrorAlert error={load.error} onRetry={() => id !== null && void run(id)} style={below.md} />
          <Card size="small" title={t('drawer.movements')}>
            {load.loading && !detail ? <Spin /> : <Movements flows={detail?.flows ?? []} />}
          </Card>
        </div>
      )}
    </Drawer>
  );
}
