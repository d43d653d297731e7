// Morning overview: one card per account, the last 30 days, and what needs attention today.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Badge, Button, Card, Col, Empty, List, Row, Space, Spin, Statistic, Tag, Tooltip, Typography } from 'antd';
import {
  ClockCircleOutlined,
  ExclamationCircleOutlined,
  KeyOutlined,
  ReloadOutlined,
  RightOutlined,
  RollbackOutlined,
} from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { onEvent } from '../api';
import * as commands from '../commands';
import { useSession } from '../session';
import { useNavigate } from '../nav';
import { Chart } from '../components/Chart';
import type { ChartClickParams, EChartsOption } from '../components/Chart';
import { ErrorAlert } from '../components/ErrorNotice';
import { useCommand } from '../hooks/useCommand';
import { below, COLOR, tabular, themed } from '../styles';
import { formatCount, formatDate, formatDateTime, formatMoney, minorToMajorNumber } from '../format';
import type { Dashboard, DashboardAccount, Lang, OutcomeClass, RunEvent } from '../types';
import { DISCREPANCY_CLASSES } from '../types';
import { useKeyWarningText, warningKey } from './keys/keyWarnings';


/** Line colours of the currencies' at-stake series (and their axes). */
const CURRENCY_COLORS = ['#1677ff', '#13a8a8', '#722ed1', '#2f54eb', '#eb2f96'];

export function buildChartOption(
  data: Dashboard,
  lang: Lang,
  labels: { discrepancies: string; open: string; unmatched: (c: string) => string; count: string; amount: string },
): EChartsOption {
  const currencies = Array.from(new Set(data.daily.flatMap((d) => Object.keys(d.unmatched)))).sort();
  const dates = data.daily.map((d) => d.date.slice(5));
  const moneyFmt = (currency: string) => (v: unknown) => {
    const n = typeof v === 'number' ? v : Number(v);
    try {
      return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', { style: 'currency', currency }).format(n);
    } catch {
      return `${n} ${currency}`;
    }
  };
  // Each currency has its own axis on the right (amounts of two currencies share no scale),
  // drawn in its line's colour; containLabel keeps every axis label inside the chart.
  const AXIS_STEP = 72;
  const compact = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', {
    notation: 'compact',
    maximumFractionDigits: 1,
  });
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0, left: 8, right: 8, type: 'scroll' },
    grid: {
      left: 16,
      right: 16 + AXIS_STEP * Math.max(0, currencies.length - 1),
      top: 64,
      bottom: 8,
      containLabel: true,
    },
    xAxis: { type: 'category', data: dates },
    yAxis: [
      { type: 'value', name: labels.count, minInterval: 1, position: 'left', nameTextStyle: { align: 'left' } },
      ...currencies.map((c, i) => ({
        type: 'value' as const,
        name: c,
        position: 'right' as const,
        offset: i * AXIS_STEP,
        splitLine: { show: false },
        axisLine: { show: true, lineStyle: { color: CURRENCY_COLORS[i % CURRENCY_COLORS.length] } },
        axisLabel: { formatter: (v: number) => compact.format(v) },
        nameTextStyle: { align: 'right' as const },
      })),
    ],
    series: [
      {
        name: labels.discrepancies,
        type: 'bar',
        data: data.daily.map((d) => d.discrepancies),
        itemStyle: { color: '#f0a35e' },
        barMaxWidth: 18,
      },
      {
        name: labels.open,
        type: 'bar',
        data: data.daily.map((d) => d.open),
        itemStyle: { color: '#e5484d' },
        barMaxWidth: 18,
      },
      ...currencies.map((c, i) => ({
        name: labels.unmatched(c),
        type: 'line' as const,
        yAxisIndex: i + 1,
        itemStyle: { color: CURRENCY_COLORS[i % CURRENCY_COLORS.length] },
        smooth: false,
        symbolSize: 4,
        // Display only: minor → major for the axis scale.
        data: data.daily.map((d) => minorToMajorNumber(d.unmatched[c] ?? 0, c)),
        tooltip: { valueFormatter: moneyFmt(c) },
      })),
    ],
  };
}

/**
 * Where a click on the chart leads: the discrepancies of that bill date, those still open for
 * the "still open" bar, all of them otherwise. Null for a click beside the days.
 */
export function chartDrillDown(
  data: Dashboard,
  params: ChartClickParams,
  openSeriesName: string,
): Record<string, string> | null {
  const day = params.dataIndex !== undefined ? data.daily[params.dataIndex] : undefined;
  if (!day) return null;
  return {
    date_from: day.date,
    date_to: day.date,
    states: params.seriesName === openSeriesName ? 'open,investigating' : 'open,investigating,resolved',
  };
}

function AccountCard({
  acc,
  running,
  lang,
}: {
  acc: DashboardAccount;
  running: string | null;
  lang: Lang;
}) {
  const { t } = useTranslation('dashboard');
  const navigate = useNavigate();
  const run = acc.last_run;
  const matched = run?.counts.matched ?? acc.counts.matched ?? 0;
  const byClass = DISCREPANCY_CLASSES.map((c) => [c, acc.counts[c] ?? 0] as [OutcomeClass, number]).filter(
    ([, n]) => n > 0,
  );
  // What the open discrepancies put at stake now (resolving them brings it to nothing), not
  // what the last run found.
  const atStake = Object.entries(acc.open_amounts).filter(([, v]) => v !== 0);
  const state = running ? 'running' : run ? 'done' : 'never';

  return (
    <Card
      data-testid={`dashboard-account-${acc.account}`}
      data-state={state}
      size="small"
      title={
        <Space size={4} wrap>
          <span>{acc.account}</span>
          <Tag>{t(`common:provider.${acc.provider}`)}</Tag>
          <Tag color="default">{acc.currency}</Tag>
        </Space>
      }
      extra={
        running ? (
          <Badge status="processing" text={t('running', { stage: t(`common:stage.${running}`) })} />
        ) : run ? (
          <Badge status="success" text={t('last_run_ok')} />
        ) : (
          <Badge status="default" text={t('never_run')} />
        )
      }
      style={{ height: '100%' }}
    >
      {run ? (
        <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
          <ClockCircleOutlined />{' '}
          {t('last_run', {
            date: formatDate(run.bill_date, lang),
            when: formatDateTime(run.finished_at, lang),
            who: run.started_by,
          })}
        </Typography.Paragraph>
      ) : (
        <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
          {t('never_run_hint')}
        </Typography.Paragraph>
      )}
      {/* Amounts at stake get half the card: "US$1,621.09" must fit at 1280 px. */}
      <Row gutter={12}>
        <Col span={6}>
          <Statistic title={t('matched')} value={formatCount(matched, lang)} valueStyle={tabular} />
        </Col>
        <Col span={6}>
          <Statistic
            title={t('open')}
            value={formatCount(acc.open, lang)}
            valueStyle={{ ...tabular, color: acc.open > 0 ? COLOR.danger : undefined }}
          />
        </Col>
        <Col span={12}>
          <div style={{ color: themed('text-tertiary', 'rgba(0,0,0,0.45)'), fontSize: 14, marginBottom: 4 }}>{t('at_stake')}</div>
          {atStake.length === 0 ? (
            <div style={tabular}>—</div>
          ) : (
            atStake.map(([cur, minor]) => (
              <div key={cur} style={{ ...tabular, fontSize: 20, lineHeight: 1.6, whiteSpace: 'nowrap' }} data-testid={`dashboard-at-stake-${acc.account}-${cur}`}>
                {formatMoney(minor, cur, lang)}
              </div>
            ))
          )}
        </Col>
      </Row>
      {byClass.length > 0 && (
        <div style={{ marginTop: 10 }}>
          {byClass.map(([c, n]) => (
            <Tag
              key={c}
              color={c === 'timing_difference' ? 'default' : 'orange'}
              style={{ cursor: 'pointer', marginBottom: 4 }}
              data-testid={`dashboard-class-${acc.account}-${c}`}
              onClick={() => navigate('discrepancies', { account: acc.account, classes: c })}
            >
              {t(`common:class.${c}`)}: <b style={tabular}>{formatCount(n, lang)}</b>
            </Tag>
          ))}
        </div>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  const { t } = useTranslation('dashboard');
  const { lang, can } = useSession();
  const warningText = useKeyWarningText();
  const navigate = useNavigate();
  const [data, setData] = useState<Dashboard | null>(null);
  // The last error stays shown while the dashboard reloads (it refreshes itself after runs).
  const { run: readDashboard, loading, error } = useCommand(() => commands.dashboard(30), {
    clearErrorOnRun: false,
  });
  const [loadedAt, setLoadedAt] = useState<Date | null>(null);
  /** account → current stage while a run is going. */
  const [running, setRunning] = useState<Record<string, string>>({});

  const load = useCallback(async () => {
    const r = await readDashboard();
    if (r.status !== 'ok') return;
    setData(r.value);
    setLoadedAt(new Date());
  }, [readDashboard]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    let unlisten: (() => void) | null = null;
    let alive = true;
    void onEvent<RunEvent>('run-event', (ev) => {
      if (ev.kind === 'stage') {
        setRunning((r) => ({ ...r, [ev.account]: ev.stage }));
      } else if (ev.kind === 'account_done' || ev.kind === 'account_failed') {
        setRunning((r) => {
          const { [ev.account]: _gone, ...rest } = r;
          return rest;
        });
      } else if (ev.kind === 'finished') {
        setRunning({});
        void load();
      }
    }).then((u) => {
      if (alive) unlisten = u;
      else u();
    });
    return () => {
      alive = false;
      unlisten?.();
    };
  }, [load]);

  const option = useMemo(
    () =>
      data
        ? buildChartOption(data, lang, {
            discrepancies: t('chart.discrepancies'),
            open: t('chart.open'),
            unmatched: (c) => t('chart.unmatched', { currency: c }),
            count: t('chart.count'),
            amount: t('chart.amount'),
          })
        : null,
    [data, lang, t],
  );

  const att = data?.attention;
  const refundsTarget = can('refund_approve') ? 'approvals' : can('order_view') ? 'orders' : null;

  return (
    <div>
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 16 }} wrap>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('title')}
        </Typography.Title>
        <Space>
          {loadedAt && (
            <Typography.Text type="secondary">{t('updated', { when: formatDateTime(loadedAt.toISOString(), lang) })}</Typography.Text>
          )}
          <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading} data-testid="dashboard-refresh">
            {t('common:actions.refresh')}
          </Button>
        </Space>
      </Space>

      <ErrorAlert error={error} onRetry={() => void load()} style={below.lg} />

      {!data && loading && (
        <div style={{ padding: 48, textAlign: 'center' }}>
          <Spin />
        </div>
      )}

      {data && att && (
        <>
          <Card size="small" title={t('attention.title')} style={{ marginBottom: 16 }}>
            <List size="small">
              <List.Item
                data-testid="attention-open"
                data-count={att.open_discrepancies}
                data-overdue={att.overdue_discrepancies}
                style={{ cursor: 'pointer' }}
                // The count is of open and investigating discrepancies: the link shows those.
                onClick={() => navigate('discrepancies', { states: 'open,investigating' })}
                actions={[<RightOutlined key="go" />]}
              >
                <Space>
                  <ExclamationCircleOutlined style={{ color: att.overdue_discrepancies ? COLOR.danger : COLOR.warning }} />
                  <span>{t('attention.open', { count: att.open_discrepancies })}</span>
                  {att.overdue_discrepancies > 0 && (
                    <Tag color="red">{t('attention.overdue', { count: att.overdue_discrepancies })}</Tag>
                  )}
                </Space>
              </List.Item>
              <List.Item
                  data-testid="attention-approvals"
                  data-count={att.refunds_awaiting_approval}
                  data-attention={att.refunds_needing_attention}
                  style={{ cursor: refundsTarget ? 'pointer' : undefined }}
                  onClick={() => refundsTarget && navigate(refundsTarget)}
                  actions={refundsTarget ? [<RightOutlined key="go" />] : undefined}
                >
                  <Space>
                    <RollbackOutlined />
                    <span>{t('attention.approvals', { count: att.refunds_awaiting_approval })}</span>
                    {att.refunds_needing_attention > 0 && (
                      <Tag color="volcano">
                        {t('attention.refunds_attention', { count: att.refunds_needing_attention })}
                      </Tag>
                    )}
                  </Space>
                </List.Item>
              <List.Item
                data-testid="attention-keys"
                data-count={att.keys.length}
                style={{ cursor: can('key_view') ? 'pointer' : undefined, display: 'block' }}
                onClick={() => can('key_view') && navigate('keys')}
              >
                <Space>
                  <KeyOutlined />
                  <span>
                    {att.keys.length === 0 ? t('attention.keys_ok') : t('attention.keys', { count: att.keys.length })}
                  </span>
                </Space>
                {att.keys.length > 0 && (
                  <ul style={{ margin: '6px 0 0 24px', padding: 0 }}>
                    {att.keys.map((k) => (
                      <li
                        key={`${k.account}-${k.purpose}-${warningKey(k)}`}
                        data-testid={`attention-key-${k.account}-${k.purpose}`}
                        data-code={k.code}
                      >
                        <b>{k.account}</b> · {t(`common:purpose.${k.purpose}`)}
                        {k.version != null && ` v${k.version}`}
                        {k.expires_at && (
                          <Tooltip title={formatDateTime(k.expires_at, lang)}>
                            <Tag color="orange" style={{ marginLeft: 6 }}>
                              {t('attention.expires', { date: formatDate(k.expires_at, lang) })}
                            </Tag>
                          </Tooltip>
                        )}
                        <div style={{ color: themed('text-secondary', 'rgba(0,0,0,0.55)') }}>
                          {warningText(
                            {
                              code: k.code,
                              version: k.version,
                              serial: k.serial,
                              at: k.at ?? (k.code === 'expires_soon' ? k.expires_at : null),
                              message: k.message,
                            },
                            k.purpose,
                          )}
                        </div>
                        {k.code === 'refresh_failed' && (
                          // The backend's text carries the provider's error.
                          <div style={{ color: themed('text-tertiary', 'rgba(0,0,0,0.45)'), fontSize: 12 }}>{k.message}</div>
                        )}
                      </li>
                    ))}
                  </ul>
                )}
              </List.Item>
            </List>
          </Card>

          {data.accounts.length === 0 ? (
            <Empty description={t('no_accounts')} />
          ) : (
            <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
              {data.accounts.map((a) => (
                <Col key={a.account} xs={24} md={12} xl={8}>
                  <AccountCard acc={a} running={running[a.account] ?? null} lang={lang} />
                </Col>
              ))}
            </Row>
          )}

          <Card size="small" title={t('chart.title', { days: data.daily.length })}>
            {option && (
              <Chart
                option={option}
                height={300}
                data-testid="dashboard-chart"
                onClick={(p) => {
                  const to = chartDrillDown(data, p, t('chart.open'));
                  if (to) navigate('discrepancies', to);
                }}
              />
            )}
          </Card>
        </>
      )}
    </div>
  );
}
